// A kubeasz cluster folder read with kubeasz's meanings (the mapping table in docs/pending/inventories.md).
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { backupDir, etcdMembers } from '../../../src/config/etcd-vars.js';
import { loadInventory, type LoadedInventory } from '../../../src/config/inventory.js';
import { resolveReferences } from '../../../src/config/kubeasz-cluster.js';
import { ConfigError } from '../../../src/errors.js';

const FIXTURE = 'test/fixtures/kubeasz/k8s-01';

/** A cluster folder laid out as kubeasz does: <base>/clusters/<name>/{hosts,config.yml}. */
function clusterFolder(hostsExtra = '', config = 'ETCD_DATA_DIR: "/var/lib/etcd"\nETCD_WAL_DIR: ""\n'): string {
  const base = mkdtempSync(path.join(tmpdir(), 'orchestrate-kubeasz-'));
  const folder = path.join(base, 'clusters', 'k8s-02');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, 'hosts'),
    `[etcd]\n10.60.0.[1:3]\n\n[kube_master]\n10.60.0.1\n\n[kube_node]\n10.60.0.4\n\n[all:vars]\nbase_dir="${base}"\ncluster_dir="{{ base_dir }}/clusters/k8s-02"\n${hostsExtra}`,
  );
  writeFileSync(path.join(folder, 'config.yml'), config);
  return folder;
}

async function problemsOf(folder: string): Promise<string[]> {
  try {
    await loadInventory(folder);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.problems.map((p) => `${p.severity} ${p.code} ${path.basename(p.loc?.file ?? '')}:${p.loc?.line}:${p.loc?.col}`);
    throw error;
  }
  return [];
}

