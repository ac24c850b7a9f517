import { expect } from 'chai';
import { evaluate, render, TemplateError } from '../../../src/template/index.js';

const scope = {
  etcd_name: 'etcd1',
  result: { rc: 0, stdout: 'ok' },
  hostvars: { '10.0.0.1': { etcd_name: 'etcd1' } },
  groups: { etcd: ['10.0.0.1', '10.0.0.9'] },
  xs: [1, 2],
  n: 3,
  s: 'text',
};

function failure(run: () => unknown): TemplateError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(TemplateError);
    return error as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

// template -> pattern the message must match, and the `.variable` it names (if any)
const undefinedTable: [string, RegExp, string | undefined][] = [
  ['{{ etcd_nme }}', /^undefined variable "etcd_nme" \(did you mean "etcd_name"\?\)$/, 'etcd_nme'],
  ['{{ nowhere_at_all }}', /^undefined variable "nowhere_at_all"$/, 'nowhere_at_all'],
  ['{{ result.stdot }}', /^"result" has no attribute "stdot" \(did you mean "stdout"\?\)$/, 'result.stdot'],
  ['{{ missing.attr }}', /^undefined variable "missing"$/, 'missing'],
  ["{{ hostvars['10.0.0.2'].etcd_name }}", /^"hostvars" has no key "10.0.0.2" \(did you mean "10.0.0.1"\?\)$/, 'hostvars["10.0.0.2"]'],
  ['{{ xs[5] }}', /^"xs" has no index 5 \(it has 2 items\)$/, 'xs[5]'],
  ['{{ n.real }}', /^"n" \(a int\) has no attribute "real"$/, 'n.real'],
  ["{{ groups.etcd | map('extract', hostvars, 'etcd_name') | list }}", /^"hostvars" has no key "10.0.0.9"/, undefined],
  ['{% for h in groups.etcd %}{{ hostvars[h].etcd_name }}{% endfor %}', /^"hostvars" has no key "10.0.0.9"/, undefined],
  ['{{ missing | upper }}', /^undefined variable "missing"$/, 'missing'],
  ['{{ missing ~ "x" }}', /^undefined variable "missing"$/, 'missing'],
  ['{% if missing %}x{% endif %}', /^undefined variable "missing"$/, 'missing'],
  ['{% for x in missing %}{% endfor %}', /^undefined variable "missing"$/, 'missing'],
  ["{{ 'x' | default(missing) }}", /^undefined variable "missing"$/, 'missing'],
  ['{{ missing | mandatory }}', /^mandatory undefined variable "missing"$/, 'missing'],
  ["{{ missing | mandatory('set missing in group_vars') }}", /^set missing in group_vars$/, 'missing'],
  ['{{ [] | first }}', /^first: "\[\]" is empty$/, undefined],
];

describe('template errors: undefined names', () => {
  for (const [template, pattern, variable] of undefinedTable) {
    it(`${template} -> ${pattern}`, () => {
      const error = failure(() => render(template, scope));
      expect(error.message).to.match(pattern);
      if (variable !== undefined) expect(error.variable).to.equal(variable);
    });
  }

  it('names the undefined variable from evaluate() too', () => {
    const error = failure(() => evaluate('etcd_nme == "x"', scope));
    expect(error.variable).to.equal('etcd_nme');
  });
});

// template -> message pattern, line, column
const syntaxTable: [string, RegExp, number, number][] = [
  ['{{ xs | lenght }}', /unknown filter "lenght" \(did you mean "length"\?\)/, 1, 9],
  ['{{ xs is definedd }}', /unknown test "definedd" \(did you mean "defined"\?\)/, 1, 10],
  ['{{ foo( }}', /unexpected "}" \(expected "\)"\)/, 1, 9],
  ['line one\n  {{ 1 + }}', /expected a value but found "}}"/, 2, 10],
  ['{{ }}', /expected an expression/, 1, 4],
  ["{{ 'open }}", /string is not closed/, 1, 4],
  ['{% if x %}never closed', /\{% if %\} is not closed \(expected \{% endif %\}\)/, 1, 4],
  ['{% endfor %}', /without a matching opening tag/, 1, 4],
  ['{% iff x %}{% endif %}', /unknown tag "iff" \(did you mean "if"\?\)/, 1, 4],
  ['{# unclosed', /comment is not closed/, 1, 1],
  ['{{ x ! y }}', /unexpected character "!"/, 1, 6],
  ['{% set x %}y{% endset %}', /block assignments/, 1, 10],
  ['{{ 1 2 }}', /expected "}}" but found "2"/, 1, 6],
];

