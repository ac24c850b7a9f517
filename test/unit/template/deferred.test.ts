import { expect } from 'chai';
import { Deferred, evaluate, isDeferred, render, renderDeep, TemplateError, truthy } from '../../../src/template/index.js';

function scope(): Record<string, unknown> {
  return {
    etcd_status: new Deferred('result of etcd_status'),
    xs: [1, 2],
    hostvars: {
      h1: { etcd_name: 'etcd1', probe: new Deferred('result of probe on h1') },
      h2: { etcd_name: 'etcd2', probe: new Deferred('result of probe on h2') },
    },
    groups: { etcd: ['h1', 'h2'] },
  };
}

// expression -> source of the Deferred it yields
const deferredTable: [string, string][] = [
  ['etcd_status', 'result of etcd_status'],
  ['etcd_status.stdout', 'result of etcd_status.stdout'],
  ["etcd_status['stdout']", "result of etcd_status['stdout']"],
  ['etcd_status.nonexistent.deeper', 'result of etcd_status.nonexistent.deeper'],
  ['etcd_status.stdout | from_json', 'result of etcd_status.stdout | from_json'],
  ['(etcd_status.stdout | from_json).health | bool', '(result of etcd_status.stdout | from_json).health | bool'],
  ["etcd_status.stdout | default('')", "result of etcd_status.stdout | default('')"],
  ['etcd_status.rc == 0', 'result of etcd_status.rc == 0'],
  ['0 != etcd_status.rc', '0 != result of etcd_status.rc'],
  ["'healthy' in etcd_status.stdout", "'healthy' in result of etcd_status.stdout"],
  ["'x' ~ etcd_status.stdout", "'x' ~ result of etcd_status.stdout"],
  ['etcd_status.rc + 1', 'result of etcd_status.rc + 1'],
  ['not etcd_status.failed', 'not result of etcd_status.failed'],
  ['-etcd_status.rc', '-result of etcd_status.rc'],
  ['etcd_status is failed', 'result of etcd_status is failed'],
  ['etcd_status.stdout is defined', 'result of etcd_status.stdout is defined'],
  ["etcd_status.stdout is search('ok')", "result of etcd_status.stdout is search('ok')"],
  ['true and etcd_status.rc == 0', 'true and result of etcd_status.rc == 0'],
  ['etcd_status.rc == 0 or true', 'result of etcd_status.rc == 0 or true'],
  ["'a' if etcd_status.rc == 0 else 'b'", "'a' if result of etcd_status.rc == 0 else 'b'"],
  ["etcd_status.stdout.split(',')", "result of etcd_status.stdout.split(',')"],
  ['xs[etcd_status.rc]', 'xs[result of etcd_status.rc]'],
  ['[etcd_status.rc, 1]', '[result of etcd_status.rc, 1]'],
  ["{'rc': etcd_status.rc}", "{'rc': result of etcd_status.rc}"],
  ['xs | join(etcd_status.stdout)', 'xs | join(result of etcd_status.stdout)'],
  [
    "groups.etcd | map('extract', hostvars, 'probe') | map(attribute='rc') | join(',')",
    "groups.etcd | map('extract', hostvars, 'probe') | map(attribute='rc') | join(',')",
  ],
  ['hostvars.h1.probe.rc == 0 and hostvars.h2.probe.rc == 0', 'result of probe on h1.rc == 0 and hostvars.h2.probe.rc == 0'],
  ['[etcd_status] | to_json', '[result of etcd_status] | to_json'],
];

describe('template Deferred propagation', () => {
  for (const [expression, source] of deferredTable) {
    it(`${expression} -> <deferred: ${source}>`, () => {
      const value = evaluate(expression, scope());
      expect(isDeferred(value), `got ${JSON.stringify(value)}`).to.equal(true);
      expect((value as Deferred).source).to.equal(source);
    });
  }

  it('does not defer what is known without the run-time value', () => {
    expect(evaluate('false and etcd_status.rc == 0', scope())).to.equal(false);
    expect(evaluate('true or etcd_status.rc == 0', scope())).to.equal(true);
    expect(evaluate("'a' if xs else etcd_status", scope())).to.equal('a');
    expect(evaluate("groups.etcd | map('extract', hostvars, 'etcd_name') | join(',')", scope())).to.equal('etcd1,etcd2');
    expect(evaluate('hostvars | length', scope())).to.equal(2);
    expect(evaluate('etcd_status | default(1) is defined', scope())).to.satisfy(isDeferred);
  });

  it('renders text with <deferred: ...> in place of each run-time part', () => {
    const value = render('id={{ etcd_status.stdout | trim }} n={{ xs | length }}', scope());
    expect(value).to.be.instanceOf(Deferred);
    expect((value as Deferred).source).to.equal('id=<deferred: result of etcd_status.stdout | trim> n=2');
    expect(String(value)).to.equal('<deferred: id=<deferred: result of etcd_status.stdout | trim> n=2>');
  });

  it('returns the Deferred itself for a sole {{ }}', () => {
    const value = render('{{ etcd_status.stdout }}', scope());
    expect((value as Deferred).source).to.equal('result of etcd_status.stdout');
  });

  it('defers a whole if or for block whose condition or list is run-time', () => {
    const ifValue = render('a{% if etcd_status.rc == 0 %}ok{% endif %}b', scope());
    expect((ifValue as Deferred).source).to.equal('a<deferred: if result of etcd_status.rc == 0>b');
    const forValue = render('{% for l in etcd_status.stdout_lines %}{{ l }}{% endfor %}', scope());
    expect((forValue as Deferred).source).to.equal('<deferred: for l in result of etcd_status.stdout_lines>');
  });

  it('keeps a Deferred through {% set %}', () => {
    const value = render('{% set out = etcd_status.stdout %}[{{ out | upper }}]', scope());
    expect((value as Deferred).source).to.equal('[<deferred: result of etcd_status.stdout | upper>]');
  });

  it('keeps Deferred values in place inside renderDeep structures', () => {
    const value = renderDeep({ cmd: 'echo {{ etcd_status.stdout }}', n: '{{ xs | length }}' }, scope()) as Record<string, unknown>;
    expect(value.n).to.equal(2);
    expect((value.cmd as Deferred).source).to.equal('echo <deferred: result of etcd_status.stdout>');
  });

  it('has no truth value: truthy() refuses instead of guessing', () => {
    expect(() => truthy(new Deferred('x'))).to.throw(TemplateError, /known only at run time/);
  });

  it('still reports undefined variables next to a Deferred', () => {
    expect(() => evaluate('etcd_status.rc == 0 and nope', scope())).not.to.throw();
    expect(() => evaluate('nope == etcd_status.rc', scope())).to.throw(TemplateError, /undefined variable "nope"/);
    expect(() => render('{{ etcd_status.stdout ~ nope }}', scope())).to.throw(TemplateError, /undefined variable "nope"/);
  });
});
