// backup_encryption.local on the deploy host, with a real snapshot and real age keys (no lab): the
// verified snapshot becomes `<name>.db.age` and no clear file stays, also when the encryption fails; the
// catalog records both sha256s; listing, re-verification, retention and a catalog rebuild read the
// encrypted file; the remote copy uploads it as it is; a pull keeps it encrypted.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { copyFile, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acceptSnapshot, buildRecord, planPrune, type SnapshotSealer } from '../../../src/etcd/backup/backup-flow.js';
import { appendCatalogRecord, rebuildCatalog } from '../../../src/etcd/backup/catalog.js';
import { backupLocations } from '../../../src/etcd/backup/locations.js';
import { inspectSnapshots } from '../../../src/etcd/backup/snapshot-inventory.js';
import { listSnapshotFiles } from '../../../src/etcd/backup/snapshot-store.js';
import { loadIdentity } from '../../../src/remote/identity.js';
import { decryptedTemporaries, encryptLocalCopy, encryptedVerifier } from '../../../src/remote/local-encryption.js';
import { localEncryptionFor } from '../../../src/remote/remote-backups.js';
import { memoryRemote, SNAPSHOT, type MemoryRemote } from '../remote/memory-remote.js';

const TAKEN_AT = '2026-12-01T10:15:00.000Z';
const NAME = 'snapshot_20261201T101500Z_rev2.db';

