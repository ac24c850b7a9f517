import { expect } from 'chai';
import { formatProblems } from '../../../src/config/format-problems.js';
import { locate, parseYaml, pointerToPath, problemAt } from '../../../src/config/yaml-source.js';
import type { ConfigProblem } from '../../../src/errors.js';

const text = `all:
  children:
    etcd:
      hosts:
        10.0.0.1:
        a/b:
          etcd_name: x
      vars: {}
`;

describe('yaml-source', () => {
  const { source, problems } = parseYaml('inv.yml', text);

  it('parses without problems', () => {
    expect(problems).to.deep.equal([]);
  });

  const table: [string, 'key' | 'value', string][] = [
    ['/all/children/etcd/hosts/a~1b/etcd_name', 'value', '7:22'],
    ['/all/children/etcd/hosts/a~1b/etcd_name', 'key', '7:11'],
    ['/all/children/etcd/hosts/10.0.0.1', 'key', '5:9'],
    ['/all/children/etcd/hosts/10.0.0.1', 'value', '5:9'], // empty value: the key
    ['/all/children/etcd/vars', 'value', '8:13'],
    ['/all/children/etcd', 'value', '4:7'], // a mapping: its first key (where `required` errors point)
    ['/all/children/etcd/missing/deeper', 'value', '4:7'], // nearest existing ancestor
    ['', 'value', '1:1'],
  ];
  for (const [pointer, target, expected] of table) {
    it(`locates ${pointer || '(root)'} (${target}) at ${expected}`, () => {
      const loc = locate(source, pointerToPath(pointer), target);
      expect(`${loc.line}:${loc.col}`).to.equal(expected);
    });
  }

  it('attaches the offending line to a problem', () => {
    const problem = problemAt(source, ['all', 'children', 'etcd', 'hosts', 'a/b', 'etcd_name'], { code: 't', message: 'm' });
    expect(problem).to.deep.equal({
      severity: 'error',
      code: 't',
      message: 'm',
      loc: { file: 'inv.yml', line: 7, col: 22 },
      lineText: '          etcd_name: x',
    });
  });

  describe('YAML 1.1, as Ansible reads it', () => {
    const table: [string, unknown][] = [
      ['v: yes', { v: true }],
      ['v: off', { v: false }],
      ['v: 0644', { v: 420 }],
      ['mode: 0644', { mode: '0644' }], // handed on as written: no module can misread it
      ['directory_mode: 0750', { directory_mode: '0750' }],
      ['modes: 0644', { modes: 420 }],
      ["mode: '644'", { mode: '644' }],
      ['v: 2024-01-01', { v: '2024-01-01' }], // timestamps stay strings
      ['v: 0o644', { v: '0o644' }],
    ];
    for (const [yaml, expected] of table) {
      it(`${yaml} -> ${JSON.stringify(expected)}`, () => {
        const parsed = parseYaml('t.yml', yaml);
        expect(parsed.problems).to.deep.equal([]);
        expect(parsed.value).to.deep.equal(expected);
      });
    }

    it('warns about base-60 numbers', () => {
      const parsed = parseYaml('t.yml', 'delay: 1:30\n');
      expect(parsed.value).to.deep.equal({ delay: 90 });
      expect(parsed.problems.map((p) => `${p.severity} ${p.code} ${p.loc?.line}:${p.loc?.col}`)).to.deep.equal(['warning yaml.base60-number 1:8']);
    });

    it('refuses a mode that reads as decimal, and 0644 under a %YAML 1.2 directive', () => {
      expect(parseYaml('t.yml', 'mode: 644\n').problems.map((p) => p.message)).to.deep.equal([
        'mode 644 is read as the decimal number 644 (octal 1204), not as octal 644',
      ]);
      expect(parseYaml('t.yml', '%YAML 1.2\n---\nmode: 0644\n').problems.map((p) => p.message)).to.deep.equal([
        'mode 0644 is read as the decimal number 644 (octal 1204), not as octal 0644',
      ]);
    });

    it('refuses tags whose meaning would be lost (Ansible Vault, !unsafe)', () => {
      const parsed = parseYaml('t.yml', "a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\nb: !unsafe '{{ x }}'\n");
      expect(parsed.value).to.equal(undefined);
      expect(parsed.problems.map((p) => `${p.code} ${p.loc?.line}:${p.loc?.col} ${p.message}`)).to.deep.equal([
        'yaml.unknown-tag 1:4 the YAML tag !vault is not supported',
        'yaml.unknown-tag 3:4 the YAML tag !unsafe is not supported',
      ]);
    });

    it('collects every YAML error, not just the first', () => {
      const parsed = parseYaml('t.yml', 'a: 1\na: 2\nb: [1, 2\n');
      expect(parsed.value).to.equal(undefined);
      expect(parsed.problems.filter((p) => p.severity === 'error').length).to.be.greaterThan(1);
      expect(parsed.problems.map((p) => p.code)).to.include('yaml.duplicate-key');
    });
  });
});

describe('formatProblems', () => {
  it('prints position, line, caret, expected and fix; sorted by file and position', () => {
    const problems: ConfigProblem[] = [
      { severity: 'warning', code: 'w', message: 'later', loc: { file: 'a.yml', line: 12, col: 3 }, lineText: '  x: 1' },
      {
        severity: 'error',
        code: 'e',
        message: 'earlier',
        expected: 'a thing',
        hint: 'do it',
        loc: { file: 'a.yml', line: 2, col: 5 },
        lineText: '\tab: c',
      },
      { severity: 'error', code: 'n', message: 'no position', hint: 'check the path' },
    ];
    expect(formatProblems(problems)).to.equal(
      [
        'a.yml:2:5: error: earlier',
        '  2 | \tab: c',
        '    | \t   ^',
        '  expected: a thing',
        '  fix: do it',
        'a.yml:12:3: warning: later',
        '  12 |   x: 1',
        '     |   ^',
        'error: no position',
        '  fix: check the path',
        '',
      ].join('\n'),
    );
  });

  it('widens the caret padding for double-width characters', () => {
    const out = formatProblems([
      { severity: 'error', code: 'e', message: 'm', loc: { file: 'r.yml', line: 1, col: 9 }, lineText: '- name: 停止 etcd' },
    ]);
    expect(out.split('\n')[2]).to.equal('    |         ^');
    const wide = formatProblems([
      { severity: 'error', code: 'e', message: 'm', loc: { file: 'r.yml', line: 1, col: 12 }, lineText: '- name: 停止 etcd' },
    ]);
    expect(wide.split('\n')[2]).to.equal('    |              ^');
  });

  it('reads the line from the file when a problem carries only a position', () => {
    const out = formatProblems([
      { severity: 'error', code: 'e', message: 'm', loc: { file: 'test/fixtures/config/good/inventory.yml', line: 2, col: 1 } },
    ]);
    expect(out).to.equal('test/fixtures/config/good/inventory.yml:2:1: error: m\n  2 | all:\n    | ^\n');
  });
});
