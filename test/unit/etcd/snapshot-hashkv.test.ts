// The HashKV computed from a snapshot file equals what a real etcd restored from it reports: with a
// history of puts, overwrites and deletes, after a compaction, and (with etcd 3.5's etcdutl, when its
// binaries are given in ORCHESTRATE_ETCD35_BIN) after --bump-revision --mark-compacted.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveKeyReader } from '../../../src/etcd/live-keys.js';
import { indexSnapshotKeys } from '../../../src/etcd/snapshot-key-index.js';
import { KeepSet, snapshotHashKv } from '../../../src/etcd/snapshot-hashkv.js';
import { putMany, startEtcd, type TestEtcd } from '../../helpers/etcd.js';

async function expectedHash(snapshot: string, work: string, bumpTo?: number): Promise<number> {
  const index = await indexSnapshotKeys(snapshot, { workDir: work });
  const { finishedCompactRevision, scheduledCompactRevision } = index.summary;
  const compactRevision = bumpTo ?? Math.max(finishedCompactRevision, scheduledCompactRevision);
  const keep = new KeepSet();
  let liveKeys = 0;
  try {
    for await (const record of index) {
      liveKeys++;
      if (record.main <= compactRevision) keep.add(record.main, record.sub);
    }
  } finally {
    await index.dispose();
  }
  return (await snapshotHashKv(snapshot, keep, compactRevision, { liveKeys, ...(bumpTo !== undefined ? { bumpTo } : {}) })).hash;
}

/** Restore with `tool`, start `etcd` on it, ask HashKV at `revision` (0: current), stop. */
async function restoredHash(tool: string, etcdBinary: string, snapshot: string, dir: string, extra: string[], revision: number): Promise<number> {
  const dataDir = join(dir, `restored-${Date.now()}`);
  const restore = spawn(tool, ['snapshot', 'restore', snapshot, '--data-dir', dataDir, ...extra], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: 'ignore',
  });
  expect(await new Promise((resolve) => restore.on('exit', resolve))).to.equal(0);
  const url = 'http://127.0.141.9:2379';
  const etcd = spawn(
    etcdBinary,
    ['--data-dir', dataDir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', 'http://127.0.141.9:2380'],
    { stdio: 'ignore' },
  );
  try {
    const member = {
      host: 'x',
      name: 'default',
      address: '127.0.141.9',
      peerUrl: 'http://127.0.141.9:2380',
      clientUrl: url,
      dataDir,
      token: 't',
      service: 'etcd',
    };
    for (let i = 0; ; i++) {
      try {
        const reader = await LiveKeyReader.connect([member], { timeoutMs: 1_000 });
        try {
          return (await reader.hashKv(revision)).hash;
        } finally {
          reader.close();
        }
      } catch (error) {
        if (i > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    etcd.kill('SIGKILL');
    await new Promise((resolve) => etcd.on('exit', resolve));
  }
}

describe('snapshotHashKv: the HashKV of a member restored from the file', function () {
  this.timeout(120_000);
  let etcd: TestEtcd;
  let dir: string;
  const snapshots: Record<string, { file: string; revision: number }> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-hashkv-'));
    etcd = await startEtcd({ ip: '127.0.141.8' });
    const history = function* (round: number) {
      for (let i = 0; i < 600; i++) yield { key: `/registry/configmaps/ns-${i % 5}/cm-${i}`, value: `round-${round}-${'v'.repeat(i % 40)}` };
    };
    // Keys written once, long before the compaction: what it keeps below the compacted revision.
    await putMany(
      etcd,
      (function* () {
        for (let i = 0; i < 40; i++) yield { key: `/registry/namespaces/ns-${i}`, value: `{"i":${i}}` };
      })(),
    );
    await putMany(etcd, history(1));
    await putMany(etcd, history(2));
    await etcd.etcdctl(['del', '--prefix', '/registry/configmaps/ns-3/']);
    const save = async (name: string) => {
      const file = join(dir, `${name}.db`);
      await etcd.etcdctl(['snapshot', 'save', file]);
      const status = JSON.parse(await etcd.etcdctl(['endpoint', 'status', '-w', 'json'])) as { Status: { header: { revision: number } } }[];
      snapshots[name] = { file, revision: status[0]!.Status.header.revision };
    };
    await save('history');
    const revision = snapshots.history!.revision;
    await etcd.etcdctl(['compact', String(revision - 700)]);
    await putMany(
      etcd,
      (function* () {
        for (let i = 0; i < 50; i++) yield { key: `/registry/pods/default/p-${i}`, value: 'p' };
      })(),
    );
    await save('compacted');
  });

  after(async () => {
    await etcd.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  for (const name of ['history', 'compacted']) {
    it(`etcd 3.4 restored from the ${name} snapshot reports it at the snapshot's revision`, async () => {
      const { file, revision } = snapshots[name]!;
      expect(await restoredHash('/usr/bin/etcdctl', '/usr/bin/etcd', file, dir, [], revision)).to.equal(await expectedHash(file, dir));
    });
  }

  it('etcd 3.5 restored with --bump-revision --mark-compacted reports it at the bumped revision', async function () {
    const bin = process.env.ORCHESTRATE_ETCD35_BIN;
    if (!bin) this.skip();
    const { file, revision } = snapshots.compacted!;
    const got = await restoredHash(join(bin, 'etcdutl'), join(bin, 'etcd'), file, dir, ['--bump-revision', '1000', '--mark-compacted'], 0);
    expect(got).to.equal(await expectedHash(file, dir, revision + 1000));
  });
});
