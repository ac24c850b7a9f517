// INI inventories: format told by content, host ranges, every problem located at file:line:col.
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HostRangeError, expandHostPattern } from '../../../src/config/host-ranges.js';
import { inventoryFormat, loadInventory, parseInventory } from '../../../src/config/inventory.js';
import { ConfigError } from '../../../src/errors.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.severity} ${p.code} ${p.loc?.line}:${p.loc?.col}`);
    throw error;
  }
  return [];
}

describe('inventory format, told by content', () => {
  const table: [string, 'ini' | 'yaml'][] = [
    ['[etcd]\n10.0.0.1\n', 'ini'],
    ['# comment\n; comment\n\n[all:vars]\nx=1\n', 'ini'],
    ['10.0.0.1 a=1\n[etcd]\n', 'ini'],
    ['web01\n', 'ini'],
    ['web01:2222\n', 'ini'],
    ['host1 note="a: b"\n', 'ini'],
    ['all:\n  hosts:\n', 'yaml'],
    ['---\nall:\n', 'yaml'],
    ['"all":\n', 'yaml'],
    ['{"all": {}}\n', 'yaml'],
    ['- hosts: all\n', 'yaml'],
    ['# only a comment\n', 'yaml'],
    ['# CR line endings (old Mac editors)\r[etcd]\r10.0.0.1\r', 'ini'],
    ['# CRLF\r\n[etcd]\r\n10.0.0.1\r\n', 'ini'],
  ];
  for (const [text, format] of table) {
    it(`${JSON.stringify(text)} is ${format}`, () => expect(inventoryFormat(text)).to.equal(format));
  }
});

