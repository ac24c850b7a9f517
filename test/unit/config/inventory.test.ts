import { expect } from 'chai';
import { homedir, userInfo } from 'node:os';
import * as path from 'node:path';
import { connectionFor } from '../../../src/config/connection.js';
import { backupDir, etcdMembers, kubeMasterServices, kubeNodeServices, requireEtcd } from '../../../src/config/etcd-vars.js';
import { loadInventory, parseInventory } from '../../../src/config/inventory.js';
import type { Inventory } from '../../../src/config/types.js';
import { ConfigError } from '../../../src/errors.js';

const GOOD = 'test/fixtures/config/good/inventory.yml';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.severity} ${p.code} ${p.loc?.line}:${p.loc?.col}`);
    throw error;
  }
  return [];
}

describe('inventory variable precedence', () => {
  // all < parent < child < host; same depth: ansible_group_priority, then name (later wins); deeper beats shallower.
  const text = `
all:
  vars: { v_all: all, v_parent: all, v_child: all, v_host: all, v_sib: all, v_depth: all }
  children:
    parent:
      vars: { v_parent: parent, v_child: parent, v_host: parent }
      children:
        child:
          vars: { v_child: child, v_host: child, v_depth: child }
          hosts:
            h1: { v_host: host }
            h2:
    beta:
      vars: { v_sib: beta }
      hosts:
        h1: { v_merge: from-beta }
    alpha:
      vars: { v_sib: alpha }
      hosts:
        h1: { v_merge: from-alpha }
    zz_top:
      vars: { v_depth: zz_top }
      hosts: { h1: }
    prio:
      vars: { v_prio: prio, ansible_group_priority: 10 }
      hosts: { h3: }
    zeta:
      vars: { v_prio: zeta }
      hosts: { h3: }
`;
  const { inventory } = parseInventory('inline/precedence.yml', text);
  const table: [string, string, unknown][] = [
    ['h1', 'v_all', 'all'],
    ['h1', 'v_parent', 'parent'],
    ['h1', 'v_child', 'child'],
    ['h1', 'v_host', 'host'],
    ['h2', 'v_host', 'child'],
    ['h2', 'v_sib', 'all'],
    ['h1', 'v_sib', 'beta'], // alpha and beta are siblings: the later name wins, not the later in the file
    ['h1', 'v_depth', 'child'], // child (depth 2) beats zz_top (depth 1) although zz_top sorts later
    ['h3', 'v_prio', 'prio'], // priority 10 beats zeta's default 1
    ['h1', 'v_merge', 'from-alpha'], // host vars written in two groups: the later mention in the file wins
  ];
  for (const [host, name, expected] of table) {
    it(`${host}.${name} = ${String(expected)}`, () => {
      expect(inventory.hosts.get(host)?.vars[name]).to.equal(expected);
    });
  }

  it('lists the groups of a host, ancestors included, in precedence order', () => {
    expect(inventory.hosts.get('h1')?.groups).to.deep.equal(['all', 'alpha', 'beta', 'parent', 'zz_top', 'child']);
    expect(inventory.hosts.get('h2')?.groups).to.deep.equal(['all', 'parent', 'child']);
  });

  it('flattens children into their parents, in file order, with all and ungrouped', () => {
    expect(inventory.groups.get('parent')).to.deep.equal(['h1', 'h2']);
    expect(inventory.groups.get('all')).to.deep.equal(['h1', 'h2', 'h3']);
    expect(inventory.groups.get('ungrouped')).to.deep.equal([]);
    expect([...inventory.groups.keys()]).to.deep.equal(['all', 'parent', 'child', 'beta', 'alpha', 'zz_top', 'prio', 'zeta', 'ungrouped']);
  });

  it('puts hosts listed only under all into ungrouped, and accepts {} and empty host entries', () => {
    const { inventory: small } = parseInventory(
      'inline/ungrouped.yml',
      'all:\n  hosts:\n    a: {}\n    b:\n  children:\n    etcd:\n      hosts:\n        b:\n        c:\n',
    );
    expect(small.groups.get('ungrouped')).to.deep.equal(['a']);
    expect(small.groups.get('etcd')).to.deep.equal(['b', 'c']);
  });

  it('keeps file order for host names that look like integers', () => {
    const { inventory: numeric } = parseInventory('inline/numeric.yml', 'all:\n  hosts:\n    "2":\n    10:\n    1:\n');
    expect(numeric.groups.get('all')).to.deep.equal(['2', '10', '1']);
  });

  it('reports a group that is its own ancestor', () => {
    const text = 'all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n';
    expect(problemsOf(() => parseInventory('inline/cycle.yml', text))).to.deep.equal(['error inventory.group-cycle 7:13']);
  });
});

describe('connection variables', () => {
  const { inventory } = parseInventory(
    'some/dir/inventory.yml',
    `all:
  hosts:
    plain:
    full:
      ansible_host: 10.9.9.9
      ansible_port: 2222
      ansible_user: deploy
      ansible_ssh_private_key_file: keys/id_ed25519
      ansible_become: true
    home:
      ansible_ssh_private_key_file: ~/.ssh/id_rsa
    here:
      ansible_connection: local
