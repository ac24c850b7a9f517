import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullCopy } from '../../../src/remote/pull.js';
import { RemoteCopyError } from '../../../src/remote/remote-errors.js';
import { loadRemoteCatalog, updateRemoteCatalog } from '../../../src/remote/catalog-store.js';
import { planPlacesRetention } from '../../../src/remote/place-retention.js';
import { chooseLatest, mergePlaces, newestVerifiedRemote, type LocalCopy } from '../../../src/remote/places.js';
import {
  catalogKey,
  mergeCopies,
  objectMetadata,
  parseRemoteCatalog,
  recordFromObject,
  REMOTE_CATALOG_FORMAT,
  snapshotKey,
  type RemoteCopyRecord,
} from '../../../src/remote/remote-catalog.js';
import { MemoryStore, httpError } from './memory-store.js';

const settings = { snapshotPrefix: 'p/snapshots/', catalogPrefix: 'p/catalog/' };
const HOUR = 3_600_000;
const now = Date.parse('2026-12-05T12:00:00Z');

function copy(name: string, hoursAgo: number, fields: Partial<RemoteCopyRecord> = {}): RemoteCopyRecord {
  const takenAt = new Date(now - hoursAgo * HOUR).toISOString();
  return {
    format: REMOTE_CATALOG_FORMAT,
    cluster: 'c',
    name,
    key: snapshotKey(settings, 'c', name, true),
    takenAt,
    uploadedAt: takenAt,
    size: 100,
    sha256: 'aa',
    plaintextSize: 90,
    plaintextSha256: createHash('sha256').update(name).digest('hex'),
    encrypted: true,
    verified: true,
    ...fields,
  };
}

function local(name: string, hoursAgo: number, status: 'ok' | 'bad' = 'ok'): LocalCopy {
  return { name, path: `/b/${name}`, takenAt: now - hoursAgo * HOUR, size: 90, status };
}

