// Cross-checks the TypeScript verifier against Debian's etcdctl 3.4 on real snapshots from a
// throwaway etcd, and checks that damaged files are caught.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseMetaPage } from '../../../src/etcd/bbolt.js';
import { PartialFile } from '../../../src/etcd/partial-file.js';
import { verifySnapshotFile, verifyWhileReceiving, type SnapshotReport } from '../../../src/etcd/snapshot-file.js';
import { etcdctlSnapshotStatus, putMany, startEtcd, type TestEtcd } from '../../helpers/etcd.js';

const execFileAsync = promisify(execFile);
const MARKER = Buffer.from(`MARKER-${'Q'.repeat(120)}`);

function codes(report: SnapshotReport): string[] {
  return report.problems.map((p) => p.code);
}

/** Rewrite the sha256 trailer so it matches the (damaged) content, as a careless tool might. */
async function recomputeTrailer(file: string): Promise<void> {
  const data = await readFile(file);
  const body = data.subarray(0, data.length - 32);
  const digest = createHash('sha256').update(body).digest();
  await writeFile(file, Buffer.concat([body, digest]));
}

describe('verifySnapshotFile against etcdctl snapshot status', function () {
  this.timeout(180_000);
  let etcd: TestEtcd;
  let dir: string;
  const snapshots: Record<string, string> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-snapfile-'));
    etcd = await startEtcd({ ip: '127.0.103.2' });
    const save = async (name: string) => {
      const file = join(dir, `${name}.db`);
      await etcd.etcdctl(['snapshot', 'save', file]);
      snapshots[name] = file;
    };
    // tiny: a handful of keys, every bucket fits a leaf (inline buckets on the root page).
    await etcd.etcdctl(['put', 'marker', MARKER.toString()]);
    for (let i = 0; i < 5; i++) await etcd.etcdctl(['put', `tiny/${i}`, `value-${i}`]);
    await save('tiny');
    // many: thousands of keys (branch pages), large values (overflow pages), deletes, a lease.
    await putMany(
      etcd,
      (function* () {
        for (let i = 0; i < 4000; i++) yield { key: `many/${String(i).padStart(5, '0')}`, value: `v-${i}-${'x'.repeat(i % 300)}` };
        for (let i = 0; i < 12; i++) yield { key: `large/${i}`, value: Buffer.alloc(150_000 + i * 1000, i + 1) };
      })(),
    );
    await etcd.etcdctl(['del', '--prefix', 'many/001']);
    await etcd.etcdctl(['lease', 'grant', '600']);
    await save('many');
    // compacted and defragmented: freed pages and a rewritten file.
    const [status] = JSON.parse(await etcd.etcdctl(['endpoint', 'status', '-w', 'json'])) as { Status: { header: { revision: number } } }[];
    const revision = status!.Status.header.revision;
    await etcd.etcdctl(['compaction', String(revision - 100)]);
    await etcd.etcdctl(['defrag']);
    await putMany(
      etcd,
      Array.from({ length: 300 }, (_, i) => ({ key: `after/${i}`, value: `after-${i}` })),
    );
    await save('compacted');
    await etcd.stop();
    snapshots.raw = join(dir, 'raw-member-snap.db');
    await copyFile(join(etcd.dataDir, 'member', 'snap', 'db'), snapshots.raw);
  });

  after(async () => {
    // undefined when before() failed before etcd started
    await (etcd as TestEtcd | undefined)?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const name of ['tiny', 'many', 'compacted']) {
    it(`reports what etcdctl reports for the ${name} snapshot`, async () => {
      const file = snapshots[name]!;
      const [report, reference, content] = await Promise.all([
        verifySnapshotFile(file, { requireHash: true }),
        etcdctlSnapshotStatus(file),
        readFile(file),
      ]);
      expect(report.problems).to.deep.equal([]);
      expect(report.ok).to.equal(true);
      expect(report.hasHash).to.equal(true);
      expect(report.status).to.deep.equal(reference);
      expect(report.sha256).to.equal(createHash('sha256').update(content).digest('hex'));
      expect(report.buckets).to.include('key');
    });
  }

  it('sees overflow and branch pages in the large snapshot (the walk is not trivial)', async () => {
    const report = await verifySnapshotFile(snapshots.many!);
    expect(report.ok).to.equal(true);
    expect(report.status!.totalKey).to.be.greaterThan(4000);
    expect(report.meta!.pgid).to.be.greaterThan(500);
  });

  it('accepts a raw member/snap/db copy and reports that it has no hash', async () => {
    const [report, reference] = await Promise.all([verifySnapshotFile(snapshots.raw!), etcdctlSnapshotStatus(snapshots.raw!)]);
    expect(report.ok).to.equal(true);
    expect(report.hasHash).to.equal(false);
    expect(report.status).to.deep.equal(reference);
    const strict = await verifySnapshotFile(snapshots.raw!, { requireHash: true });
    expect(strict.ok).to.equal(false);
    expect(codes(strict)).to.deep.equal(['trailer.missing']);
  });

  it('refuses a truncated file', async () => {
    const file = join(dir, 'truncated.db');
    await copyFile(snapshots.many!, file);
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(file));
    await truncate(file, Math.floor(size / 2) + 77);
    const report = await verifySnapshotFile(file);
    expect(report.ok).to.equal(false);
    expect(codes(report)).to.include('file.size');
    expect(codes(report)).to.include('file.truncated');
  });

  it('refuses a file truncated at a page boundary (it no longer looks like it has a trailer)', async () => {
    const file = join(dir, 'truncated-page.db');
    await copyFile(snapshots.many!, file);
    await truncate(file, 4096 * 40);
    const report = await verifySnapshotFile(file);
    expect(report.ok).to.equal(false);
    expect(report.hasHash).to.equal(false);
    expect(codes(report)).to.include('file.truncated');
  });

  it('catches a flipped bit through the sha256 trailer', async () => {
    const file = join(dir, 'flipped.db');
    await copyFile(snapshots.many!, file);
    const data = await readFile(file);
    const middle = Math.floor(data.length / 2);
    data[middle] = data[middle]! ^ 0x10;
    await writeFile(file, data);
    const report = await verifySnapshotFile(file);
    expect(report.ok).to.equal(false);
    expect(codes(report)).to.include('trailer.mismatch');
  });

  it('catches a flipped structure bit even when the trailer was recomputed', async () => {
    const file = join(dir, 'flipped-structure.db');
    await copyFile(snapshots.many!, file);
    const data = await readFile(file);
    const parsed = parseMetaPage(data.subarray(0, 4096), 0);
    if (!('meta' in parsed)) throw new Error('test setup: meta 0 unreadable');
    const rootFlags = parsed.meta.rootPage * parsed.meta.pageSize + 8;
    data[rootFlags] = 0x20; // neither branch nor leaf
    await writeFile(file, data);
    await recomputeTrailer(file);
    const report = await verifySnapshotFile(file);
    expect(report.ok).to.equal(false);
    expect(codes(report)).to.not.include('trailer.mismatch');
    expect(codes(report)).to.include('page.invalid-type');
    // etcdctl's own integrity check refuses it too.
    const reference = await execFileAsync('etcdctl', ['snapshot', 'status', file], { env: { ...process.env, ETCDCTL_API: '3' } }).then(
      () => 'accepted',
      () => 'refused',
    );
    expect(reference).to.equal('refused');
  });

  it('a flipped value with a recomputed trailer passes the structure check but changes the hash', async () => {
    // The sha256 trailer was rewritten, so only the content hash (CRC-32C, as etcdctl computes it)
    // shows the damage: it differs from the value recorded when the snapshot was taken.
    const file = join(dir, 'flipped-value.db');
    await copyFile(snapshots.tiny!, file);
    const data = await readFile(file);
    let flipped = 0;
    for (let at = data.indexOf(MARKER); at >= 0; at = data.indexOf(MARKER, at + 1)) {
      data[at + 20] = 'R'.charCodeAt(0);
      flipped++;
    }
    expect(flipped).to.be.greaterThan(0);
    await writeFile(file, data);
    await recomputeTrailer(file);
    const original = await etcdctlSnapshotStatus(snapshots.tiny!);
    const [report, damaged] = await Promise.all([verifySnapshotFile(file), etcdctlSnapshotStatus(file)]);
    expect(report.ok).to.equal(true);
    expect(report.status!.hash).to.equal(damaged.hash);
    expect(report.status!.hash).to.not.equal(original.hash);
    const checked = await verifySnapshotFile(file, { expect: { hash: original.hash } });
    expect(checked.ok).to.equal(false);
    expect(codes(checked)).to.deep.equal(['expected.mismatch']);
  });

  it('falls back to the second meta page when the first is damaged, as bbolt does', async () => {
    const file = join(dir, 'meta0.db');
    await copyFile(snapshots.many!, file);
    const data = await readFile(file);
    const good = await verifySnapshotFile(snapshots.many!);
    data[16 + 60] = data[16 + 60]! ^ 0xff; // meta 0 checksum
    await writeFile(file, data);
    await recomputeTrailer(file);
    const report = await verifySnapshotFile(file);
    expect(report.ok).to.equal(true);
    expect(report.meta!.txid).to.equal(good.meta!.txid - 1);
    expect(report.status).to.deep.equal(good.status);
  });

  it('refuses a file whose meta pages are both damaged', async () => {
    const file = join(dir, 'meta-both.db');
    await copyFile(snapshots.tiny!, file);
    const data = await readFile(file);
    data.writeUInt32LE(0xdeadbeef, 16);
    data.writeUInt32LE(0xdeadbeef, 4096 + 16);
    await writeFile(file, data);
    const report = await verifySnapshotFile(file);
    expect(report.ok).to.equal(false);
    expect(codes(report)).to.include('meta.bad');
    expect(report.problems.find((p) => p.code === 'meta.bad')!.message).to.match(/bad magic/);
  });

  it('verifying while the file is received gives the same report as verifying the finished file', async () => {
    const damaged = join(dir, 'flipped-structure.db');
    for (const file of [snapshots.tiny!, snapshots.many!, snapshots.compacted!, snapshots.raw!, join(dir, 'flipped.db'), damaged]) {
      const content = await readFile(file);
      const partial = await PartialFile.create(join(dir, 'receiving.db'));
      const finished = (async () => {
        // Feed it in uneven chunks with pauses, as a stream would.
        for (let at = 0, i = 0; at < content.length; i++) {
          const size = [32768, 1000, 300_000][i % 3]!;
          await partial.append(content.subarray(at, at + size));
          at += size;
          if (i % 7 === 0) await new Promise((r) => setImmediate(r));
        }
        return partial.finish();
      })();
      const whileReceiving = await verifyWhileReceiving(partial, finished);
      const after = await verifySnapshotFile(partial.path);
      const strip = (r: SnapshotReport) => ({ ...r, durationMs: 0, path: '' });
      expect(strip(whileReceiving), file).to.deep.equal(strip(after));
      await partial.discard();
    }
  });

  it('refuses something that is not a snapshot, and a missing file, without throwing', async () => {
    const text = join(dir, 'notes.db');
    await writeFile(text, Buffer.alloc(8192, 'not a database\n'));
    const report = await verifySnapshotFile(text);
    expect(report.ok).to.equal(false);
    expect(codes(report)).to.include('meta.bad');
    const missing = await verifySnapshotFile(join(dir, 'nope.db'));
    expect(missing.ok).to.equal(false);
    expect(codes(missing)).to.deep.equal(['file.unreadable']);
  });
});