describe('template errors: syntax, with positions', () => {
  for (const [template, pattern, line, col] of syntaxTable) {
    it(`${JSON.stringify(template)} -> line ${line} column ${col}`, () => {
      const error = failure(() => render(template, scope));
      expect(error.message).to.match(pattern);
      expect(error.message).to.contain(`line ${line}, column ${col}`);
      expect(error.position).to.deep.equal({ line, col });
    });
  }

  it('reports a syntax error in a bare expression', () => {
    expect(failure(() => evaluate('result.rc ==', scope)).message).to.match(/line 1, column 13: expected a value/);
  });
});

const runtimeTable: [string, RegExp][] = [
  ['{{ n + "x" }}', /unsupported operand types for \+: int and str/],
  ['{{ n < "x" }}', /cannot compare int with str/],
  ['{{ n / 0 }}', /division by zero/],
  ['{{ n | from_json }}', /from_json expects a string, not int/],
  ["{{ 'nope' | from_json }}", /from_json: the input is not valid JSON/],
  ["{{ xs | join(',', sepp=1) }}", /filter "join" got an unexpected keyword argument "sepp"/],
  ['{{ xs | map("nosuchfilter") | list }}', /unknown filter "nosuchfilter"/],
  ["{{ s | regex_replace('(', '') }}", /invalid regular expression "\("/],
  ['{{ s.nosuch() }}', /"s" \(a str\) has no method "nosuch"/],
  ['{{ etcd_name() }}', /"etcd_name" is not callable/],
  ['{% for a, b in xs %}{% endfor %}', /cannot unpack a int into 2 names/],
  ["{{ 'x' * 100000000 }}", /too large/],
  ['{{ n is failed }}', /the "failed" test expects a registered task result/],
];

describe('template errors: run time', () => {
  for (const [template, pattern] of runtimeTable) {
    it(`${template} -> ${pattern}`, () => expect(failure(() => render(template, scope)).message).to.match(pattern));
  }
});

describe('template safety: no prototype access', () => {
  const attempts = [
    '{{ xs.__proto__ }}',
    '{{ result.constructor }}',
    "{{ result['constructor'] }}",
    "{{ result['__proto__'] }}",
    '{{ s.constructor }}',
    "{{ s.constructor.constructor('return process')() }}",
    '{{ xs.constructor.prototype }}',
    "{{ result | attr('constructor') }}",
    '{{ __proto__ }}',
    '{{ constructor }}',
    "{{ xs | map(attribute='constructor') | list }}",
    "{{ 'x' | extract(result, 'constructor') }}",
    '{{ result.__class__ }}',
  ];
  for (const template of attempts) {
    it(`refuses ${template}`, () => {
      expect(() => render(template, scope)).to.throw(TemplateError);
    });
  }

  it('does not reach inherited members such as toString, hasOwnProperty or length', () => {
    expect(render('{{ result.toString is defined }}', scope)).to.equal(false);
    expect(render('{{ result.hasOwnProperty is defined }}', scope)).to.equal(false);
    expect(render('{{ xs.length is defined }}', scope)).to.equal(false);
    expect(render('{{ s.length is defined }}', scope)).to.equal(false);
  });

  it('does not read getters or functions placed in the scope', () => {
    let called = false;
    const tricky = {
      get secret(): string {
        called = true;
        return 'x';
      },
      fn: () => 'x',
    };
    expect(render('{{ obj.secret is defined }} {{ obj.fn is defined }}', { obj: tricky })).to.equal('False False');
    expect(called).to.equal(false);
  });

  it('does not read members of class instances', () => {
    expect(render('{{ d.getTime is defined }}', { d: new Date(0) })).to.equal(false);
  });

  it('builds dictionaries without touching Object.prototype', () => {
    render("{{ {'__proto__': {'polluted': 1}} | combine({'__proto__': {'polluted': 2}}) }}", {});
    render("{{ [{'key': '__proto__', 'value': {'polluted': 3}}] | items2dict }}", {});
    render('{{ \'{"__proto__": {"polluted": 4}}\' | from_json | combine({}) }}', {});
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});
