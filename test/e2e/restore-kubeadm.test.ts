// End-to-end: `orchestrate restore` on a kubeadm-shaped lab (etcd 3.5 as static pods run by a kubelet,
// members named after their nodes, an inventory that says nothing about etcd, no client certificate on
// the deploy host). Each member must come back with the identity its manifest gives it, the control plane
// must be stopped by moving its manifests (kubelet stays up), revisions must be bumped past the old ones
// so watchers relist, and a rollback must bring the old data back. Needs root.
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { keyValues, putKey, waitHealthy } from '../helpers/lab-data.js';
import {
  etcdctlInLab,
  pickFreeLabNet,
  readKubeletLog,
  readSystemctlLog,
  sshToLabHost,
  startLab,
  stopLab,
  tempLabDir,
  type LabInfo,
} from '../helpers/lab.js';

function orchestrate(args: string[]): Promise<CliResult> {
  return runCliFromSource(args, { timeoutMs: 240_000 });
}

interface Member {
  ID: string;
  name: string;
  peerURLs: string[];
}

async function members(lab: LabInfo): Promise<Member[]> {
  const listed = await etcdctlInLab(lab, ['member', 'list', '-w', 'json'], [lab.hosts[0]!.address]);
  if (listed.code !== 0) throw new Error(`member list: ${listed.stderr}`);
  const parsed = JSON.parse(listed.stdout.replace(/"ID":\s*(\d+)/g, '"ID":"$1"')) as { members: Member[] };
  return parsed.members.sort((a, b) => a.name.localeCompare(b.name));
}

async function revision(lab: LabInfo): Promise<number> {
  const result = await etcdctlInLab(lab, ['endpoint', 'status', '-w', 'json'], [lab.hosts[0]!.address]);
  const [row] = JSON.parse(result.stdout) as { Status: { header: { revision: number } } }[];
  return row!.Status.header.revision;
}

async function runningPods(lab: LabInfo, address: string): Promise<string[]> {
  const listed = await sshToLabHost(lab, address, 'crictl ps --state running -o json');
  const parsed = JSON.parse(listed.stdout) as { containers: { metadata: { name: string } }[] };
  return parsed.containers.map((c) => c.metadata.name).sort();
}

/** Lines of `ls` of /var/lib and /etc/kubernetes on every host: what a refused restore must not change. */
async function layout(lab: LabInfo): Promise<string[]> {
  return Promise.all(
    lab.hosts.map(async (host) => (await sshToLabHost(lab, host.address, 'ls -1 /var/lib /etc/kubernetes /etc/kubernetes/manifests')).stdout),
  );
}