describe('INI host patterns and ranges', () => {
  const table: [string, string[], number?][] = [
    ['10.0.0.[1:3]', ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ['node[a:c]', ['nodea', 'nodeb', 'nodec']],
    ['web[01:10:3]', ['web01', 'web04', 'web07', 'web10']],
    ['db-[a:f:2]', ['db-a', 'db-c', 'db-e']],
    ['r[1:2]-n[x:y]', ['r1-nx', 'r1-ny', 'r2-nx', 'r2-ny']],
    ['[:2]x', ['0x', '1x', '2x']],
    ['app[8:9]:2222', ['app8', 'app9'], 2222],
    ['[fd00::5]:2200', ['fd00::5'], 2200],
    ['fd00::1', ['fd00::1']],
    ['web-01:22', ['web-01'], 22],
    ['zone[A:C]', ['zoneA', 'zoneB', 'zoneC']],
    // Python's range(begin, end + 1, step): backwards with a negative step, nothing when it runs the other way.
    ['down[5:1:-1]', ['down5', 'down4', 'down3']],
    ['zero[05:-1:-2]', ['zero05', 'zero03', 'zero01']],
    ['none[3:1]', []],
    ['never[1:3:-1]', []],
    ['u[1_0:1_2]', ['u10', 'u11', 'u12']],
    ['big[9007199254740993:9007199254740994]', ['big9007199254740993', 'big9007199254740994']],
    ['case[y:B]', ['casey', 'casez', 'caseA', 'caseB']],
    ['multi[ab:cd]', ['multia', 'multib', 'multic']],
    ['[fe80::1%eth0]:2201', ['fe80::1%eth0'], 2201],
    ['unported:0', ['unported']],
  ];
  for (const [pattern, hosts, port] of table) {
    it(`${pattern} -> ${hosts.join(' ')}${port ? ` port ${port}` : ''}`, () => {
      expect(expandHostPattern(pattern)).to.deep.equal(port === undefined ? { hosts } : { hosts, port });
    });
  }
  const errors: [string, string][] = [
    ['node[1:]', 'has no end'],
    ['node[a:5]', 'must be a number or a letter'],
    ['node[01:100]', 'same number of digits'],
    ['node[c:a]', 'must run forwards'],
    ['node[1:3:0]', 'cannot be 0'],
    ['node[a:c:0]', 'must be a number'],
    ['no|de[1:2]', 'cannot contain "|"'],
    ['n' + '[1:1]'.repeat(901), 'more than 900 ranges'],
    ['node[1]', '[begin:end]'],
    ['node[1:100000000]', 'more than 100000 hosts'],
    ['web:', 'cannot end in ":"'],
    ['---', 'YAML'],
  ];
  for (const [pattern, message] of errors) {
    it(`${pattern.slice(0, 40)} is refused: ${message}`, () => expect(() => expandHostPattern(pattern)).to.throw(HostRangeError, message));
  }

  it('stops at the limit it is given, before building the names', () => {
    expect(() => expandHostPattern('n[1:10]', 5))
      .to.throw(HostRangeError, 'more than 5 hosts')
      .with.property('overLimit', true);
    expect(() => expandHostPattern('n[1:3]x[1:3]', 8))
      .to.throw(HostRangeError)
      .with.property('overLimit', true);
    expect(() => expandHostPattern('n[1:99999999999999999999]')).to.throw(HostRangeError, 'more than 100000 hosts');
  });
});

describe('INI inventories: problems at file:line:col', () => {
  const table: [string, string, string[]][] = [
    ['undefined child', '[etcd]\nh1\n[k8s:children]\netcd\nkube_mastr\n', ['error inventory.ini-undefined-group 5:1']],
    ['vars of an undefined group', '[etcd]\nh1\n[kube_node:vars]\nx=1\n', ['error inventory.ini-undefined-group 3:2']],
    ['unknown section type', '[etcd:members]\nh1\n', ['error inventory.ini-section 1:7']],
    ['section with a space', '[kube master]\nh1\n', ['error inventory.ini-section 1:1']],
    ['unclosed quote', "[etcd]\nh1 a='x\nh2\n", ['error inventory.ini-quote 2:6']],
    ['host variable without =', '[etcd]\nh1 k8s_nodename cp\n', ['error inventory.ini-host-var 2:4', 'error inventory.ini-host-var 2:17']],
    ['group variable without =', '[etcd]\nh1\n[etcd:vars]\n  DATA /x\n', ['error inventory.ini-group-var 4:3']],
    ['bad range', '[etcd]\n  node[1:]\n', ['error inventory.ini-host 2:3']],
    ['child naming its parent', '[a:children]\nb\n[b:children]\na\n', ['error inventory.group-cycle 4:1']],
    ['a group as its own child', '[a:children]\na\n', ['error inventory.group-cycle 2:1']],
    ['wrong type of a known variable', '[etcd]\nh1 ansible_port=x22\n', ['error inventory.type 2:17']],
    ['a set, which ansible-inventory cannot list', '[g]\nh x={1,2}\n', ['error inventory.ini-value 2:5']],
    ['a complex number in :vars', '[g]\nh\n[g:vars]\nx =  1j\n', ['error inventory.ini-value 4:6']],
    ['a list as a dict key (a TypeError in Python)', '[g]\nh x="{[1]: 2}"\n', ['error inventory.ini-value 2:5']],
    ['a byte order mark, part of the first line for Ansible', '\ufeff[etcd]\nh1\n', ['error inventory.ini-bom 1:1']],
    ['classic Mac line ends', '[etcd]\rh1\rh2 k8s_nodename\r', ['error inventory.ini-host-var 3:4']],
    ['a vertical tab ends a line, as in Python', '[etcd]\nh1 a=1\u000bh2 b\n', ['error inventory.ini-host-var 2:11']],
    ['ungrouped as the child of a group', '[g:children]\nungrouped\n[g]\nh\n', ['error inventory.ini-child 2:1']],
    ['a loop through three groups', '[a:children]\nb\n[b:children]\nc\n[c:children]\na\n', ['error inventory.group-cycle 6:1']],
    ['ansible_group_priority that int() refuses', '[g]\nh\n[g:vars]\nansible_group_priority=high\n', ['error inventory.type 4:24']],
    [
      'more host entries than a file may hold',
      '[a]\nn[1:99999]\n[b]\nn[1:99999]\n[c]\nn[1:99999]\n[d]\nlast\nn[1:2]\n',
      ['error inventory.ini-size 6:1'],
    ],
    ['invalid variable name', '[etcd]\nh1\n[etcd:vars]\nmy-var=1\n', ['error inventory.invalid-name 4:1']],
    ['invalid group name', '[1etcd]\nh1\n', ['error inventory.invalid-name 1:2']],
    [
      'etcd checks on INI values',
      '[etcd]\nh1 etcd_data_dir=/var\nh2 etcd_name=etcd-h1\n',
      ['warning inventory.even-etcd-members 1:2', 'error inventory.invalid-etcd-data-dir 2:18', 'error inventory.duplicate-etcd-name 3:14'],
    ],
  ];
  for (const [what, text, expected] of table) {
    it(what, () => expect(problemsOf(() => parseInventory('inline/hosts', text))).to.deep.equal(expected));
  }

  it('collects every problem of a file at once, in file order', () => {
    const text = "[etcd]\nh1 a='x\nh2 b\n[x:vars]\ny=1\n[etcd:children]\nnope\n";
    expect(problemsOf(() => parseInventory('inline/hosts', text))).to.deep.equal([
      'error inventory.ini-quote 2:6',
      'error inventory.ini-host-var 3:4',
      'error inventory.ini-undefined-group 4:2',
      'error inventory.ini-undefined-group 7:1',
    ]);
  });

  it('warns when a variable is set twice where only the later one counts', () => {
    const { warnings } = parseInventory('inline/hosts', '[etcd]\nh1 a=1 a=2\n[etcd:vars]\nb=1\nb=2\n');
    expect(warnings.map((p) => `${p.severity} ${p.code} ${p.loc?.line}:${p.loc?.col}`)).to.deep.equal([
      'warning inventory.ini-duplicate-var 2:8',
      'warning inventory.ini-duplicate-var 5:1',
    ]);
  });

  it('warns where a range gives no host (Ansible then silently adds none)', () => {
    const { inventory, warnings } = parseInventory('inline/hosts', '[etcd]\nh1\nnode[3:1] a=1\n');
    expect([...inventory.hosts.keys()]).to.deep.equal(['h1']);
    expect(warnings.map((p) => `${p.severity} ${p.code} ${p.loc?.line}:${p.loc?.col}`)).to.deep.equal(['warning inventory.ini-empty-range 3:1']);
  });

  it('keeps __proto__ and constructor as plain variables', () => {
    const { inventory } = parseInventory('inline/hosts', "[etcd]\nh1 __proto__=1 constructor=c\n[etcd:vars]\nx={'__proto__': 2}\n");
    const vars = inventory.hosts.get('h1')?.vars ?? {};
    expect(Object.entries(vars)).to.deep.include.members([
      ['__proto__', 1],
      ['constructor', 'c'],
    ]);
    expect(Object.entries(vars.x as object)).to.deep.equal([['__proto__', 2]]);
  });

  it('orders groups by int() of ansible_group_priority (4.5 and "4" tie, then the name decides)', () => {
    const text = '[a]\nh\n[a:vars]\nansible_group_priority=4.5\np=a\n[b]\nh\n[b:vars]\nansible_group_priority="4"\np=b\n';
    expect(parseInventory('inline/hosts', text).inventory.hosts.get('h')?.vars.p).to.equal('b');
  });

  it('reads hostile sizes in bounded time: deep chains, deep literals, too many groups', () => {
    const chain = (depth: number): string => {
      const lines = [`[g${depth}]`, 'h'];
      for (let i = depth - 1; i >= 0; i--) lines.push(`[g${i}:children]`, `g${i + 1}`);
      return lines.join('\n');
    };
    expect(problemsOf(() => parseInventory('inline/chain', chain(20_000)))).to.deep.equal(['error inventory.too-many-groups 2:1']);
    expect(parseInventory('inline/chain', chain(900)).inventory.hosts.get('h')?.groups).to.have.length(902);
    const deep = parseInventory('inline/deep', `[g]\nh x=${'['.repeat(100_000)}\n`).inventory;
    expect((deep.hosts.get('h')?.vars.x as string).length).to.equal(100_000);
    const groups = Array.from({ length: 50_001 }, (_, i) => `[g${i}]`).join('\n');
    expect(problemsOf(() => parseInventory('inline/groups', groups))).to.deep.equal(['error inventory.ini-size 49999:1']);
  });

  it('reads a 1000-host INI inventory and still points at the one bad line', () => {
    const lines = ['[etcd]', '10.0.0.[1:3]', '[kube_node]'];
    for (let i = 0; i < 1000; i++) lines.push(`node${i} ansible_host=10.1.${Math.floor(i / 250)}.${i % 250} rack=${i % 7}`);
    lines.push('[kube_node:vars]', 'ansible_port=22');
    const { inventory } = parseInventory('inline/big', lines.join('\n'));
    expect(inventory.hosts.size).to.equal(1003);
    expect(inventory.hosts.get('node999')?.vars).to.include({ ansible_host: '10.1.3.249', rack: 5, ansible_port: 22 });
    lines[700] = 'node697 ansible_port=abc';
    expect(problemsOf(() => parseInventory('inline/big', lines.join('\n')))).to.deep.equal(['error inventory.type 701:22']);
  });
});

describe('INI connection variables, converted as Ansible converts them when it uses them', () => {
  const { inventory } = parseInventory(
    'inline/hosts',
    '[g]\nh1 ansible_become=yes ansible_port="2222"\nh2 ansible_become=False\nh3\n[g:vars]\nansible_become=true\nansible_port="22"\n',
  );
  const table: [string, string, unknown][] = [
    ['h1', 'ansible_become', true],
    ['h1', 'ansible_port', 2222],
    ['h2', 'ansible_become', false],
    ['h3', 'ansible_become', true],
    ['h3', 'ansible_port', 22],
  ];
  for (const [host, name, value] of table)
    it(`${host}.${name} = ${String(value)}`, () => expect(inventory.hosts.get(host)?.vars[name]).to.equal(value));
});

describe('inventory folders', () => {
  it('reads the hosts file of a folder and names it in every message', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'orchestrate-folder-'));
    writeFileSync(path.join(folder, 'hosts'), '[etcd]\n10.0.0.1 etcd_data_dir=relative\n');
    let error: unknown;
    await loadInventory(folder).catch((caught: unknown) => (error = caught));
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => `${p.loc?.file}:${p.loc?.line}:${p.loc?.col}`)).to.deep.equal([
      `${path.join(folder, 'hosts')}:2:24`,
    ]);
  });

  it('takes inventory.yml when there is no hosts file, and says what it looked for when there is neither', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'orchestrate-folder-'));
    let error: unknown;
    await loadInventory(folder).catch((caught: unknown) => (error = caught));
    expect((error as ConfigError).problems[0]?.message).to.match(/holds no inventory: none of hosts, hosts\.yml, .*inventory\.yml/);
    writeFileSync(path.join(folder, 'inventory.yml'), 'all:\n  children:\n    etcd:\n      hosts:\n        10.0.0.1:\n');
    const { inventory } = await loadInventory(folder);
    expect(inventory.file).to.equal(path.join(folder, 'inventory.yml'));
    expect(inventory.dir).to.equal(folder);
  });
});
