// Backup under write load, end to end (127.0.172.x, 3 members, TLS etcd 3.4): a writer keeps putting new keys
// (16 in flight, one client per member) from 2 s before `orchestrate backup` until 1 s after it. The snapshot
// must verify (Debian's etcdctl reads it), and `orchestrate drill` of it must serve one consistent revision:
// exactly the writer's puts that etcd acknowledged at or below the snapshot's revision, none after, and
// HashKV and key count equal to the file's. Prints the puts per second reached. Needs root; about a minute.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { etcdctlSnapshotStatus } from '../helpers/etcd.js';
import { keyValues, waitHealthy } from '../helpers/lab-data.js';
import { startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { orchestrate, tail } from '../helpers/restore-faults.js';
import { putsPerSecond, startWriter, type WriteLoad } from '../helpers/write-load.js';

const NET = '127.0.172';
const PREFIX = '/registry/loadtest/default/put-';

interface DrillJson {
  ok: boolean;
  exitCode: number;
  snapshot: { revision?: number };
  expectedRevision?: number;
  checks: { id: string; ok: boolean; detail: string }[];
  resources: { resource: string; namespace?: string; count: number }[];
  keys?: { snapshot: number; cluster: number };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe(`backup under write load (${NET}.x)`, function () {
  this.timeout(180_000);
  let lab: LabInfo | undefined;

  before(async function () {
    lab = await startLab({ dir: tempLabDir(), net: NET, members: 3 });
    await waitHealthy(lab);
  });

  after(async function () {
    if (!lab) return;
    await stopLab(lab.dir);
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  it('a backup taken while a writer puts hundreds of keys per second verifies, and its drill serves exactly the acknowledged puts up to its revision', async () => {
    const theLab = lab!;
    const keysBefore = (await keyValues(theLab)).size;
    const writer = await startWriter(theLab, PREFIX);
    let load: WriteLoad;
    let backupStart = 0;
    let backupEnd = 0;
    let backup;
    try {
      await sleep(2_000);
      backupStart = Date.now();
      backup = await orchestrate(['backup', theLab.inventoryFile, '--json'], { timeoutMs: 90_000 });
      backupEnd = Date.now();
      await sleep(1_000);
    } finally {
      load = await writer.stop();
    }
    expect(backup.code, tail(backup)).to.equal(0);
    expect(load.errors, 'every put was acknowledged').to.deep.equal([]);
    const during = putsPerSecond(load, backupStart, backupEnd);
    const overall = putsPerSecond(load, load.startedAt, load.stoppedAt);
    process.stdout.write(
      `      write load: ${load.puts.length} puts in ${((load.stoppedAt - load.startedAt) / 1000).toFixed(1)} s, ${overall.toFixed(0)} puts/s overall, ` +
        `${during.toFixed(0)} puts/s during the ${((backupEnd - backupStart) / 1000).toFixed(1)} s backup\n`,
    );
    expect(load.puts.filter((p) => p.at >= backupStart && p.at <= backupEnd).length, 'puts acknowledged while the backup ran').to.be.above(0);

    // The snapshot verifies: the file is what Debian's etcdctl reads, and the backup recorded the same.
    const record = (
      JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as { record: { file: string; revision: number; keys: number; hash: number } }
    ).record;
    const status = await etcdctlSnapshotStatus(record.file);
    expect({ revision: record.revision, keys: record.keys, hash: record.hash }).to.deep.equal({
      revision: status.revision,
      keys: status.totalKey,
      hash: status.hash,
    });
    const inSnapshot = load.puts.filter((p) => p.revision <= status.revision);
    const after = load.puts.filter((p) => p.revision > status.revision);
    expect(inSnapshot.length, 'puts before the snapshot').to.be.above(0);
    expect(after.length, 'puts after the snapshot (the load went on throughout)').to.be.above(0);

    // The drill serves one consistent revision: the snapshot's, with exactly the puts acknowledged up to it.
    const drill = await orchestrate(['drill', theLab.inventoryFile, '--snapshot', record.file, '--json'], { timeoutMs: 120_000 });
    expect(drill.code, tail(drill)).to.equal(0);
    const report = JSON.parse(drill.stdout.trim().split('\n').at(-1)!) as DrillJson;
    expect(report.ok).to.equal(true);
    expect(report.snapshot.revision).to.equal(status.revision);
    expect(report.expectedRevision, 'etcd 3.4 restores without a revision bump').to.equal(status.revision);
    for (const id of ['revision', 'hash', 'keys']) expect(report.checks.find((c) => c.id === id)?.ok, `drill check ${id}`).to.equal(true);
    const served = report.resources.filter((r) => r.resource === 'loadtest').reduce((sum, r) => sum + r.count, 0);
    expect(served, 'the writer keys the restored cluster serves').to.equal(inSnapshot.length);
    expect(report.keys).to.deep.equal({ snapshot: keysBefore + inSnapshot.length, cluster: keysBefore + inSnapshot.length });
  });
});
