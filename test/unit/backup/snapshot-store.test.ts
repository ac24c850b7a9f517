import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureBackupDir,
  listSnapshotFiles,
  parseSnapshotFileName,
  placeSnapshot,
  removeStaleTemporaries,
  snapshotFileName,
  updatePointer,
} from '../../../src/etcd/backup/snapshot-store.js';

describe('snapshot store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names snapshots by UTC time and revision, and reads the name back', () => {
    const at = new Date('2026-11-22T09:08:07.654Z');
    expect(snapshotFileName(at, 1234)).to.equal('snapshot_20261122T090807Z_rev1234.db');
    expect(snapshotFileName(at, 1234, 2)).to.equal('snapshot_20261122T090807Z_rev1234_2.db');
    expect(parseSnapshotFileName('snapshot_20261122T090807Z_rev1234_2.db')).to.deep.equal({
      takenAt: new Date('2026-11-22T09:08:07Z'),
      revision: 1234,
    });
    for (const name of ['snapshot.db', 'snapshot_20261122T090807Z_rev1.db.partial-abc123', 'backup.db', 'snapshot_2026_rev1.db']) {
      expect(parseSnapshotFileName(name), name).to.equal(undefined);
    }
    // Names sort by time.
    const names = [new Date('2026-01-02T00:00:00Z'), new Date('2025-12-31T23:59:59Z'), new Date('2026-01-01T00:00:00Z')].map((d) =>
      snapshotFileName(d, 1),
    );
    expect([...names].sort()).to.deep.equal([names[1], names[2], names[0]]);
  });

  it('creates the folder owner-only and tightens an existing one', async () => {
    const backups = join(dir, 'backups');
    await ensureBackupDir(backups);
    expect((await stat(backups)).mode & 0o777).to.equal(0o700);
    await chmod(backups, 0o755);
    await ensureBackupDir(backups);
    expect((await stat(backups)).mode & 0o777).to.equal(0o700);
  });

  it('never overwrites an existing snapshot: a second one in the same second gets _2', async () => {
    const at = new Date('2026-11-22T09:08:07Z');
    await writeFile(join(dir, 'a.partial-1'), 'first');
    await writeFile(join(dir, 'b.partial-2'), 'second');
    const one = await placeSnapshot(join(dir, 'a.partial-1'), dir, at, 5);
    const two = await placeSnapshot(join(dir, 'b.partial-2'), dir, at, 5);
    expect(one).to.equal(join(dir, 'snapshot_20261122T090807Z_rev5.db'));
    expect(two).to.equal(join(dir, 'snapshot_20261122T090807Z_rev5_2.db'));
    expect(await readFile(one, 'utf8')).to.equal('first');
    expect(await readFile(two, 'utf8')).to.equal('second');
    expect((await readdir(dir)).sort()).to.deep.equal(['snapshot_20261122T090807Z_rev5.db', 'snapshot_20261122T090807Z_rev5_2.db']);
  });

  it('makes snapshot.db a copy of the latest file, replaced atomically, that writing through cannot reach', async () => {
    await writeFile(join(dir, 'snapshot_20261122T090807Z_rev5.db'), 'old');
    await writeFile(join(dir, 'snapshot_20261122T100000Z_rev9.db'), 'new');
    await updatePointer(dir, join(dir, 'snapshot_20261122T090807Z_rev5.db'));
    await updatePointer(dir, join(dir, 'snapshot_20261122T100000Z_rev9.db'));
    const pointer = join(dir, 'snapshot.db');
    expect(await readFile(pointer, 'utf8')).to.equal('new');
    expect((await stat(pointer)).ino).not.to.equal((await stat(join(dir, 'snapshot_20261122T100000Z_rev9.db'))).ino);
    expect((await stat(pointer)).mode & 0o777).to.equal(0o600);
    // kubeasz's backup ends with `cp -f snapshot_<time>.db snapshot.db`: our named file must not change.
    await writeFile(pointer, 'written by another tool');
    expect(await readFile(join(dir, 'snapshot_20261122T100000Z_rev9.db'), 'utf8')).to.equal('new');
    await updatePointer(dir, join(dir, 'snapshot_20261122T100000Z_rev9.db'));
    // The pointer survives the dated name being deleted (retention).
    await rm(join(dir, 'snapshot_20261122T100000Z_rev9.db'));
    expect(await readFile(pointer, 'utf8')).to.equal('new');
    expect((await readdir(dir)).filter((n) => n.includes('tmp'))).to.deep.equal([]);
  });

  it('lists *.db files newest first and never the pointer or temporary files', async () => {
    await writeFile(join(dir, 'snapshot_20261122T090807Z_rev5.db'), 'x');
    await writeFile(join(dir, 'snapshot_20261123T090807Z_rev6.db'), 'x');
    await writeFile(join(dir, 'snapshot.db'), 'x');
    await writeFile(join(dir, 'snapshot_20261124T000000Z.db.partial-0a1b2c'), 'x');
    await writeFile(join(dir, '.snapshot.db.tmp-0a1b2c'), 'x');
    await writeFile(join(dir, 'copied-by-hand.db'), 'x');
    await utimes(join(dir, 'copied-by-hand.db'), new Date('2026-11-22T12:00:00Z'), new Date('2026-11-22T12:00:00Z'));
    await mkdir(join(dir, 'folder.db'));
    const listed = await listSnapshotFiles(dir);
    expect(listed.map((e) => [e.name, e.ours])).to.deep.equal([
      ['snapshot_20261123T090807Z_rev6.db', true],
      ['copied-by-hand.db', false],
      ['snapshot_20261122T090807Z_rev5.db', true],
    ]);
    expect(await listSnapshotFiles(join(dir, 'missing'))).to.deep.equal([]);
  });

  it('removes temporary files of dead runs, only when old and only temporary names', async () => {
    await writeFile(join(dir, 'snapshot_x.db.partial-0a1b2c'), 'x');
    await writeFile(join(dir, 'snapshot_y.db.partial-0d0e0f'), 'x');
    await writeFile(join(dir, 'snapshot_20261122T090807Z_rev5.db'), 'x');
    const old = new Date(Date.now() - 3 * 86_400_000);
    await utimes(join(dir, 'snapshot_x.db.partial-0a1b2c'), old, old);
    await utimes(join(dir, 'snapshot_20261122T090807Z_rev5.db'), old, old);
    expect(await removeStaleTemporaries(dir, 86_400_000)).to.deep.equal(['snapshot_x.db.partial-0a1b2c']);
    expect((await readdir(dir)).sort()).to.deep.equal(['snapshot_20261122T090807Z_rev5.db', 'snapshot_y.db.partial-0d0e0f']);
  });
});
