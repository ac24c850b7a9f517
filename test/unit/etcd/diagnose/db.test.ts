// The db facts read page by page, checked against a real etcd 3.4/3.5 db (stopped cleanly, so its
// backend holds every write) and against etcdctl snapshot status on a copy; damaged meta pages and a
// truncated file.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, open, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runOverLocalFiles } from '../../../../src/etcd/diagnose/byte-reader.js';
import { readDbFacts, type DbFacts } from '../../../../src/etcd/diagnose/db.js';
import { putMany, startEtcd } from '../../../helpers/etcd.js';

const run = promisify(execFile);
const versions = [
  { version: '3.4', binary: '/usr/bin/etcd', ip: '127.0.103.23' },
  { version: '3.5', binary: '/opt/orchestrate-lab/etcd-3.5/usr/bin/etcd', ip: '127.0.103.24' },
].filter((v) => existsSync(v.binary));

async function facts(file: string): Promise<DbFacts> {
  return runOverLocalFiles(readDbFacts(file, (await stat(file)).size));
}

async function flipByte(file: string, offset: number): Promise<void> {
  const handle = await open(file, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, offset);
  byte[0] = byte[0]! ^ 0xff;
  await handle.write(byte, 0, 1, offset);
  await handle.close();
}

for (const { version, binary, ip } of versions) {
  describe(`readDbFacts on a db written by etcd ${version}`, function () {
    this.timeout(60_000);
    let work: string;
    let db: string;
    let status: { revision: number; appliedIndex: number; term: number };

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'orchestrate-db-'));
      const etcd = await startEtcd({ ip, binary });
      // Enough keys for branch pages in the `key` bucket.
      await putMany(
        etcd,
        (function* () {
          for (let i = 0; i < 3000; i++) yield { key: `/registry/pods/p-${String(i).padStart(5, '0')}`, value: `v-${i}-${'y'.repeat(i % 200)}` };
        })(),
      );
      const [row] = JSON.parse((await etcd.etcdctl(['endpoint', 'status', '-w', 'json'])).replace(/:\s*(\d{15,})/g, ':"$1"')) as {
        Status: { header: { revision: number }; raftIndex: number; raftAppliedIndex?: number; raftTerm: number };
      }[];
      status = {
        revision: row!.Status.header.revision,
        appliedIndex: row!.Status.raftAppliedIndex ?? row!.Status.raftIndex,
        term: row!.Status.raftTerm,
      };
      await etcd.stop();
      db = join(work, 'db');
      await copyFile(join(etcd.dataDir, 'member', 'snap', 'db'), db);
      await etcd.destroy();
    });

    after(async () => {
      await rm(work, { recursive: true, force: true });
    });

    it('finds the revision, consistent index and term, reading a handful of pages', async () => {
      const read = await facts(db);
      expect(read.ok, read.problems.join('; ')).to.equal(true);
      expect(read.revision).to.equal(status.revision);
      expect(read.consistentIndex).to.be.within(status.appliedIndex - 2, status.appliedIndex);
      // The term is written to the backend since 3.5.
      expect(read.term).to.equal(version === '3.4' ? 0 : status.term);
      expect(read.pagesRead).to.be.lessThan(12);
    });

    it('agrees with etcdctl snapshot status on the revision', async () => {
      const copy = join(work, 'copy.db');
      await copyFile(db, copy);
      const { stdout } = await run('etcdctl', ['snapshot', 'status', '-w', 'json', copy], { env: { ...process.env, ETCDCTL_API: '3' } });
      expect((await facts(db)).revision).to.equal((JSON.parse(stdout) as { revision: number }).revision);
    });

    it('one damaged meta page is a warning (bbolt opens the other); both damaged is a problem', async () => {
      const one = join(work, 'one-meta.db');
      await copyFile(db, one);
      await flipByte(one, 16 + 20);
      const oneFacts = await facts(one);
      expect(oneFacts.ok).to.equal(true);
      expect(oneFacts.warnings.join(' ')).to.contain('meta 0');
      const both = join(work, 'both-meta.db');
      await copyFile(one, both);
      await flipByte(both, (oneFacts.pageSize ?? 4096) + 16 + 20);
      const bothFacts = await facts(both);
      expect(bothFacts.ok).to.equal(false);
      expect(bothFacts.problems.join(' ')).to.contain('no valid meta page');
    });

    it('a truncated db is found by its size against the high water mark', async () => {
      const cut = join(work, 'cut.db');
      await copyFile(db, cut);
      const whole = await facts(db);
      await truncate(cut, (whole.highWater! - 2) * whole.pageSize!);
      const read = await facts(cut);
      expect(read.ok).to.equal(false);
      expect(read.problems.join(' ')).to.contain('truncated');
    });

    it('a page on the path to the last key that is not what its parent says is damage, not a wrong revision', async () => {
      const bad = join(work, 'bad-page.db');
      await copyFile(db, bad);
      const read = await facts(db);
      // Overwrite every page header after the metas and the freelist with garbage ids.
      const handle = await open(bad, 'r+');
      const pageSize = read.pageSize ?? 4096;
      const pages = (await stat(bad)).size / pageSize;
      for (let p = 2; p < pages; p++) await handle.write(Buffer.from([0xee, 0xee, 0xee, 0xee]), 0, 4, p * pageSize);
      await handle.close();
      const damaged = await facts(bad);
      expect(damaged.ok).to.equal(false);
      expect(damaged.problems.join(' ')).to.match(/header says page|outside the db/);
    });
  });
}