describe('kubeasz cluster folder', () => {
  let loaded: LoadedInventory;
  before(async () => {
    loaded = await loadInventory(FIXTURE);
  });

  it('reads the hosts file (INI, ranges) of the folder', () => {
    expect(loaded.inventory.file).to.equal(path.join(FIXTURE, 'hosts'));
    expect(loaded.inventory.dir).to.equal(path.resolve(FIXTURE));
    expect(loaded.inventory.groups.get('etcd')).to.deep.equal(['10.50.0.1', '10.50.0.2', '10.50.0.3']);
    expect(loaded.inventory.groups.get('kube_node')).to.deep.equal(['10.50.0.4', '10.50.0.5']);
  });

  it('maps kubeasz variables to the etcd members', () => {
    const clusterDir = '/etc/kubeasz/clusters/k8s-01';
    expect(etcdMembers(loaded.inventory)[1]).to.deep.equal({
      host: '10.50.0.2',
      name: 'etcd-10.50.0.2',
      address: '10.50.0.2',
      peerUrl: 'https://10.50.0.2:2380',
      clientUrl: 'https://10.50.0.2:2379',
      dataDir: '/data/etcd',
      token: 'etcd-cluster-0',
      service: 'etcd',
      caFile: `${clusterDir}/ssl/ca.pem`,
      certFile: `${clusterDir}/ssl/etcd.pem`,
      keyFile: `${clusterDir}/ssl/etcd-key.pem`,
      onMember: { caFile: '/etc/kubernetes/ssl/ca.pem', certFile: '/etc/kubernetes/ssl/etcd.pem', keyFile: '/etc/kubernetes/ssl/etcd-key.pem' },
    });
    expect(backupDir(loaded.inventory)).to.equal(`${clusterDir}/backup`);
  });

  it('gives config.yml the precedence of -e @config.yml, for hosts and for the deploy host', () => {
    const host = loaded.inventory.hosts.get('10.50.0.1');
    expect(host?.vars).to.include({
      CLUSTER_NAME: 'cluster1',
      CONTEXT_NAME: 'context-{{ CLUSTER_NAME }}',
      ETCD_DATA_DIR: '/data/etcd',
      SECURE_PORT: '6443',
    });
    expect(host?.vars.INSECURE_REG).to.deep.equal(['http://easzlab.io.local:5000']);
    expect(loaded.inventory.groupVars?.get('all')).to.include({ CLUSTER_NAME: 'cluster1' });
  });

  it('warns when cluster_dir names another folder than the one given, pointing at cluster_dir', () => {
    expect(loaded.warnings.map((p) => `${p.code} ${p.loc?.file}:${p.loc?.line}:${p.loc?.col}`)).to.deep.equal([
      `kubeasz.cluster-dir-elsewhere ${FIXTURE}/hosts:23:13`,
    ]);
  });

  it('reads the same through the hosts file itself, config.yml beside it included', async () => {
    const viaFile = await loadInventory(path.join(FIXTURE, 'hosts'));
    expect(etcdMembers(viaFile.inventory)).to.deep.equal(etcdMembers(loaded.inventory));
  });

  it('takes TLS files and backups from the folder when it is cluster_dir; no warning', async () => {
    const folder = clusterFolder();
    const { inventory, warnings } = await loadInventory(folder);
    expect(warnings).to.deep.equal([]);
    expect(backupDir(inventory)).to.equal(path.join(folder, 'backup'));
    expect(etcdMembers(inventory)[0]?.caFile).to.equal(path.join(folder, 'ssl', 'ca.pem'));
    expect(etcdMembers(inventory)[0]?.dataDir).to.equal('/var/lib/etcd');
  });

  it('lets the inventory override any kubeasz default', async () => {
    const folder = clusterFolder('etcd_ca_file=/pki/ca.pem\nbackup_dir=/srv/snapshots\n');
    const { inventory } = await loadInventory(folder);
    expect(etcdMembers(inventory)[0]?.caFile).to.equal('/pki/ca.pem');
    expect(etcdMembers(inventory)[0]?.certFile).to.equal(path.join(folder, 'ssl', 'etcd.pem'));
    expect(backupDir(inventory)).to.equal('/srv/snapshots');
  });

  it('advertises the inventory hostname, as kubeasz does, even where ansible_host differs', async () => {
    const folder = clusterFolder('ansible_host=127.0.0.1\n');
    const member = etcdMembers((await loadInventory(folder)).inventory)[2];
    expect(member).to.include({ address: '127.0.0.1', peerUrl: 'https://10.60.0.3:2380', clientUrl: 'https://10.60.0.3:2379' });
  });

  it('reports a config.yml problem at its own line, and maps a separate WAL dir to etcd_wal_dir', async () => {
    expect(await problemsOf(clusterFolder('', 'ETCD_DATA_DIR: "/var/lib/etcd"\n  bad: indent\n'))).to.deep.equal([
      'error yaml.bad-indent config.yml:2:1',
    ]);
    const separate = await loadInventory(clusterFolder('', 'ETCD_DATA_DIR: "/var/lib/etcd"\nETCD_WAL_DIR: "/wal"\n'));
    expect(separate.warnings).to.deep.equal([]);
    expect([...separate.inventory.hosts.values()].map((h) => h.vars.etcd_wal_dir)).to.deep.equal(['/wal', '/wal', '/wal', '/wal']);
    const inside = await loadInventory(clusterFolder());
    expect([...inside.inventory.hosts.values()].some((h) => 'etcd_wal_dir' in h.vars)).to.equal(false);
    const relative = await loadInventory(clusterFolder('', 'ETCD_DATA_DIR: "/var/lib/etcd"\nETCD_WAL_DIR: "wal"\n'));
    expect(relative.warnings.map((p) => `${p.code} ${path.basename(p.loc?.file ?? '')}:${p.loc?.line}:${p.loc?.col}`)).to.deep.equal([
      'kubeasz.unresolved-path config.yml:2:15',
    ]);
  });

  it('checks the mapped values like any inventory value, at the line that gave them', async () => {
    expect(await problemsOf(clusterFolder('', 'ETCD_DATA_DIR: "/var"\n'))).to.deep.equal(['error inventory.invalid-etcd-data-dir config.yml:1:16']);
  });

  it('warns (and maps nothing from it) when cluster_dir cannot be resolved', async () => {
    const folder = clusterFolder('cluster_dir="{{ nowhere }}/x"\n');
    const { inventory, warnings } = await loadInventory(folder);
    expect(warnings.map((p) => p.code)).to.deep.equal(['inventory.ini-duplicate-var', 'kubeasz.unresolved-path']);
    expect(warnings[1]?.message).to.include('nowhere is not defined');
    expect(etcdMembers(inventory)[0]?.caFile).to.equal(undefined);
  });
});

describe('{{ var }} references in kubeasz paths', () => {
  const vars = { base_dir: '/etc/kubeasz', name: 'k8s-01', nested: '{{ base_dir }}/clusters', port: 2379, loop: '{{ loop }}' };
  const table: [string, string][] = [
    ['{{ base_dir }}/clusters/{{ name }}', '/etc/kubeasz/clusters/k8s-01'],
    ['{{nested}}/x', '/etc/kubeasz/clusters/x'],
    ['/plain', '/plain'],
    ['/p/{{ port }}', '/p/2379'],
    ['{{ missing }}/x', 'missing is not defined'],
    ['{{ loop }}', 'loop'],
    ["{{ base_dir | default('/x') }}", 'only {{ variable }} references'],
  ];
  for (const [text, expected] of table) {
    it(`${text} -> ${expected}`, () => {
      const resolved = resolveReferences(text, vars, 0);
      if ('text' in resolved) expect(resolved.text).to.equal(expected);
      else expect(resolved.error).to.include(expected);
    });
  }
});
