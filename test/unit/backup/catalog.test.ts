import { expect } from 'chai';
import { appendFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendCatalogRecord, readCatalog, rebuildCatalog, type CatalogRecord } from '../../../src/etcd/backup/catalog.js';

function record(id: string, result: 'ok' | 'failed' = 'ok'): CatalogRecord {
  return { format: 1, id, cluster: 'etcd-cluster-0', start: '2026-11-22T10:00:00.000Z', end: '2026-11-22T10:00:01.000Z', durationMs: 1000, result };
}

describe('backup catalog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-catalog-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends one JSON line per attempt, creating the folder 0700 and the file 0600', async () => {
    const file = join(dir, 'deep', 'catalog', 'c.jsonl');
    await appendCatalogRecord(file, record('a'));
    await appendCatalogRecord(file, record('b', 'failed'));
    const content = await readCatalog(file);
    expect(content.records.map((r) => [r.id, r.result])).to.deep.equal([
      ['a', 'ok'],
      ['b', 'failed'],
    ]);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect((await stat(join(dir, 'deep', 'catalog'))).mode & 0o777).to.equal(0o700);
  });

  it('a missing catalog is empty; a torn or foreign line is skipped and reported, not fatal', async () => {
    expect(await readCatalog(join(dir, 'none.jsonl'))).to.deep.equal({ records: [], skipped: [], exists: false });
    const file = join(dir, 'c.jsonl');
    await appendCatalogRecord(file, record('a'));
    await appendFile(file, '{"format":1,"id":"torn","clus\n{"hello":"world"}\n');
    await appendCatalogRecord(file, record('c'));
    const content = await readCatalog(file);
    expect(content.records.map((r) => r.id)).to.deep.equal(['a', 'c']);
    expect(content.skipped.map((s) => s.line)).to.deep.equal([2, 3]);
  });

  it('rebuilds records from the snapshot files present, verifying each (a bad file becomes a failed record)', async () => {
    // Good files are rebuilt in the e2e test (a lost catalog on the lab); here: a missing folder and a broken file.
    const backupDir = join(dir, 'backups');
    expect(await rebuildCatalog(backupDir, 'c')).to.deep.equal([]);
    await mkdir(backupDir);
    await writeFile(join(backupDir, 'snapshot_20260101T000000Z_rev5.db'), 'not a snapshot\n');
    const records = await rebuildCatalog(backupDir, 'c');
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ result: 'failed', rebuilt: true, cluster: 'c', start: '2026-01-01T00:00:00.000Z' });
    expect(records[0]!.error).to.match(/meta\.bad|file\.size/);
  });

  it('records where a snapshot lives; one whose remote copy failed is still a verified local snapshot (retention, listing)', async () => {
    const { buildRecord, catalogedSnapshots, planPrune } = await import('../../../src/etcd/backup/backup-flow.js');
    const { verifySnapshotFile } = await import('../../../src/etcd/snapshot-file.js');
    const { copyFile } = await import('node:fs/promises');
    const backupDir = join(dir, 'backups');
    await mkdir(backupDir);
    const locations = { cluster: 'c', backupDir, catalogFile: join(dir, 'catalog', 'c.jsonl'), metricsFile: join(dir, 'm.prom') };
    const files = ['snapshot_20261201T000000Z_rev2.db', 'snapshot_20261202T000000Z_rev2.db'].map((name) => join(backupDir, name));
    for (const [index, file] of files.entries()) {
      await copyFile(join(process.cwd(), 'test', 'fixtures', 'hostile', 'snapshot.db'), file);
      const report = await verifySnapshotFile(file);
      if (!report.ok) throw new Error('fixture does not verify');
      const remote =
        index === 0
          ? { result: 'ok' as const, url: 's3://b/k', encrypted: true }
          : { result: 'failed' as const, url: 's3://b/k2', encrypted: true, error: 'HTTP 503' };
      const parts = { cluster: 'c', start: '2026-12-01T00:00:00.000Z', accepted: { file, report }, remote };
      const built = buildRecord(index === 0 ? parts : { ...parts, error: 'remote copy failed: HTTP 503' });
      expect([built.result, built.where]).to.deep.equal(index === 0 ? ['ok', 'both'] : ['failed', 'local']);
      await appendCatalogRecord(locations.catalogFile, built);
    }
    const { snapshots } = await catalogedSnapshots(locations);
    expect(snapshots.map((s) => s.knowledge)).to.deep.equal(['recorded', 'recorded']);
    const plan = await planPrune(locations, { keepLast: 1 });
    expect(plan.keep.map((d) => [d.entry.name, d.entry.verified])).to.deep.equal([['snapshot_20261202T000000Z_rev2.db', true]]);
    expect(buildRecord({ cluster: 'c', start: '2026-12-01T00:00:00.000Z', error: 'no member' }).where).to.equal(undefined);
  });
});