function jsonReport(result: CliResult): { status: string; htmlReport?: string; members: { host: string; name: string; oldDataAt?: string }[] } {
  const line = result.stdout
    .trim()
    .split('\n')
    .find((l) => l.startsWith('{"type":"report"'));
  if (!line) throw new Error(`no report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(line) as { status: string; htmlReport?: string; members: { host: string; name: string; oldDataAt?: string }[] };
}

describe('restore on kubeadm static pods, etcd 3.5 (e2e, root)', function () {
  let lab: LabInfo;
  const dir = tempLabDir();
  let snapshotRevision = 0;
  let revisionBefore = 0;

  before(async function () {
    this.timeout(180_000);
    const net = await pickFreeLabNet(['127.0.150', '127.0.151']);
    lab = await startLab({ dir, net, members: 3, etcd: '3.5', topology: 'kubeadm' });
    await putKey(lab, '/orchestrate-test/in-snapshot', 'kept');
    const backup = await orchestrate(['backup', lab.inventoryFile]);
    expect(backup.code, backup.stdout + backup.stderr).to.equal(0);
    snapshotRevision = Number(/revision (\d+)/.exec(backup.stdout)?.[1]);
    await putKey(lab, '/orchestrate-test/after-snapshot', 'lost by the restore, back after the rollback');
    revisionBefore = await revision(lab);
  });

  after(async function () {
    this.timeout(60_000);
    await stopLab(dir);
  });

  it('refuses an inventory whose member name disagrees with the manifest and the live cluster: exit 5, nothing changed', async function () {
    this.timeout(120_000);
    const inventory = parse(await readFile(lab.inventoryFile, 'utf8')) as {
      all: { children: { etcd: { hosts: Record<string, Record<string, string>> } } };
    };
    inventory.all.children.etcd.hosts['master-02']!.etcd_name = 'etcd2';
    const wrong = `${lab.dir}/inventory-wrong-name.yml`;
    await writeFile(wrong, stringify(inventory));
    const before = await layout(lab);
    const result = await orchestrate(['restore', wrong, '--yes']);
    expect(result.code, result.stdout + result.stderr).to.equal(5);
    expect(result.stderr).to.contain('etcd2').and.to.contain('master-02').and.to.contain('/etc/kubernetes/manifests/etcd.yaml');
    expect(result.stderr).not.to.match(/\n\s+at /);
    expect(await layout(lab)).to.deep.equal(before);
    expect((await keyValues(lab)).has('/orchestrate-test/after-snapshot')).to.equal(true);
  });

  it('dry run: names read from the manifests, the revision bump announced, nothing changed', async function () {
    this.timeout(120_000);
    const before = await layout(lab);
    const result = await orchestrate(['restore', lab.inventoryFile, '--dry-run']);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout + result.stderr).to.contain('etcd_name master-02 taken from /etc/kubernetes/manifests/etcd.yaml');
    expect(result.stdout).to.match(/revision\s+bumped by 1000000000 and compacted/);
    expect(result.stdout).to.contain('--name master-03').and.to.contain('--bump-revision 1000000000 --mark-compacted');
    expect(await layout(lab)).to.deep.equal(before);
  });

  it('restores each member with its own name and peer URL, bumps revisions, keeps kubelet up and brings the static pods back', async function () {
    this.timeout(240_000);
    const membersBefore = await members(lab);
    const result = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    const report = jsonReport(result);
    expect(report.status).to.equal('completed');
    // The run drawn as the HTML report, every member a lane of its timeline.
    const html = await readFile(report.htmlReport ?? '', 'utf8');
    for (const host of lab.hosts) expect(html).to.contain(host.inventoryName);

    const after = await members(lab);
    expect(after.map((m) => [m.name, m.peerURLs])).to.deep.equal(membersBefore.map((m) => [m.name, m.peerURLs]));
    expect(new Set(after.map((m) => m.ID)).size, 'three distinct members, one cluster').to.equal(3);
    const data = await keyValues(lab);
    expect(data.get('/orchestrate-test/in-snapshot')).to.equal('kept');
    expect(data.has('/orchestrate-test/after-snapshot')).to.equal(false);

    const now = await revision(lab);
    expect(now, 'past every revision a watcher saw').to.be.greaterThan(revisionBefore);
    expect(now).to.equal(snapshotRevision + 1_000_000_000);
    // A watcher resuming from a revision it saw before the restore is told to relist.
    const watch = await etcdctlInLab(lab, ['watch', '--rev', String(revisionBefore), '/orchestrate-test/', '--prefix'], [lab.hosts[1]!.address]);
    expect(watch.stdout + watch.stderr).to.contain('compacted');

    for (const host of lab.hosts) {
      const stops = (await readSystemctlLog(lab, host.address)).filter((e) => e.unit.startsWith('kubelet') && e.action === 'stop');
      expect(stops, `${host.address}: kubelet stopped`).to.deep.equal([]);
      expect(await runningPods(lab, host.address)).to.deep.equal(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
      const removed = (await readKubeletLog(lab, host.address)).filter((e) => e.event === 'manifest-removed').map((e) => e.fields.file ?? '');
      expect(
        removed.some((file) => file.endsWith('/kube-apiserver.yaml')),
        `${host.address}: apiserver manifest moved aside`,
      ).to.equal(true);
      const files = await sshToLabHost(
        lab,
        host.address,
        "ls -d /var/lib/etcd.before-restore-*; ls /etc/kubernetes/manifests; find /etc/kubernetes -path '*orchestrate-aside*' -name '*.yaml'",
      );
      const [oldData, ...manifests] = files.stdout.trim().split('\n');
      expect(oldData, `${host.address}: old data kept`).to.match(/^\/var\/lib\/etcd\.before-restore-\d{8}T\d{6}Z$/);
      expect(manifests, `${host.address}: every manifest back, none left aside`).to.deep.equal([
        'etcd.yaml',
        'kube-apiserver.yaml',
        'kube-controller-manager.yaml',
        'kube-scheduler.yaml',
      ]);
    }
    expect(report.members.map((m) => m.name).sort()).to.deep.equal(['master-01', 'master-02', 'master-03']);
  });

  it('rolls back to the data from before the restore, with the same members', async function () {
    this.timeout(240_000);
    const result = await orchestrate(['restore', lab.inventoryFile, '--rollback', '--yes']);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    await waitHealthy(lab);
    const data = await keyValues(lab);
    expect(data.get('/orchestrate-test/after-snapshot')).to.equal('lost by the restore, back after the rollback');
    expect(await revision(lab)).to.equal(revisionBefore);
    expect((await members(lab)).map((m) => m.name)).to.deep.equal(['master-01', 'master-02', 'master-03']);
    for (const host of lab.hosts) expect(await runningPods(lab, host.address)).to.have.length(4);
  });
});