const sha256Of = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('encrypted local snapshots (backup_encryption.local)', () => {
  let fixture: MemoryRemote;
  let seal: SnapshotSealer;
  let recipients: string[];

  beforeEach(async () => {
    fixture = await memoryRemote({ localEncryption: true });
    const encryption = localEncryptionFor(fixture.inventory);
    if (!encryption) throw new Error('local: true was not read');
    recipients = encryption.recipients;
    seal = async (plain, sha256, dest) => encryptLocalCopy(plain, recipients, sha256, dest);
  });
  afterEach(() => rm(fixture.dir, { recursive: true, force: true }));

  /** A snapshot just received, under its temporary name. */
  async function received(): Promise<string> {
    const partial = join(fixture.backupDir, `${NAME}.partial-0123456789ab`);
    await copyFile(SNAPSHOT, partial);
    return partial;
  }

  async function acceptSealed() {
    const partialPath = await received();
    const accepted = await acceptSnapshot({ partialPath, takenAt: TAKEN_AT }, fixture.backupDir, { seal });
    const locations = backupLocations(fixture.inventory);
    const record = buildRecord({ cluster: locations.cluster, start: TAKEN_AT, accepted });
    await appendCatalogRecord(locations.catalogFile, record);
    return { accepted, record, locations };
  }

  it('the verified snapshot becomes <name>.age (0600), the clear file is gone, no pointer; the record has both sha256s', async () => {
    const { accepted, record } = await acceptSealed();
    expect(accepted.file).to.equal(join(fixture.backupDir, `${NAME}.age`));
    expect(accepted.pointer).to.equal(undefined);
    expect(await readdir(fixture.backupDir)).to.deep.equal([`${NAME}.age`]);
    expect((await stat(accepted.file)).mode & 0o777).to.equal(0o600);
    const plaintextSha = await sha256Of(SNAPSHOT);
    expect(record).to.deep.include({ file: accepted.file, sha256: plaintextSha, size: (await stat(SNAPSHOT)).size, revision: 2, keys: 5 });
    expect(record.encrypted).to.deep.equal({ size: (await stat(accepted.file)).size, sha256: await sha256Of(accepted.file) });
    expect(record.encrypted?.sha256).to.not.equal(plaintextSha);
  });

  it('an encryption that fails leaves neither the clear file nor a partial encrypted one', async () => {
    const partialPath = await received();
    const failing: SnapshotSealer = (plain, _sha256, dest) => encryptLocalCopy(plain, recipients, 'f'.repeat(64), dest);
    let error: Error | undefined;
    await acceptSnapshot({ partialPath, takenAt: TAKEN_AT }, fixture.backupDir, { seal: failing }).catch((e: unknown) => (error = e as Error));
    expect(error?.message).to.match(/changed since it was verified/);
    expect(await readdir(fixture.backupDir)).to.deep.equal([]);
  });

  it('encryptLocalCopy never writes over, nor removes, an existing file of the name it is given', async () => {
    const dest = join(fixture.backupDir, `${NAME}.age`);
    await writeFile(dest, 'someone else');
    const sha256 = await sha256Of(SNAPSHOT);
    for (const expected of [sha256, 'f'.repeat(64)]) {
      const failed = await encryptLocalCopy(SNAPSHOT, recipients, expected, dest).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(failed?.message).to.match(expected === sha256 ? /EEXIST/ : /changed since it was verified/);
      expect(await readFile(dest, 'utf8')).to.equal('someone else');
    }
    expect(await readdir(fixture.backupDir)).to.deep.equal([`${NAME}.age`]);
  });

  it('listed as a snapshot; recorded: ok; re-verified by its sha256 without the identity, fully with it; an altered byte is BAD', async () => {
    const { accepted, locations } = await acceptSealed();
    const [file] = await listSnapshotFiles(fixture.backupDir);
    expect(file).to.deep.include({ name: `${NAME}.age`, encrypted: true, ours: true, revisionFromName: 2 });
    const recorded = await inspectSnapshots(locations);
    expect(recorded.rows[0]).to.deep.include({ status: 'ok', checked: 'catalog', encrypted: true, isPointer: false, revision: 2 });
    const hashed = await inspectSnapshots(locations, { reverify: true });
    expect(hashed.rows[0]).to.deep.include({ status: 'ok', checked: 'verified' });

    const identity = await loadIdentity(undefined, { ORCHESTRATE_AGE_IDENTITY: fixture.identity });
    const verifyEncrypted = encryptedVerifier(identity, fixture.backupDir);
    const full = await inspectSnapshots(locations, { reverify: true, verifyEncrypted });
    expect(full.rows[0]).to.deep.include({ status: 'ok', checked: 'verified', revision: 2, keys: 5, sha256: await sha256Of(SNAPSHOT) });
    expect(decryptedTemporaries()).to.deep.equal([]);
    expect(await readdir(fixture.backupDir)).to.deep.equal([`${NAME}.age`]);

    const bytes = await readFile(accepted.file);
    bytes.writeUInt8((bytes.readUInt8(bytes.length - 100) + 1) % 256, bytes.length - 100);
    await writeFile(accepted.file, bytes);
    const altered = await inspectSnapshots(locations, { reverify: true });
    expect(altered.rows[0]?.status).to.equal('bad');
    expect(altered.rows[0]?.problems).to.match(/changed since it was written/);
    const failed = await inspectSnapshots(locations, { reverify: true, verifyEncrypted });
    expect(failed.rows[0]?.status).to.equal('bad');
    expect(failed.rows[0]?.problems).to.match(/failed authentication|does not match its record/);
    expect(await readdir(fixture.backupDir)).to.deep.equal([`${NAME}.age`]);
  });

  it('without a catalog: not counted by retention (kept), rebuilt with the identity, listed BAD without it', async () => {
    const { locations } = await acceptSealed();
    await rm(locations.catalogFile);
    const plan = await planPrune(locations, { keepLast: 1 });
    expect(plan.delete).to.deep.equal([]);
    expect(plan.keep[0]?.reasons.join()).to.match(/not verified/);
    expect(await rebuildCatalog(fixture.backupDir, locations.cluster)).to.deep.equal([]);
    const identity = await loadIdentity(undefined, { ORCHESTRATE_AGE_IDENTITY: fixture.identity });
    const [rebuilt] = await rebuildCatalog(fixture.backupDir, locations.cluster, { verifyEncrypted: encryptedVerifier(identity, fixture.backupDir) });
    expect(rebuilt).to.deep.include({ result: 'ok', revision: 2, sha256: await sha256Of(SNAPSHOT) });
    expect(rebuilt?.encrypted?.sha256).to.equal(await sha256Of(join(fixture.backupDir, `${NAME}.age`)));
    await rm(locations.catalogFile, { force: true });
    const listed = await inspectSnapshots({ ...locations, catalogFile: join(fixture.dir, 'read-only', 'x.jsonl') });
    expect(listed.rows[0]?.status).to.equal('bad');
    expect(listed.rows[0]?.problems).to.match(/give the age identity/);
  });

  it('the remote copy is the local age file, uploaded as it is; a pull keeps it encrypted and records it', async () => {
    const { accepted, record } = await acceptSealed();
    const copied = await fixture.remote.copy({
      path: accepted.file,
      name: NAME,
      takenAt: new Date(TAKEN_AT),
      size: accepted.report.fileSize,
      sha256: accepted.report.sha256,
      revision: 2,
      ...(accepted.encrypted ? { sealed: accepted.encrypted } : {}),
    });
    expect(copied.record).to.deep.include({
      key: `prod/snapshots/unit/${NAME}.age`,
      sha256: record.encrypted?.sha256,
      plaintextSha256: record.sha256,
    });
    await rm(accepted.file);
    const identity = await loadIdentity(undefined, { ORCHESTRATE_AGE_IDENTITY: fixture.identity });
    const pulled = await fixture.remote.pull(copied.record, fixture.backupDir, identity);
    expect(pulled).to.deep.include({ path: accepted.file, sha256: record.sha256, revision: 2, alreadyLocal: false });
    expect(await readdir(fixture.backupDir)).to.deep.equal([`${NAME}.age`]);
    expect(await sha256Of(accepted.file)).to.equal(record.encrypted?.sha256);
    const rows = (await inspectSnapshots(backupLocations(fixture.inventory))).rows;
    expect(rows[0]).to.deep.include({ status: 'ok', checked: 'catalog', encrypted: true });
  });
});
