// YAML and command lines as Ansible reads them where the `yaml` package or a plain shell would differ,
// checked against PyYAML and Ansible's own splitter where python3 and Ansible are installed.
import { expect } from 'chai';
import { ansibleCommandLine } from '../../../src/config/key-value-args.js';
import { parseYaml } from '../../../src/config/yaml-source.js';
import { formatProblems } from '../../../src/config/format-problems.js';
import { askPython } from '../../helpers/python-oracle.js';

const yamlCases: [string, string, unknown][] = [
  [
    'a double-quoted command continued on tab-led lines (kubeasz roles/cluster-restore)',
    '- name: restore\n  shell: "cd /b && \\\n\tETCDCTL_API=3 etcdutl snapshot restore s.db \\\n\t--name etcd-1"\n',
    [{ name: 'restore', shell: 'cd /b && ETCDCTL_API=3 etcdutl snapshot restore s.db --name etcd-1' }],
  ],
  ['continuation lines less indented than YAML requires', 'a:\n  b: "one\ntwo\n three"\n', { a: { b: 'one two three' } }],
  ['a single-quoted scalar with tab-led lines', "- x: 'a\n\tb ''c'''\n", [{ x: "a b 'c'" }]],
  ['an empty line inside the scalar', 'k: "a\n\n\tb"\n', { k: 'a\nb' }],
  [
    'quotes inside plain text and block scalars are not scalars',
    '- s: it\'s "x\n  t: |\n    don\'t "\n  u: "a\n\tb"\n',
    [{ s: 'it\'s "x', t: 'don\'t "\n', u: 'a b' }],
  ],
  [
    'a folded single-quoted command keeps its backslashes (94.backup.yml)',
    "- shell: 'for i in x;do \\\n      echo $i \\\n    done'\n",
    [{ shell: 'for i in x;do \\ echo $i \\ done' }],
  ],
];

describe('YAML as PyYAML reads it', () => {
  for (const [what, text, expected] of yamlCases) {
    it(what, () => {
      const parsed = parseYaml('inline.yml', text);
      expect(parsed.problems).to.deep.equal([]);
      expect(parsed.value).to.deep.equal(expected);
    });
  }

  it('agrees with PyYAML on every case (where python3-yaml is installed)', function () {
    const python = askPython({ yaml: yamlCases.map(([, text]) => text) });
    if (!python || python.yaml.some((r) => 'missing' in r)) this.skip();
    yamlCases.forEach(([what, text], index) => {
      const truth = python.yaml[index];
      expect(truth && 'value' in truth ? truth.value : truth, what).to.deep.equal(parseYaml('inline.yml', text).value);
    });
  });

  it('still reports a quote that is never closed, at the line and column written', () => {
    const text = '- name: x\n  shell: "cd /b && \\\n\tETCDCTL_API=3 etcdutl\n- name: y\n  shell: true\n';
    const parsed = parseYaml('inline.yml', text);
    expect(parsed.value).to.equal(undefined);
    expect(formatProblems(parsed.problems.slice(0, 1)))
      .to.include('inline.yml:2:10: error: YAML: this quote is never closed')
      .and.include('  2 |   shell: "cd /b && \\');
  });

  it('points at the columns written even on re-indented lines', () => {
    // A duplicate key right after a tab-continued scalar: the position is the one in the file.
    const parsed = parseYaml('inline.yml', 'a: "x\n\ty"\na: 1\n');
    expect(parsed.problems.map((p) => `${p.code} ${p.loc?.line}:${p.loc?.col}`)).to.deep.equal(['yaml.duplicate-key 3:1']);
  });
});

const commandLines: [string, string][] = [
  [
    'for ip in a b;do \\ ETCDCTL_API=3 etcdctl \\ --endpoints=x \\ endpoint health; \\ done',
    'for ip in a b;do ETCDCTL_API=3 etcdctl --endpoints=x endpoint health; done',
  ],
  ['echo "a \\ b" \'c \\ d\'', 'echo "a \\ b" \'c \\ d\''],
  ['echo {{ x \\ y }}', 'echo {{ x y }}'],
  ['etcdctl \\\n  --endpoints=x \\\n  endpoint health\n', 'etcdctl  --endpoints=x  endpoint health\n'],
  ['cat <<EOF\nline  two\nEOF\n', 'cat <<EOF\nline  two\nEOF\n'],
  ['echo a\\ b c\\', 'echo a\\ b c\\'],
  ['printf "%s\\n" "two  spaces"', 'printf "%s\\n" "two  spaces"'],
];

describe("command lines as Ansible's shell and command modules receive them", () => {
  for (const [input, expected] of commandLines) {
    it(JSON.stringify(input), () => expect(ansibleCommandLine(input)).to.equal(expected));
  }

  it('leaves a line with unbalanced quotes as written (Ansible refuses it; the shell will say why)', () => {
    expect(ansibleCommandLine("echo don't")).to.equal(undefined);
  });

  it("agrees with Ansible's split_args and join_args on every case (where Ansible is installed)", function () {
    const python = askPython({ commandLine: commandLines.map(([input]) => input) });
    if (!python || python.commandLine.some((r) => 'missing' in r)) this.skip();
    commandLines.forEach(([input], index) => {
      const truth = python.commandLine[index];
      expect(ansibleCommandLine(input), input).to.equal(truth && 'text' in truth ? truth.text : undefined);
    });
  });
});
