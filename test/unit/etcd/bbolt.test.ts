// Hand-built bbolt files for what real etcd snapshots never show: etcd runs bbolt without syncing the
// freelist, so the freelist checks (double free, unreachable unfreed) need a synthetic file.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fnv64a } from '../../../src/etcd/bbolt.js';
import { verifySnapshotFile } from '../../../src/etcd/snapshot-file.js';

const PAGE = 4096;

function pageHeader(page: Buffer, id: number, flags: number, count: number): void {
  page.writeBigUInt64LE(BigInt(id), 0);
  page.writeUInt16LE(flags, 8);
  page.writeUInt16LE(count, 10);
  page.writeUInt32LE(0, 12);
}

/** Leaf elements (flags, key, value) laid out after the header, as bbolt writes them. */
function leaf(entries: { flags: number; key: Buffer; value: Buffer }[], id: number): Buffer {
  const header = 16 + entries.length * 16;
  const size = header + entries.reduce((n, e) => n + e.key.length + e.value.length, 0);
  const page = Buffer.alloc(Math.max(size, 16));
  pageHeader(page, id, 0x02, entries.length);
  let data = header;
  entries.forEach((e, i) => {
    const element = 16 + i * 16;
    page.writeUInt32LE(e.flags, element);
    page.writeUInt32LE(data - element, element + 4);
    page.writeUInt32LE(e.key.length, element + 8);
    page.writeUInt32LE(e.value.length, element + 12);
    e.key.copy(page, data);
    e.value.copy(page, data + e.key.length);
    data += e.key.length + e.value.length;
  });
  return page;
}

function revisionKey(main: number): Buffer {
  const key = Buffer.alloc(17);
  key.writeBigUInt64BE(BigInt(main), 0);
  key[8] = 0x5f;
  key.writeBigUInt64BE(0n, 9);
  return key;
}

/** meta0/meta1, freelist at page 2, root leaf at 3 holding an inline `key` bucket, pages 4-5 spare. */
function boltFile(freeIds: number[]): Buffer {
  const file = Buffer.alloc(6 * PAGE);
  for (const id of [0, 1]) {
    const page = file.subarray(id * PAGE, (id + 1) * PAGE);
    pageHeader(page, id, 0x04, 0);
    const meta = page.subarray(16, 80);
    meta.writeUInt32LE(0xed0cdaed, 0);
    meta.writeUInt32LE(2, 4);
    meta.writeUInt32LE(PAGE, 8);
    meta.writeBigUInt64LE(3n, 16); // root bucket page
    meta.writeBigUInt64LE(2n, 32); // freelist page
    meta.writeBigUInt64LE(6n, 40); // high water mark
    meta.writeBigUInt64LE(BigInt(10 + id), 48); // txid
    meta.writeBigUInt64LE(fnv64a(meta.subarray(0, 56)), 56);
  }
  const freelist = file.subarray(2 * PAGE, 3 * PAGE);
  pageHeader(freelist, 2, 0x10, freeIds.length);
  freeIds.forEach((id, i) => freelist.writeBigUInt64LE(BigInt(id), 16 + i * 8));
  const inlinePage = leaf([{ flags: 0, key: revisionKey(7), value: Buffer.from('kv-protobuf') }], 0);
  const bucketValue = Buffer.concat([Buffer.alloc(16), inlinePage]); // root 0 = inline
  leaf([{ flags: 0x01, key: Buffer.from('key'), value: bucketValue }], 3).copy(file, 3 * PAGE);
  pageHeader(file.subarray(4 * PAGE), 4, 0x02, 0);
  pageHeader(file.subarray(5 * PAGE), 5, 0x02, 0);
  return file;
}

describe('bbolt walker on hand-built files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-bbolt-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads an inline bucket and a synced freelist: every page reachable or free', async () => {
    const file = join(dir, 'clean.db');
    await writeFile(file, boltFile([4, 5]));
    const report = await verifySnapshotFile(file);
    expect(report.problems).to.deep.equal([]);
    expect(report).to.include({ ok: true, hasHash: false });
    expect(report.status).to.include({ revision: 7, totalKey: 1, totalSize: 6 * PAGE });
    expect(report.meta).to.deep.equal({ pageSize: PAGE, txid: 11, pgid: 6 });
  });

  it('reports a page freed twice and a page neither reachable nor free', async () => {
    const file = join(dir, 'leaky.db');
    await writeFile(file, boltFile([5, 5]));
    const report = await verifySnapshotFile(file);
    expect(report.ok).to.equal(false);
    expect(report.problems.map((p) => p.code)).to.deep.equal(['freelist.double-free', 'page.unreachable-unfreed']);
    expect(report.problems[1]!.message).to.equal('1 page(s) neither reachable nor free (first: 4)');
  });

  it('reports a page that is both reachable and free', async () => {
    const file = join(dir, 'reachable-freed.db');
    await writeFile(file, boltFile([3, 4, 5]));
    const report = await verifySnapshotFile(file);
    expect(report.problems.map((p) => p.code)).to.deep.equal(['page.reachable-freed']);
  });
});
