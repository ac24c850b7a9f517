import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { Deferred, isDeferred, render } from '../../../src/template/index.js';

// Each argument printf receives, NUL-terminated, exactly as /bin/sh split the command line.
function shellWords(commandLine: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${commandLine}`], { timeout: 5000 }).toString();
  return out.split('\0').slice(0, -1);
}

const hostile = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  "it's",
  '"double"',
  'line1\nline2',
  '$HOME',
  '*',
  '~root',
  'a b\tc',
  '',
  '-n',
  '\\',
  "'; echo pwned; '",
  '&& touch /tmp/pwned ||',
  '#comment',
  '{{ not a template }}',
];

describe('template render with shellQuote', () => {
  for (const value of hostile) {
    it(`keeps ${JSON.stringify(value)} one unchanged word`, () => {
      const command = render('{{ value }}', { value }, { shellQuote: true });
      expect(command).to.be.a('string');
      expect(shellWords(command as string)).to.deep.equal([value]);
    });
  }

  it('quotes every {{ }} and leaves the literal text as shell code', () => {
    const scope = { name: 'etcd 1; reboot', dir: '/var/lib/$(id)' };
    const command = render('--name {{ name }} --data-dir={{ dir }}', scope, { shellQuote: true }) as string;
    expect(shellWords(command)).to.deep.equal(['--name', 'etcd 1; reboot', '--data-dir=/var/lib/$(id)']);
  });

  it('quotes results inside loops and filters', () => {
    const scope = { hosts: ['a b', "c'd"], map: { k: '$(x)' } };
    const command = render('{% for h in hosts %}{{ h | upper }} {% endfor %}{{ map.k }}', scope, { shellQuote: true }) as string;
    expect(shellWords(command)).to.deep.equal(['A B', "C'D", '$(x)']);
  });

  it('passes lists and dictionaries as one JSON word', () => {
    const scope = { list: ['a; b', '$(c)'], dict: { "k'": 'v' } };
    const command = render('{{ list }} {{ dict }}', scope, { shellQuote: true }) as string;
    expect(shellWords(command)).to.deep.equal(['["a; b", "$(c)"]', '{"k\'": "v"}']);
  });

  it('quotes a sole {{ }} too instead of returning the native value', () => {
    expect(render('{{ n }}', { n: 5 }, { shellQuote: true })).to.equal('5');
    expect(render('{{ list }}', { list: [1] }, { shellQuote: true })).to.equal("'[1]'");
  });

  it('keeps a run-time value as a Deferred rather than quoting a guess', () => {
    const result = render('etcdctl member remove {{ member.stdout }}', { member: new Deferred('member') }, { shellQuote: true });
    expect(isDeferred(result)).to.equal(true);
    expect((result as Deferred).source).to.equal('etcdctl member remove <deferred: member.stdout>');
  });
});
