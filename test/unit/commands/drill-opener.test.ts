// The drill's snapshot when backup_dir holds encrypted snapshots (backup_encryption.local): decrypted by
// the command's opener into an owner-only temporary folder, verified, reported under the encrypted file's
// name, and removed by `discard`; a missing or wrong identity, or no opener, refuses it with the reason.
import { expect } from 'chai';
import { copyFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generateX25519Identity } from 'age-encryption';
import { drillSnapshotOpener } from '../../../src/commands/drill-opener.js';
import { chooseDrillSnapshot } from '../../../src/drill/drill-snapshot.js';
import { acceptSnapshot, buildRecord } from '../../../src/etcd/backup/backup-flow.js';
import { appendCatalogRecord } from '../../../src/etcd/backup/catalog.js';
import { backupLocations } from '../../../src/etcd/backup/locations.js';
import { encryptLocalCopy } from '../../../src/remote/local-encryption.js';
import { localEncryptionFor } from '../../../src/remote/remote-backups.js';
import { memoryRemote, SNAPSHOT, type MemoryRemote } from '../remote/memory-remote.js';

const NAME = 'snapshot_20261201T101500Z_rev2.db';

describe('drill: encrypted snapshots through the command opener', () => {
  let fixture: MemoryRemote;
  let agePath: string;

  beforeEach(async () => {
    fixture = await memoryRemote({ localEncryption: true });
    const recipients = localEncryptionFor(fixture.inventory)?.recipients ?? [];
    const partialPath = join(fixture.backupDir, `${NAME}.partial-00aa11bb22cc`);
    await copyFile(SNAPSHOT, partialPath);
    const accepted = await acceptSnapshot({ partialPath, takenAt: '2026-12-01T10:15:00.000Z' }, fixture.backupDir, {
      seal: (plain, sha256, dest) => encryptLocalCopy(plain, recipients, sha256, dest),
    });
    agePath = accepted.file;
    const locations = backupLocations(fixture.inventory);
    await appendCatalogRecord(locations.catalogFile, buildRecord({ cluster: locations.cluster, start: '2026-12-01T10:15:00.000Z', accepted }));
  });
  afterEach(() => rm(fixture.dir, { recursive: true, force: true }));

  const source = (env: NodeJS.ProcessEnv) => ({
    locations: backupLocations(fixture.inventory),
    opener: drillSnapshotOpener(fixture.inventory, env),
  });

  it('latest: decrypted into an owner-only temporary, verified against the record, removed by discard', async () => {
    const choice = await chooseDrillSnapshot(source({ ORCHESTRATE_AGE_IDENTITY: fixture.identity }), 'latest');
    if (!choice.ok) throw new Error(choice.message);
    const { snapshot } = choice;
    expect(snapshot).to.deep.include({ from: agePath, revision: 2, totalKey: 5, hasHash: true });
    expect(dirname(dirname(snapshot.path))).to.equal(fixture.backupDir);
    expect((await stat(snapshot.path)).mode & 0o777).to.equal(0o600);
    await snapshot.discard?.();
    expect(await readdir(fixture.backupDir)).to.deep.equal([`${NAME}.age`]);
  });

  it('a .age file named; a missing or wrong identity, or no opener, is refused with the reason and leaves nothing', async () => {
    const named = await chooseDrillSnapshot(source({ ORCHESTRATE_AGE_IDENTITY: fixture.identity }), agePath);
    expect(named.ok).to.equal(true);
    if (named.ok) await named.snapshot.discard?.();
    const missing = await chooseDrillSnapshot(source({}), agePath);
    expect(missing).to.deep.include({ ok: false });
    expect(!missing.ok && missing.message).to.match(/no age identity was given.*fix: set ORCHESTRATE_AGE_IDENTITY_FILE/);
    const wrong = await chooseDrillSnapshot(source({ ORCHESTRATE_AGE_IDENTITY: await generateX25519Identity() }), 'latest');
    expect(!wrong.ok && wrong.message).to.match(/cannot decrypt .*snapshot_20261201T101500Z_rev2\.db\.age: it was encrypted for other recipients/);
    const unopened = await chooseDrillSnapshot({ locations: backupLocations(fixture.inventory) }, 'latest');
    expect(!unopened.ok && unopened.message).to.match(/encrypted or remote, and this drill was given no way to read it/);
    expect(await readdir(fixture.backupDir)).to.deep.equal([`${NAME}.age`]);
  });
});
