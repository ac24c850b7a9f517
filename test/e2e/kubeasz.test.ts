// A kubeasz cluster folder on the lab (net 127.0.131, 3 members): an INI `hosts` with a range and
// [all:vars], a config.yml and ssl/ holding the lab's certificates, used as it is by `backup`, `snapshots
// list`, `status`, `restore --dry-run` and `restore`; then kubeasz-shaped backup and restore playbooks
// (test/fixtures/kubeasz-playbooks, roles found through ansible.cfg's roles_path) run unchanged with
// `orchestrate run -i <cluster folder or hosts> -e @config.yml`. Needs root (the lab).
import { expect } from 'chai';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { readSystemctlLog, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { keyValues, putKey, waitHealthy } from '../helpers/lab-data.js';

const NET = '127.0.131';
const fixtures = join(process.cwd(), 'test', 'fixtures', 'kubeasz-playbooks');

describe('a kubeasz cluster folder on the lab (e2e, 127.0.131)', function () {
  this.timeout(600_000);
  let lab: LabInfo;
  let base: string;
  let folder: string;
  let seededKeys: number;

  const orchestrate = (args: string[], timeoutMs = 240_000): Promise<CliResult> =>
    runCliFromSource(args, { timeoutMs, env: { CI: '1', ANSIBLE_CONFIG: join(fixtures, 'ansible.cfg') } });
  const expectOk = (result: CliResult, what: string): void => {
    expect(result.code, `${what}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).to.equal(0);
  };
  const keyCount = async (prefix: string): Promise<number> => [...(await keyValues(lab)).keys()].filter((key) => key.startsWith(prefix)).length;
  const put = (key: string): Promise<void> => putKey(lab, key, 'written after the backup');

  before(async function () {
    this.timeout(120_000);
    // kubeasz's base_dir with bin/: etcdctl, and an etcdutl for etcd 3.4 (whose etcdctl still restores
    // snapshots). Made before the lab starts, so that every member sees it through its copy of /.
    base = mkdtempSync(join(tmpdir(), 'orchestrate-kubeasz-e2e-'));
    mkdirSync(join(base, 'bin'));
    symlinkSync('/usr/bin/etcdctl', join(base, 'bin', 'etcdctl'));
    writeFileSync(
      join(base, 'bin', 'etcdutl'),
      '#!/bin/sh\n# etcd 3.4 has no etcdutl; its etcdctl restores snapshots the same way\nexec /usr/bin/etcdctl "$@"\n',
    );
    chmodSync(join(base, 'bin', 'etcdutl'), 0o755);
    lab = await startLab({ dir: tempLabDir(), net: NET, members: 3 });

    folder = join(base, 'clusters', 'k8s-01');
    mkdirSync(join(folder, 'ssl'), { recursive: true });
    copyFileSync(lab.pki.caFile, join(folder, 'ssl', 'ca.pem'));
    copyFileSync(lab.pki.certFile, join(folder, 'ssl', 'etcd.pem'));
    copyFileSync(lab.pki.keyFile, join(folder, 'ssl', 'etcd-key.pem'));
    chmodSync(join(folder, 'ssl', 'etcd-key.pem'), 0o600);
    writeFileSync(
      join(folder, 'hosts'),
      [
        "# A kubeasz cluster's hosts file (as ezctl new writes it), for the lab",
        '[etcd]',
        `${NET}.[1:3]`,
        '',
        '[kube_master]',
        `${NET}.1 k8s_nodename='master-01'`,
        `${NET}.2 k8s_nodename='master-02'`,
        '',
        '[kube_node]',
        `${NET}.3 k8s_nodename='worker-01'`,
        '',
        '[harbor]',
        '#10.0.0.8 NEW_INSTALL=false',
        '',
        '[ex_lb]',
        '',
        '[chrony]',
        '',
        '[all:vars]',
        'SECURE_PORT="6443"',
        'CONTAINER_RUNTIME="containerd"',
        'CLUSTER_NETWORK="calico"',
        `bin_dir="${base}/bin"`,
        `base_dir="${base}"`,
        'cluster_dir="{{ base_dir }}/clusters/k8s-01"',
        // Where the members keep their copies of the certificates (kubeasz: /etc/kubernetes/ssl).
        `ca_dir="${dirname(lab.pki.caFile)}"`,
        "k8s_nodename=''",
        'ansible_python_interpreter=/usr/bin/python3',
        'ansible_user=root',
        `ansible_ssh_private_key_file=${lab.keyFile}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(folder, 'config.yml'),
      '# role:etcd\nETCD_DATA_DIR: "/var/lib/etcd"\nETCD_WAL_DIR: ""\nCLUSTER_NAME: "cluster1"\nCONTEXT_NAME: "context-{{ CLUSTER_NAME }}"\nENABLE_MIRROR_REGISTRY: true\n',
    );
    seededKeys = await keyCount('/registry/');
    expect(seededKeys).to.be.greaterThan(10);
  });

  after(async function () {
    this.timeout(60_000);
    // Unset when before() failed early.
    if ((lab as LabInfo | undefined) !== undefined) await stopLab(lab.dir);
    rmSync(base, { recursive: true, force: true });
  });

  it('backup <cluster folder>: a verified snapshot in cluster_dir/backup, snapshot.db pointing at it', async () => {
    expectOk(await orchestrate(['backup', folder]), 'backup');
    const files = readdirSync(join(folder, 'backup')).sort();
    const named = files.filter((name) => /^snapshot_.*_rev\d+\.db$/.test(name));
    expect(named).to.have.length(1);
    expect(files).to.include('snapshot.db');
    const snapshot = statSync(join(folder, 'backup', named[0] as string));
    expect(readFileSync(join(folder, 'backup', 'snapshot.db')).equals(readFileSync(join(folder, 'backup', named[0] as string)))).to.equal(true);
    expect(snapshot.mode & 0o777).to.equal(0o600);
  });

  it('snapshots list <cluster folder>: the snapshot, verified, named snapshot.db', async () => {
    const result = await orchestrate(['snapshots', 'list', folder]);
    expectOk(result, 'snapshots list');
    expect(result.stdout).to.include(`snapshots in ${join(folder, 'backup')}`);
    expect(result.stdout).to.match(/ok \(recorded\).*= snapshot\.db/);
  });

  it('status <cluster folder>: three healthy members over the TLS files in ssl/, and a fresh backup', async () => {
    const result = await orchestrate(['status', folder, '--max-age', '1h', '--json']);
    expectOk(result, 'status');
    const report = JSON.parse(result.stdout) as { quorum: { members: number; healthy: number; held: boolean }; stale: boolean };
    expect(report.quorum).to.include({ members: 3, healthy: 3, held: true });
    expect(report.stale).to.equal(false);
  });

  it('restore --dry-run <cluster folder>: every member with its etcd-<hostname> identity and data dir; nothing changes', async () => {
    await put('/kubeasz-e2e/after-backup');
    const result = await orchestrate(['restore', folder, '--dry-run']);
    expectOk(result, 'restore --dry-run');
    for (const i of [1, 2, 3]) expect(result.stdout).to.include(`etcd-${NET}.${i}=https://${NET}.${i}:2380`);
    expect(result.stdout).to.include('/var/lib/etcd');
    expect(await keyCount('/kubeasz-e2e/')).to.equal(1);
  });

  it('restore <cluster folder>: back to the snapshot, one healthy cluster', async () => {
    expectOk(await orchestrate(['restore', folder, '--yes']), 'restore');
    expect(await keyCount('/kubeasz-e2e/')).to.equal(0);
    expect(await keyCount('/registry/')).to.equal(seededKeys);
    await waitHealthy(lab, 3);
  });

  it("kubeasz's backup playbook shape, run unchanged: etcdctl from the deploy host into cluster_dir/backup", async () => {
    const before = new Set(readdirSync(join(folder, 'backup')));
    const result = await orchestrate(['run', join(fixtures, 'playbooks', '94.backup.yml'), '-i', folder, '-e', `@${join(folder, 'config.yml')}`]);
    expectOk(result, 'run 94.backup.yml');
    const added = readdirSync(join(folder, 'backup')).filter((name) => !before.has(name));
    expect(added).to.have.length(1);
    expect(added[0]).to.match(/^snapshot_\d{12}\.db$/);
    expect(readFileSync(join(folder, 'backup', 'snapshot.db')).equals(readFileSync(join(folder, 'backup', added[0] as string)))).to.equal(true);
  });

  it("kubeasz's restore playbook shape, run unchanged with -i hosts: the role through roles_path, the cluster back to that snapshot", async () => {
    await put('/kubeasz-e2e/after-kubeasz-backup');
    const result = await orchestrate([
      'run',
      join(fixtures, 'playbooks', '95.restore.yml'),
      '-i',
      join(folder, 'hosts'),
      '-e',
      `@${join(folder, 'config.yml')}`,
    ]);
    expectOk(result, 'run 95.restore.yml');
    await waitHealthy(lab, 3);
    expect(await keyCount('/kubeasz-e2e/')).to.equal(0);
    expect(await keyCount('/registry/')).to.equal(seededKeys);
    // The control plane was stopped before etcd and started after it, and left enabled.
    const events = await readSystemctlLog(lab, `${NET}.1`);
    const last = (action: string, unit: string): number => events.map((e) => `${e.action} ${e.unit}`).lastIndexOf(`${action} ${unit}`);
    expect(last('stop', 'kube-apiserver')).to.be.lessThan(last('stop', 'etcd'));
    expect(last('start', 'etcd')).to.be.lessThan(last('start', 'kube-apiserver'));
  });
});
