// Files at size: a 1,000-host YAML inventory still points at its one bad line; a 10,000-task playbook and a
// 1 MB line load; YAML with more lines and flow items than the parser can take in bounded memory is refused
// before parsing, at the line where the limit is passed.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventory } from '../../../src/config/inventory.js';
import { loadPlaybook } from '../../../src/config/playbook.js';
import { parseYaml } from '../../../src/config/yaml-source.js';
import { MAX_YAML_MARKS, overYamlLimit } from '../../../src/config/yaml-size.js';
import { ConfigError } from '../../../src/errors.js';
import { fakeCatalog } from './fake-catalog.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.severity} ${p.code} ${p.loc?.line}:${p.loc?.col}`);
    throw error;
  }
  return [];
}

function playbookOf(tasks: string[]): string {
  return ['- hosts: all', '  gather_facts: false', '  tasks:', ...tasks].join('\n') + '\n';
}

describe('configuration files at size', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'orchestrate-size-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a 1,000-host YAML inventory loads, and one bad value among them is reported at its file:line:col', () => {
    const lines = ['all:', '  children:', '    etcd:', '      hosts:', '        10.0.0.1:', '    kube_node:', '      hosts:'];
    for (let i = 0; i < 1000; i++)
      lines.push(`        node-${String(i).padStart(4, '0')}: { ansible_host: 10.1.${Math.floor(i / 250)}.${i % 250}, rack: r${i % 7} }`);
    const { inventory } = parseInventory('inline/big.yml', lines.join('\n'));
    expect(inventory.hosts.size).to.equal(1001);
    expect(inventory.hosts.get('node-0999')?.vars).to.include({ ansible_host: '10.1.3.249' });
    // Host 737 sits on line 8 + 737; its port is not a number.
    lines[7 + 737] = '        node-0737: { ansible_host: 10.1.2.237, ansible_port: abc }';
    const problems = problemsOf(() => parseInventory('inline/big.yml', lines.join('\n')));
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^error \S+ 745:\d+$/);
  });

  it('a 10,000-task playbook loads with every task, and a typo in task 7,345 is reported at its line', async () => {
    const tasks: string[] = [];
    for (let i = 0; i < 10_000; i++) tasks.push(`    - name: task ${i}`, `      shell: echo ${i}`);
    writeFileSync(join(dir, 'ten-k.yml'), playbookOf(tasks));
    const playbook = await loadPlaybook(join(dir, 'ten-k.yml'), fakeCatalog);
    expect(playbook.plays[0]!.tasks).to.have.length(10_000);
    tasks[2 * 7345 + 1] = '      shelll: echo bad';
    writeFileSync(join(dir, 'ten-k-bad.yml'), playbookOf(tasks));
    const error = await loadPlaybook(join(dir, 'ten-k-bad.yml'), fakeCatalog).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => `${p.code} ${p.loc?.line}:${p.loc?.col}`)).to.deep.equal([`${problems[0]!.code} ${3 + 2 * 7345 + 2}:7`]);
    expect(problems[0]!.message).to.include('shelll');
  });

  it('a 1 MB line in a playbook loads; an error on the next line is still located, and the long line is not echoed', async () => {
    const long = `      shell: echo ${'x'.repeat(1024 * 1024)}`;
    writeFileSync(join(dir, 'long.yml'), playbookOf(['    - name: long', long]));
    const playbook = await loadPlaybook(join(dir, 'long.yml'), fakeCatalog);
    expect(playbook.plays[0]!.tasks).to.have.length(1);
    writeFileSync(join(dir, 'long-bad.yml'), playbookOf(['    - name: long', long, '      bogus_key: 1']));
    const error = (await loadPlaybook(join(dir, 'long-bad.yml'), fakeCatalog).catch((e: unknown) => e)) as ConfigError;
    expect(error.problems.map((p) => `${p.loc?.line}:${p.loc?.col}`)).to.deep.equal(['6:7']);
    expect(error.problems[0]!.lineText).to.equal('      bogus_key: 1');
  });

  it('counts lines and flow items, and says where the limit is passed', () => {
    expect(overYamlLimit('a: [1, 2]\nb: {c: 1}\n', 5)).to.equal(undefined);
    // marks: [ , \n { \n -> the 6th mark passes 5; with a limit of 4 the 5th (the last newline) does.
    expect(overYamlLimit('a: [1, 2]\nb: {c: 1}\n', 4)).to.equal(19);
    expect(overYamlLimit('x'.repeat(5_000_000))).to.equal(undefined);
  });

  it(`YAML with more than ${MAX_YAML_MARKS} lines and flow items is refused before parsing, at file:line:col`, () => {
    const text = `all:\n  vars:\n    x: [${'0,'.repeat(MAX_YAML_MARKS)}0]\n`;
    const parsed = parseYaml('dense.yml', text);
    expect(parsed.value).to.equal(undefined);
    expect(parsed.problems.map((p) => `${p.code} ${p.loc?.file}:${p.loc?.line}`)).to.deep.equal(['yaml.too-large dense.yml:3']);
    expect(parsed.problems[0]!.hint).to.include('split');
    // The document was never parsed: the source holds an empty one.
    expect(parsed.source.doc.contents).to.equal(null);
  });
});
