// The restore preview's data diff against a real 3-member lab (127.0.141.x, TLS etcd 3.4) after known
// changes made with Debian's etcdctl: keys put, changed and deleted, a namespace removed and another
// created. The snapshot side is read by the TypeScript bbolt reader (also with a memory budget small
// enough to spill sorted runs to disk), the live side with keys-only pages (also in ranges of a few snapshot keys). Needs root (the lab).
import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { etcdMembers } from '../../src/config/etcd-vars.js';
import { loadInventory } from '../../src/config/inventory.js';
import type { EtcdMember } from '../../src/config/types.js';
import { diffSnapshotAgainstCluster, type SnapshotDiff } from '../../src/drill/restore-diff.js';
import { runCliFromSource } from '../helpers/cli.js';
import { putKey, waitHealthy } from '../helpers/lab-data.js';
import { etcdctlInLab, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

describe('restore preview: the data diff between a snapshot and the live lab (127.0.141.x)', function () {
  this.timeout(120_000);
  let lab: LabInfo | undefined;
  let members: EtcdMember[];
  let snapshot: string;
  const newestTime = '2026-12-05T01:02:03Z';

  before(async function () {
    this.timeout(150_000);
    lab = await startLab({ dir: tempLabDir(), net: '127.0.141', members: 3 });
    await waitHealthy(lab);
    members = etcdMembers((await loadInventory(lab.inventoryFile)).inventory);
    const backup = await runCliFromSource(['backup', lab.inventoryFile, '--json'], { env: { CI: '1' }, timeoutMs: 60_000 });
    expect(backup.code, backup.stderr).to.equal(0);
    snapshot = (JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as { record: { file: string } }).record.file;
    // The known changes since the snapshot.
    const del = async (...args: string[]) => expect((await etcdctlInLab(lab!, ['del', ...args])).code).to.equal(0);
    for (let i = 1; i <= 5; i++) await del(`/registry/pods/default/web-${i}`);
    await del('--prefix', '/registry/pods/kube-system/');
    await del('/registry/namespaces/shop');
    await putKey(lab, '/registry/configmaps/default/app-config', '{"metadata":{"name":"app-config"},"data":{"LOG_LEVEL":"debug"}}');
    await putKey(lab, '/registry/namespaces/rogue-ns', '{"metadata":{"name":"rogue-ns"}}');
    await putKey(lab, '/registry/pods/rogue-ns/miner', '{"metadata":{"name":"miner"}}');
    await putKey(lab, '/registry/rogue/oops', `{"metadata":{"name":"oops","managedFields":[{"manager":"kubectl","time":"${newestTime}"}]}}`);
  });

  after(async function () {
    this.timeout(60_000);
    if (!lab) return;
    await stopLab(lab.dir);
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  const group = (diff: SnapshotDiff, prefix: string) => diff.groups.find((g) => g.prefix === prefix);

  for (const [label, memoryBytes, window] of [
    ['in memory', undefined, undefined],
    ['spilling sorted runs to disk, live keys read in ranges of 5 snapshot keys', 1_000, 5],
  ] as const) {
    it(`per resource and namespace: what comes back, is removed, changes; namespaces; the newest write lost (${label})`, async () => {
      const work = await mkdtemp(join(tmpdir(), 'orchestrate-diff-e2e-'));
      try {
        const result = await diffSnapshotAgainstCluster(snapshot, members, {
          workDir: work,
          ...(memoryBytes ? { memoryBytes } : {}),
          ...(window ? { window } : {}),
        });
        if (!result.ok) throw new Error(result.reason);
        const { diff } = result;
        if (memoryBytes) expect(diff.spilledRuns).to.be.greaterThan(3);
        expect(group(diff, '/registry/pods/default/')).to.include({ comeBack: 5, disappear: 0, change: 0 });
        expect(group(diff, '/registry/pods/kube-system/')).to.include({ comeBack: 5, disappear: 0, change: 0 });
        expect(group(diff, '/registry/pods/rogue-ns/')).to.include({ comeBack: 0, disappear: 1, change: 0 });
        expect(group(diff, '/registry/configmaps/default/')).to.include({ comeBack: 0, disappear: 0, change: 1 });
        expect(group(diff, '/registry/rogue/')).to.include({ comeBack: 0, disappear: 1, change: 0 });
        expect(group(diff, '/registry/namespaces/')).to.include({ comeBack: 1, disappear: 1, change: 0 });
        expect(diff.groups).to.have.length(6);
        expect(diff.namespaces).to.deep.equal({ vanish: ['rogue-ns'], reappear: ['shop'], vanishCount: 1, reappearCount: 1 });
        expect(diff.totals.comeBack + diff.totals.disappear + diff.totals.change).to.equal(15);
        expect(diff.live.keys).to.equal(diff.snapshot.keys - 11 + 3);
        expect(diff.newestLost).to.deep.equal({
          key: '/registry/rogue/oops',
          modRevision: diff.live.revision,
          effect: 'removed',
          modifiedAt: new Date(newestTime).toISOString(),
          timeSource: 'managedFields',
        });
        expect(result.text).to.contain('\n  5 pods in default will come back\n');
        expect(result.text).to.contain('\n  5 pods in kube-system will come back\n');
        expect(result.text).to.contain('\n  1 pod in rogue-ns will be removed\n');
        expect(result.text).to.contain("\n  1 configmap in default will go back to the snapshot's version\n");
        expect(result.text).to.contain('\n  1 key under /registry/rogue/ will be removed\n');
        expect(result.text).to.contain('\n  namespace rogue-ns will vanish\n  namespace shop will reappear\n');
        expect(result.text).to.contain(
          `newest write that will be lost: /registry/rogue/oops (removed; written at revision ${diff.live.revision}, last modified`,
        );
        expect(JSON.parse(JSON.stringify(diff))).to.deep.equal(diff);
        expect(await readdir(work), 'no run file is left').to.deep.equal([]);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }

  it('a cluster that does not answer: no diff, the reason', async () => {
    const silent = members.map((m) => ({ ...m, clientUrl: m.clientUrl.replace(':2379', ':1') }));
    const result = await diffSnapshotAgainstCluster(snapshot, silent, { timeoutMs: 2_000 });
    expect(result.ok).to.equal(false);
    expect(result.text).to.match(/^data diff: not available, the cluster does not answer \(no etcd member answered: etcd-127\.0\.141\.1 /);
  });
});
