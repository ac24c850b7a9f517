// The long restore matrix (`npm run test:matrix`, not part of `npm test`): every topology × etcd version ×
// member count the lab offers. For each: a verified backup, a key written after it, a restore (each member
// back with its own name and peer URL, the keys exactly the snapshot's, the revision bumped where etcd 3.5
// can), then a rollback (the later key back). `npm test` runs a representative subset (test/e2e/restore*.ts).
// Needs root; about 2 minutes per combination.
import { expect } from 'chai';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { keyValues, putKey, waitHealthy } from '../helpers/lab-data.js';
import { etcdctlInLab, pickFreeLabNet, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

type Topology = 'kubeasz' | 'kubeadm';
type Version = '3.4' | '3.5';

const combinations: { topology: Topology; etcd: Version; members: number }[] = [];
for (const topology of ['kubeasz', 'kubeadm'] as const)
  for (const etcd of ['3.4', '3.5'] as const) for (const members of [3, 5]) combinations.push({ topology, etcd, members });

function orchestrate(args: string[]): Promise<CliResult> {
  return runCliFromSource(args, { timeoutMs: 300_000 });
}

async function identities(lab: LabInfo): Promise<string[]> {
  const listed = await etcdctlInLab(lab, ['member', 'list', '-w', 'simple'], [lab.hosts[0]!.address]);
  if (listed.code !== 0) throw new Error(`member list: ${listed.stderr}`);
  // id, status, name, peer urls, ...: the name and the peer URL are the identity a restore must keep.
  return listed.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(', ').slice(2, 4).join(' '))
    .sort();
}

async function revisions(lab: LabInfo): Promise<number[]> {
  const result = await etcdctlInLab(lab, ['endpoint', 'status', '-w', 'json']);
  return (JSON.parse(result.stdout) as { Status: { header: { revision: number } } }[]).map((row) => row.Status.header.revision);
}

const matrix: string[] = [];

after(function () {
  if (matrix.length > 0) process.stdout.write(`\nrestore matrix\n${matrix.map((row) => `  ${row}`).join('\n')}\n`);
});

for (const { topology, etcd, members } of combinations) {
  describe(`restore matrix: ${topology}, etcd ${etcd}, ${members} members (root)`, function () {
    let lab: LabInfo;
    const dir = tempLabDir();
    let original: string[] = [];
    let snapshotRevision = 0;
    const started = Date.now();

    before(async function () {
      this.timeout(240_000);
      const net = await pickFreeLabNet(['127.0.170', '127.0.171', '127.0.172']);
      lab = await startLab({ dir, net, members, etcd, ...(topology === 'kubeadm' ? { topology } : {}) });
      await putKey(lab, '/matrix/in-snapshot', 'kept');
      const backup = await orchestrate(['backup', lab.inventoryFile]);
      expect(backup.code, backup.stdout + backup.stderr).to.equal(0);
      snapshotRevision = Number(/revision (\d+)/.exec(backup.stdout)?.[1]);
      await putKey(lab, '/matrix/after-snapshot', 'back after the rollback');
      original = await identities(lab);
    });

    after(async function () {
      this.timeout(60_000);
      await stopLab(dir);
    });

    it('restores every member with its own identity, the keys exactly the snapshot’s', async function () {
      this.timeout(300_000);
      const result = await orchestrate(['restore', lab.inventoryFile, '--yes']);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(await identities(lab)).to.deep.equal(original);
      const data = await keyValues(lab);
      expect(data.get('/matrix/in-snapshot')).to.equal('kept');
      expect(data.has('/matrix/after-snapshot')).to.equal(false);
      const bump = etcd === '3.5' ? 1_000_000_000 : 0;
      expect(new Set(await revisions(lab))).to.deep.equal(new Set([snapshotRevision + bump]));
    });

    it('rolls back to the data from before the restore', async function () {
      this.timeout(300_000);
      const result = await orchestrate(['restore', lab.inventoryFile, '--rollback', '--yes']);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      await waitHealthy(lab);
      expect((await keyValues(lab)).get('/matrix/after-snapshot')).to.equal('back after the rollback');
      expect(await identities(lab)).to.deep.equal(original);
      matrix.push(`${topology.padEnd(8)} etcd ${etcd}  ${members} members  restore + rollback ok in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    });
  });
}
