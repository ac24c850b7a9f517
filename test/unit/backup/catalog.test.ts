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
});
