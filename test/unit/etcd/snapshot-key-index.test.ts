// The snapshot's latest keys in key order (bbolt reader + external sort) checked against what a real etcd
// serves at the snapshot's revision, with a memory budget small enough to force many sorted runs on disk.
import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32cUpdate } from '../../../src/etcd/crc32c.js';
import type { KeyRecord } from '../../../src/etcd/key-runs.js';
import { indexSnapshotKeys } from '../../../src/etcd/snapshot-key-index.js';
import { putMany, startEtcd, type TestEtcd } from '../../helpers/etcd.js';

interface EtcdctlKv {
  key: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  value?: string;
}

async function collect(iterable: AsyncIterable<KeyRecord>): Promise<KeyRecord[]> {
  const out: KeyRecord[] = [];
  for await (const record of iterable) out.push(record);
  return out;
}

describe('indexSnapshotKeys: the latest state of every key, in key order, bounded memory', function () {
  this.timeout(120_000);
  let etcd: TestEtcd;
  let dir: string;
  let snapshot: string;
  let expected: EtcdctlKv[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-keyindex-'));
    etcd = await startEtcd({ ip: '127.0.141.1' });
    // History: every key written, some overwritten (several revisions), some deleted, some deleted and recreated.
    await putMany(
      etcd,
      (function* () {
        for (let i = 0; i < 3000; i++) yield { key: `/registry/pods/ns-${i % 7}/pod-${String(i).padStart(5, '0')}`, value: `v1-${i}` };
        for (let i = 0; i < 3000; i += 3)
          yield { key: `/registry/pods/ns-${i % 7}/pod-${String(i).padStart(5, '0')}`, value: `v2-${i}-${'y'.repeat(i % 50)}` };
        yield { key: 'z-binary-\u00ff\u00fe', value: Buffer.from([0, 1, 2, 255]) };
      })(),
    );
    await etcd.etcdctl(['del', '--prefix', '/registry/pods/ns-3/']);
    await etcd.etcdctl(['put', '/registry/pods/ns-3/pod-00003', 'recreated']);
    await etcd.etcdctl(['del', '/registry/pods/ns-1/pod-00001']);
    snapshot = join(dir, 'snap.db');
    await etcd.etcdctl(['snapshot', 'save', snapshot]);
    const json = JSON.parse(await etcd.etcdctl(['get', '', '--from-key', '-w', 'json'])) as { kvs: EtcdctlKv[] };
    expected = json.kvs;
  });

  after(async () => {
    await etcd.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [label, memoryBytes] of [
    ['in memory', undefined],
    ['spilled to many runs', 40_000],
  ] as const) {
    it(`equals etcdctl get at the snapshot's revision (${label})`, async () => {
      const work = await mkdtemp(join(dir, 'work-'));
      const index = await indexSnapshotKeys(snapshot, { workDir: work, valueDigests: true, ...(memoryBytes ? { memoryBytes } : {}) });
      try {
        if (memoryBytes) expect(index.runs).to.be.greaterThan(10);
        else expect(index.runs).to.equal(0);
        const got = await collect(index);
        expect(index.summary.problems).to.deep.equal([]);
        expect(got.map((r) => Buffer.from(r.key, 'latin1').toString('base64'))).to.deep.equal(expected.map((kv) => kv.key));
        got.forEach((record, i) => {
          const kv = expected[i]!;
          const value = Buffer.from(kv.value ?? '', 'base64');
          expect([record.createRevision, record.modRevision, record.version, record.valueSize, record.valueCrc], record.key).to.deep.equal([
            kv.create_revision,
            kv.mod_revision,
            kv.version,
            value.length,
            value.length ? crc32cUpdate(0, value) : 0,
          ]);
        });
        // Deleted keys (the ns-3 folder but the recreated pod, and one more) are not listed but counted.
        expect(index.deletedKeys).to.equal(Math.ceil(3000 / 7) - 1 + 1);
      } finally {
        await index.dispose();
      }
      expect(await readdir(work)).to.deep.equal([]);
      await rm(work, { recursive: true });
    });
  }

  it('only keys under a prefix', async () => {
    const index = await indexSnapshotKeys(snapshot, { workDir: dir, prefix: '/registry/pods/ns-2/', memoryBytes: 20_000 });
    try {
      const got = await collect(index);
      const want = expected.filter((kv) => Buffer.from(kv.key, 'base64').toString('latin1').startsWith('/registry/pods/ns-2/'));
      expect(got.length).to.equal(want.length).and.to.be.greaterThan(400);
    } finally {
      await index.dispose();
    }
  });

  it('a file that is not a bbolt database is an error', async () => {
    let failure: unknown;
    await indexSnapshotKeys(join(process.cwd(), 'package.json'), { workDir: dir }).catch((error: unknown) => (failure = error));
    expect(String(failure)).to.match(/not an etcd snapshot|no valid bbolt meta/);
  });
});