`,
  );
  const table: [string, Record<string, unknown>][] = [
    // `defaulted`: what the inventory left unset, which ~/.ssh/config may then set (as with Ansible's ssh).
    ['plain', { host: 'plain', address: 'plain', port: 22, user: userInfo().username, local: false, become: false, defaulted: ['port', 'user'] }],
    [
      'full',
      {
        host: 'full',
        address: '10.9.9.9',
        port: 2222,
        user: 'deploy',
        local: false,
        become: true,
        privateKeyFile: path.resolve('some/dir/keys/id_ed25519'),
      },
    ],
    [
      'home',
      {
        host: 'home',
        address: 'home',
        port: 22,
        user: userInfo().username,
        local: false,
        become: false,
        privateKeyFile: path.join(homedir(), '.ssh/id_rsa'),
        defaulted: ['port', 'user'],
      },
    ],
    ['here', { host: 'here', address: 'here', port: 22, user: userInfo().username, local: true, become: false }],
  ];
  for (const [host, expected] of table) {
    it(`connectionFor(${host})`, () => {
      const found = inventory.hosts.get(host);
      expect(found).to.not.equal(undefined);
      expect(connectionFor(found!)).to.deep.equal(expected);
    });
  }
});

describe('etcd members and kubeasz defaults', () => {
  let inventory: Inventory;
  before(async () => {
    ({ inventory } = await loadInventory(GOOD));
  });

  it('applies defaults per member, in file order', () => {
    const tls = { caFile: '/etc/kubernetes/ssl/ca.pem', certFile: '/etc/kubernetes/ssl/etcd.pem', keyFile: '/etc/kubernetes/ssl/etcd-key.pem' };
    expect(etcdMembers(inventory)).to.deep.equal([
      {
        host: '192.168.1.1',
        name: 'etcd-192.168.1.1',
        address: '192.168.1.1',
        peerUrl: 'https://192.168.1.1:2380',
        clientUrl: 'https://192.168.1.1:2379',
        dataDir: '/var/lib/etcd',
        token: 'etcd-cluster-0',
        service: 'etcd',
        ...tls,
      },
      {
        host: '192.168.1.2',
        name: 'etcd-two',
        address: '192.168.1.2',
        peerUrl: 'https://192.168.1.2:2380',
        clientUrl: 'https://192.168.1.2:2379',
        dataDir: '/var/lib/etcd',
        token: 'etcd-cluster-0',
        service: 'etcd',
        ...tls,
      },
      {
        host: '192.168.1.3',
        name: 'etcd-192.168.1.3',
        address: '10.1.1.3',
        peerUrl: 'https://10.1.1.3:2380',
        clientUrl: 'https://10.1.1.3:2379',
        dataDir: '/var/lib/etcd',
        token: 'etcd-cluster-0',
        service: 'etcd',
        ...tls,
      },
    ]);
  });

  it('defaults the Kubernetes services, and reads overrides from group vars', () => {
    expect(kubeMasterServices(inventory.hosts.get('192.168.1.1')!)).to.deep.equal(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    expect(kubeNodeServices(inventory.hosts.get('192.168.1.1')!)).to.deep.equal(['kubelet', 'kube-proxy']);
    expect(kubeNodeServices(inventory.hosts.get('192.168.1.4')!)).to.deep.equal(['kubelet']);
  });

  it('resolves backup_dir against the inventory folder, with ./backups as the default', () => {
    expect(backupDir(inventory)).to.equal(path.resolve('test/fixtures/config/good/snapshots'));
    const { inventory: bare } = parseInventory('x/y/inv.yml', 'all:\n  children:\n    etcd:\n      hosts:\n        a:\n');
    expect(backupDir(bare)).to.equal(path.resolve('x/y/backups'));
  });

  it('brackets IPv6 addresses in default URLs', () => {
    const { inventory: v6 } = parseInventory('inline/v6.yml', 'all:\n  children:\n    etcd:\n      hosts:\n        "fd00::1":\n');
    expect(etcdMembers(v6)[0]?.peerUrl).to.equal('https://[fd00::1]:2380');
  });

  it('requireEtcd refuses an inventory without members, pointing at the file', () => {
    const { inventory: none, warnings } = parseInventory('inline/none.yml', 'all:\n  hosts:\n    a:\n');
    expect(warnings).to.deep.equal([]);
    expect(etcdMembers(none)).to.deep.equal([]);
    expect(problemsOf(() => requireEtcd(none))).to.deep.equal(['error inventory.missing-etcd-group 1:1']);
    expect(problemsOf(() => parseInventory('inline/none.yml', 'all:\n  hosts:\n    a:\n', { requireEtcd: true }))).to.deep.equal([
      'error inventory.missing-etcd-group 1:1',
    ]);
  });

  it('warns about an empty etcd group, and makes it an error when etcd is required', () => {
    const text = 'all:\n  children:\n    etcd:\n      hosts: {}\n';
    expect(parseInventory('inline/empty.yml', text).warnings.map((p) => `${p.code} ${p.loc?.line}:${p.loc?.col}`)).to.deep.equal([
      'inventory.empty-etcd-group 3:5',
    ]);
    expect(problemsOf(() => parseInventory('inline/empty.yml', text, { requireEtcd: true }))).to.deep.equal(['error inventory.empty-etcd-group 3:5']);
  });
});

describe('inventory checks', () => {
  const table: [string, string, string[]][] = [
    [
      'a group-level etcd_name shared by all members is reported once',
      'all:\n  children:\n    etcd:\n      vars:\n        etcd_name: same\n      hosts:\n        a:\n        b:\n        c:\n',
      ['error inventory.duplicate-etcd-name 5:20'],
    ],
    ['control characters in a host name', 'all:\n  hosts:\n    "bad\\nhost":\n', ['error inventory.invalid-name 3:5']],
    ['a host name starting with a dash', 'all:\n  hosts:\n    -oProxyCommand=x:\n', ['error inventory.invalid-name 3:5']],
    ['spaces in ansible_host', 'all:\n  hosts:\n    a:\n      ansible_host: "10.0.0.1 -p 2"\n', ['error inventory.invalid-connection-var 4:21']],
    [
      'a templated etcd variable',
      'all:\n  children:\n    etcd:\n      hosts:\n        a:\n          etcd_name: "{{ x }}"\n',
      ['error inventory.templated-var 6:22', 'error inventory.invalid-etcd-name 6:22'],
    ],
    [
      'a relative TLS file',
      'all:\n  children:\n    etcd:\n      vars:\n        etcd_ca_file: ca.pem\n      hosts:\n        a:\n',
      ['error inventory.invalid-path 5:23'],
    ],
    [
      'a newline in the data dir',
      'all:\n  children:\n    etcd:\n      hosts:\n        a:\n          etcd_data_dir: "/var/lib/etcd\\n/x"\n',
      ['error inventory.invalid-etcd-data-dir 6:26'],
    ],
    [
      'a misspelt etcd_topology, etcd_access and a negative revision bump',
      'all:\n  children:\n    etcd:\n      vars:\n        etcd_topology: kubeadmm\n        etcd_access: sssh\n        etcd_restore_bump_revision: -5\n      hosts:\n        a:\n',
      ['error inventory.invalid-choice 5:24', 'error inventory.invalid-choice 6:22', 'error inventory.invalid-bump 7:37'],
    ],
    [
      'a relative WAL dir; a bump written as digits is fine',
      'all:\n  children:\n    etcd:\n      vars:\n        etcd_restore_bump_revision: "0"\n      hosts:\n        a:\n          etcd_wal_dir: wal\n',
      ['error inventory.invalid-etcd-wal-dir 8:25'],
    ],
    [
      'a URL with a path',
      'all:\n  children:\n    etcd:\n      hosts:\n        a:\n          etcd_client_url: https://a:2379/v3\n',
      ['error inventory.invalid-etcd-url 6:28'],
    ],
    [
      'a port out of range and an unknown group key',
      'all:\n  vars:\n    ansible_port: 70000\n  hostz:\n',
      ['error inventory.maximum 3:19', 'error inventory.unknown-key 4:3'],
    ],
    ['a list instead of a mapping', '- all\n', ['error inventory.not-a-mapping 1:1']],
    ['an empty file', '# nothing\n', ['error inventory.not-a-mapping 1:1']],
  ];
  for (const [title, text, expected] of table) {
    it(title, () => {
      expect(problemsOf(() => parseInventory('inline/check.yml', text))).to.deep.equal(expected);
    });
  }

  it('names a missing file without a stack', async () => {
    try {
      await loadInventory('test/fixtures/config/nope.yml');
      expect.fail('should have thrown');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).problems[0]?.message).to.equal('cannot read inventory test/fixtures/config/nope.yml: no such file');
    }
  });
});
