// The restore's snapshot across both places, over a RemoteBackups on an in-memory store: `latest` in either
// place, a remote-only snapshot pulled and verified here, an altered copy refused (exit 5), a missing
// identity (exit 2), a silent remote not blocking a restore from backup_dir, s3:// without backup_remote.
import { expect } from 'chai';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadInventory } from '../../../../src/config/inventory.js';
import { chooseRestoreSnapshot, type ChoiceLog } from '../../../../src/commands/restore/snapshot-choice.js';
import type { RestoreEvent } from '../../../../src/commands/restore/events.js';
import { RefusedError } from '../../../../src/errors.js';
import { IdentityError } from '../../../../src/remote/identity.js';
import { decryptedTemporaries, discardDecryptedSnapshots, encryptLocalCopy } from '../../../../src/remote/local-encryption.js';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { memoryRemote, placeSnapshot, type MemoryRemote } from '../../remote/memory-remote.js';

function recordingLog(): ChoiceLog & { events: RestoreEvent[]; warnings: string[] } {
  const events: RestoreEvent[] = [];
  const warnings: string[] = [];
  return { events, warnings, emit: (event) => events.push(event), warn: (message) => warnings.push(message) };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('restore: the snapshot in either place (backup_remote)', () => {
  let fixture: MemoryRemote;
  const env = () => ({ ORCHESTRATE_AGE_IDENTITY: fixture.identity });
  const open = () => Promise.resolve(fixture.remote);

  beforeEach(async () => {
    fixture = await memoryRemote();
  });
  afterEach(() => rm(fixture.dir, { recursive: true, force: true }));

  /** A copy in the bucket only: uploaded from backup_dir, then the local file removed. */
  async function remoteOnly(name: string, takenAt: string): Promise<string> {
    const placed = await placeSnapshot(fixture.backupDir, name);
    await fixture.remote.copy({ ...placed, name, takenAt: new Date(takenAt), revision: 2 });
    await rm(placed.path);
    return placed.sha256;
  }

  it('latest, with backup_dir gone: pulls the newest verified copy, decrypts and verifies it here', async () => {
    const sha256 = await remoteOnly('snapshot_20261201T101500Z_rev2.db', '2026-12-01T10:15:00Z');
    await rm(fixture.backupDir, { recursive: true });
    const log = recordingLog();
    const chosen = await chooseRestoreSnapshot(fixture.inventory, 'latest', log, { env: env(), open });
    expect(chosen).to.deep.include({
      path: join(fixture.backupDir, 'snapshot_20261201T101500Z_rev2.db'),
      sha256,
      revision: 2,
      totalKey: 5,
      takenAt: '2026-12-01T10:15:00.000Z',
      takenAtSource: 'remote copy s3://backups/prod/snapshots/unit/snapshot_20261201T101500Z_rev2.db.age',
    });
    expect(log.events.map((e) => ('message' in e ? e.message : ''))).to.deep.equal([
      `pulled s3://backups/prod/snapshots/unit/snapshot_20261201T101500Z_rev2.db.age -> ${chosen.path}: checked against its record, decrypted and verified on this host`,
    ]);
  });

  it('latest: a newer local snapshot is used as it is; a newer remote-only one wins over an older local one', async () => {
    await remoteOnly('snapshot_20261201T101500Z_rev2.db', '2026-12-01T10:15:00Z');
    const local = await placeSnapshot(fixture.backupDir, 'snapshot_20261202T101500Z_rev2.db');
    const first = await chooseRestoreSnapshot(fixture.inventory, undefined, recordingLog(), { env: env(), open });
    expect([first.path, first.takenAtSource]).to.deep.equal([local.path, 'backup folder']);
    await remoteOnly('snapshot_20261203T101500Z_rev2.db', '2026-12-03T10:15:00Z');
    const second = await chooseRestoreSnapshot(fixture.inventory, 'latest', recordingLog(), { env: env(), open });
    expect(second.path).to.equal(join(fixture.backupDir, 'snapshot_20261203T101500Z_rev2.db'));
  });

  it('a snapshot name or an s3:// address found only in the bucket is pulled; an altered object is refused (exit 5), nothing left behind', async () => {
    await remoteOnly('snapshot_20261201T101500Z_rev2.db', '2026-12-01T10:15:00Z');
    const byName = await chooseRestoreSnapshot(fixture.inventory, 'snapshot_20261201T101500Z_rev2.db', recordingLog(), { env: env(), open });
    expect(byName.revision).to.equal(2);
    await rm(byName.path);
    const key = 'prod/snapshots/unit/snapshot_20261201T101500Z_rev2.db.age';
    const object = fixture.store.objects.get(key)!;
    object.data[object.data.length - 40] = (object.data[object.data.length - 40] ?? 0) ^ 0x01;
    const error = await rejection(chooseRestoreSnapshot(fixture.inventory, `s3://backups/${key}`, recordingLog(), { env: env(), open }));
    expect(error).to.be.instanceOf(RefusedError);
    expect((error as { exitCode?: number }).exitCode).to.equal(5);
    expect(error.message).to.match(/altered or damaged on the server.*no host was touched/);
    expect((await readdir(fixture.backupDir)).filter((n) => n.startsWith('snapshot_'))).to.deep.equal([]);
  });

  it('an encrypted remote copy without an identity is an IdentityError (exit 2), before anything is downloaded', async () => {
    await remoteOnly('snapshot_20261201T101500Z_rev2.db', '2026-12-01T10:15:00Z');
    const read: string[] = [];
    const get = fixture.store.get.bind(fixture.store);
    fixture.store.get = (key, options) => {
      read.push(key);
      return get(key, options);
    };
    const error = await rejection(chooseRestoreSnapshot(fixture.inventory, 'latest', recordingLog(), { env: {}, open }));
    expect(error).to.be.instanceOf(IdentityError);
    expect((error as { exitCode?: number }).exitCode).to.equal(2);
    expect(error.message).to.match(/no age identity was given/);
    // Only the catalog was read: the snapshot object never was, not even its header.
    expect([...new Set(read)]).to.deep.equal(['prod/catalog/unit.json']);
    const bad = join(fixture.dir, 'identity.txt');
    await writeFile(bad, 'not a key\n');
    const unreadable = await rejection(
      chooseRestoreSnapshot(fixture.inventory, 'latest', recordingLog(), { env: { ORCHESTRATE_AGE_IDENTITY_FILE: bad }, open }),
    );
    expect(unreadable.message).to.match(/line 1 is not an age X25519 identity/);
  });

  it('a remote that cannot be listed does not block a restore from backup_dir: the newest local snapshot, with a warning', async () => {
    const local = await placeSnapshot(fixture.backupDir, 'snapshot_20261202T101500Z_rev2.db');
    fixture.store.failures.set(
      'get',
      Array.from({ length: 10 }, () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    );
    fixture.store.failures.set(
      'head',
      Array.from({ length: 10 }, () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    );
    fixture.store.failures.set(
      'list',
      Array.from({ length: 10 }, () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    );
    const log = recordingLog();
    const chosen = await chooseRestoreSnapshot(fixture.inventory, 'latest', log, { env: env(), open });
    expect(chosen.path).to.equal(local.path);
    expect(log.warnings.join('\n')).to.match(/ECONNREFUSED.*using the newest verified snapshot in .* \(a newer remote copy may exist\)/);
  });

  it('a local .age file (downloaded by hand) is decrypted into an owner-only temporary, verified, never named in backup_dir; a wrong identity refused', async () => {
    const placed = await placeSnapshot(fixture.backupDir, 'snapshot_20261204T101500Z_rev2.db');
    const recipient = await identityToRecipient(fixture.identity);
    const sealed = await encryptLocalCopy(placed.path, [recipient], placed.sha256);
    const elsewhere = join(fixture.dir, 'downloads');
    await mkdir(elsewhere);
    const agePath = join(elsewhere, 'snapshot_20261204T101500Z_rev2.db.age');
    await rename(sealed.path, agePath);
    await rm(placed.path);

    const wrong = await rejection(
      chooseRestoreSnapshot(fixture.inventory, agePath, recordingLog(), { env: { ORCHESTRATE_AGE_IDENTITY: await generateX25519Identity() }, open }),
    );
    expect(wrong).to.be.instanceOf(IdentityError);
    expect(wrong.message).to.match(/cannot decrypt/);
    expect(await readdir(fixture.backupDir)).to.deep.equal([]);
    const missing = await rejection(chooseRestoreSnapshot(fixture.inventory, agePath, recordingLog(), { env: {}, open }));
    expect(missing).to.be.instanceOf(IdentityError);
    expect(missing.message).to.match(/no age identity was given/);

    const log = recordingLog();
    const chosen = await chooseRestoreSnapshot(fixture.inventory, agePath, log, { env: env(), open });
    expect([chosen.sha256, chosen.decryptedFrom]).to.deep.equal([placed.sha256, agePath]);
    expect(dirname(dirname(chosen.path))).to.equal(fixture.backupDir);
    expect(basename(chosen.path)).to.equal('snapshot_20261204T101500Z_rev2.db');
    expect((await stat(chosen.path)).mode & 0o777).to.equal(0o600);
    expect((await stat(dirname(chosen.path))).mode & 0o777).to.equal(0o700);
    expect(decryptedTemporaries()).to.deep.equal([dirname(chosen.path)]);
    expect(log.events.map((e) => ('message' in e ? e.message : ''))).to.deep.equal([
      `decrypted ${agePath} into ${chosen.path} (owner-only, removed when the restore ends) and verified it on this host`,
    ]);
    await discardDecryptedSnapshots();
    expect(await readdir(fixture.backupDir)).to.deep.equal([]);
    expect(decryptedTemporaries()).to.deep.equal([]);
  });

  it('without backup_remote: s3:// is refused, a file is used as before', async () => {
    const local = await placeSnapshot(fixture.backupDir, 'snapshot_20261202T101500Z_rev2.db');
    const plainFile = join(fixture.dir, 'plain.yml');
    await writeFile(plainFile, 'all:\n  vars:\n    etcd_cluster_token: unit\n  children:\n    etcd:\n      hosts:\n        127.0.0.1: {}\n');
    const { inventory } = await loadInventory(plainFile, { requireEtcd: true });
    const error = await rejection(chooseRestoreSnapshot(inventory, 's3://backups/x.db.age', recordingLog()));
    expect(error).to.be.instanceOf(RefusedError);
    expect(error.message).to.match(/sets no backup_remote/);
    const chosen = await chooseRestoreSnapshot(inventory, local.path, recordingLog());
    expect(chosen.sha256).to.equal(local.sha256);
  });
});