describe('remote catalog, places and retention per place', () => {
  it('mergeCopies: one record per key, verified beats unverified, then the latest verification', () => {
    const a = copy('s1', 1, { verified: false, rebuilt: true });
    const b = copy('s1', 1, { verifiedAt: '2026-12-05T11:00:00Z' });
    const c = copy('s1', 1, { verifiedAt: '2026-12-05T11:30:00Z', etag: 'newer' });
    expect(mergeCopies([a], [b])).to.deep.equal([b]);
    expect(mergeCopies([b], [a])).to.deep.equal([b]);
    expect(mergeCopies([b, c])).to.deep.equal([c]);
    expect(mergeCopies([copy('old', 5)], [copy('new', 1)]).map((r) => r.name)).to.deep.equal(['new', 'old']);
  });

  it('object metadata carries what a rebuild needs; foreign objects are ignored', () => {
    const original = copy('snapshot_20261205T110000Z_rev7.db', 1, { revision: 7 });
    const head = { size: 100, metadata: objectMetadata(original), etag: 'e' };
    const rebuilt = recordFromObject(original.key, head, 'c');
    expect(rebuilt).to.deep.include({
      name: original.name,
      takenAt: original.takenAt,
      plaintextSha256: original.plaintextSha256,
      revision: 7,
      encrypted: true,
      verified: false,
      rebuilt: true,
    });
    expect(recordFromObject('k', { size: 1, metadata: {} }, 'c')).to.equal(undefined);
  });

  it('a lost catalog is rebuilt from the objects; a damaged one too; copies whose object is gone are dropped', async () => {
    const store = new MemoryStore();
    const kept = copy('kept', 2);
    for (const record of [kept, copy('lost-record', 1)]) {
      await store.createMultipart(record.key, objectMetadata(record)).then((id) => store.completeMultipart(record.key, id, []));
    }
    const view = await loadRemoteCatalog(store, settings, 'c', { writeBack: true });
    expect(view.state).to.equal('rebuilt');
    expect(view.copies.map((r) => [r.name, r.verified])).to.deep.equal([
      ['lost-record', false],
      ['kept', false],
    ]);
    expect(store.objects.has(catalogKey(settings, 'c'))).to.equal(true);

    await store.put(catalogKey(settings, 'c'), Buffer.from('{ torn'));
    const damaged = await loadRemoteCatalog(store, settings, 'c');
    expect(damaged.state).to.equal('rebuilt');
    expect(damaged.warnings.join()).to.match(/is damaged .* rebuilding it from the snapshot objects/);
    await updateRemoteCatalog(store, settings, 'c', (copies) => mergeCopies(copies, [kept, copy('gone', 3)]));
    const reconciled = await loadRemoteCatalog(store, settings, 'c', { reconcile: true });
    expect(reconciled.copies.map((r) => [r.name, r.verified])).to.deep.equal([
      ['lost-record', false],
      ['kept', true],
    ]);
    expect(reconciled.warnings.join()).to.match(/1 catalogued remote copy is gone from the bucket .*: gone/);
  });

  it('a catalog that cannot be read is not overwritten with less', async () => {
    const store = new MemoryStore();
    await store.put(catalogKey(settings, 'c'), Buffer.from(JSON.stringify({ format: 1, cluster: 'c', copies: [copy('a', 1)] })));
    store.failures.set('list', [httpError(503, 'SlowDown')]);
    store.failures.set('head', [httpError(503, 'SlowDown')]);
    const view = await updateRemoteCatalog(store, settings, 'c', (copies) => mergeCopies(copies, [copy('b', 0)]));
    expect(view.warnings.join()).to.match(/was not updated/);
    expect(store.objects.get(catalogKey(settings, 'c'))?.data.toString()).to.include('"a"');
  });

  it('mergePlaces says where each snapshot lives; latest prefers a verified local copy of the newest snapshot', () => {
    const rows = mergePlaces(
      [local('s3', 3), local('s2', 2), local('s1', 1, 'bad'), local('s0.age', 0.5)],
      [copy('s2', 2), copy('s1', 1), copy('s4', 4, { verified: false })],
    );
    expect(rows.map((r) => [r.name, r.where, r.verifiedLocal, r.verifiedRemote])).to.deep.equal([
      ['s0', 'local', true, false],
      ['s1', 'both', false, true],
      ['s2', 'both', true, true],
      ['s3', 'local', true, false],
      ['s4', 'remote', false, false],
    ]);
    expect(chooseLatest(rows)?.row.name).to.equal('s0');
    const remoteOnly = mergePlaces([local('s1', 1, 'bad')], [copy('s1', 1), copy('s2', 2)]);
    const latest = chooseLatest(remoteOnly);
    expect([latest?.place, latest?.row.name]).to.deep.equal(['remote', 's1']);
    expect(chooseLatest(mergePlaces([], [copy('x', 1, { verified: false })]))).to.equal(undefined);
    expect(newestVerifiedRemote([copy('a', 3), copy('b', 1, { verified: false }), copy('c', 2)])?.name).to.equal('c');
  });

  it('retention per place: same rules, unverified never deleted, the newest verified copy in each place kept', () => {
    const plan = planPlacesRetention(
      [local('l1', 1, 'bad'), local('l2', 2), local('l3', 3), local('l4', 4)],
      [copy('r1', 1, { verified: false }), copy('r2', 2), copy('r3', 3), copy('r4', 30)],
      { local: { keepLast: 1 }, remote: { ttlSeconds: 5 * 3600 } },
      now,
    );
    expect(plan.local.delete.map((d) => d.entry.name)).to.deep.equal(['l3', 'l4']);
    expect(plan.local.keep.map((d) => d.entry.name).sort()).to.deep.equal(['l1', 'l2']);
    expect(plan.remote.delete.map((d) => d.entry.copy.name)).to.deep.equal(['r4']);
    expect(plan.remote.keep.find((d) => d.entry.copy.name === 'r1')?.reasons[0]).to.match(/not verified/);
    // A policy that would delete everything still keeps the newest verified copy in each place.
    const strict = planPlacesRetention([local('l2', 2), local('l3', 3)], [copy('r2', 50), copy('r3', 60)], { local: { ttlSeconds: 1 } }, now);
    expect(strict.local.keep.map((d) => d.entry.name)).to.deep.equal(['l2']);
    expect(strict.remote.keep.map((d) => d.entry.copy.name)).to.deep.equal(['r2']);
    expect(strict.remote.keep[0]?.reasons).to.include('newest verified snapshot (never deleted)');
  });

  it('a snapshot name from the bucket that is not a plain file name is never used as a path', async () => {
    const good = copy('snapshot_20261205T110000Z_rev7.db', 1);
    const metadata = (name: string) => ({ ...objectMetadata(good), 'orchestrate-snapshot': name });
    for (const name of ['..%2F..%2Fetc%2Fcron.d%2Fx', '..', 'a%0Ab.db', '%E0%A4%A']) {
      expect(recordFromObject(good.key, { size: 100, metadata: metadata(name) }, 'c'), name).to.equal(undefined);
    }
    const text = JSON.stringify({ format: REMOTE_CATALOG_FORMAT, copies: [good, { ...good, name: '../../x.db' }, { ...good, name: '/tmp/x.db' }] });
    expect(parseRemoteCatalog(text).map((r) => r.name)).to.deep.equal([good.name]);
    const store = new MemoryStore();
    const dest = join(tmpdir(), `orchestrate-pull-refused-${process.pid}`);
    const pulled = pullCopy(store, { ...good, name: '../escaped.db' }, dest);
    const error: unknown = await pulled.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RemoteCopyError);
    expect((error as Error).message).to.contain('not a plain file name');
    expect(store.calls).to.deep.equal([]);
    expect(existsSync(dest)).to.equal(false);
  });
});
