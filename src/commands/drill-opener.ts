// What `orchestrate drill` reads beyond a clear file in backup_dir, given to the drill as its opener:
// an age-encrypted snapshot (backup_encryption.local, or a `.age` file) decrypted with the inventory's
// identity, and `s3://bucket/key` downloaded from backup_remote, checked against its record, decrypted
// and verified. Either lands in an owner-only temporary folder in backup_dir that the drill removes.
import type { Inventory } from '../config/types.js';
import type { SnapshotOpener } from '../drill/drill-snapshot.js';
import { RefusedError } from '../errors.js';
import { backupLocations } from '../etcd/backup/locations.js';
import { ensureBackupDir } from '../etcd/backup/snapshot-store.js';
import { verifiedFacts } from '../etcd/snapshot-file.js';
import { decryptToTemporary, temporaryFolder } from '../remote/local-encryption.js';
import { loadInventoryIdentity, openRemoteBackups } from '../remote/remote-backups.js';

export function drillSnapshotOpener(inventory: Inventory, env: NodeJS.ProcessEnv = process.env): SnapshotOpener {
  return async (request, signal) => {
    const locations = backupLocations(inventory);
    await ensureBackupDir(locations.backupDir);
    if ('encryptedFile' in request) {
      const identity = await loadInventoryIdentity(inventory, env);
      const plain = await decryptToTemporary(request.encryptedFile, identity, {
        dir: locations.backupDir,
        ...(request.sha256 ? { expect: { sha256: request.sha256 } } : {}),
        ...(signal ? { signal } : {}),
      });
      return {
        path: plain.path,
        ...verifiedFacts(plain.report),
        discard: () => plain.discard(),
      };
    }
    const remote = await openRemoteBackups(inventory, locations, { env });
    if (!remote)
      throw new RefusedError(
        `--snapshot ${request.url} names a remote copy, but the inventory sets no backup_remote`,
        'add backup_remote to the inventory, or download the object and give its path',
      );
    try {
      // Needed only when the object is encrypted; then a missing one is reported by the pull, before any download.
      const identity = await loadInventoryIdentity(inventory, env).catch(() => undefined);
      const folder = await temporaryFolder(locations.backupDir);
      const pulled = await remote
        .pullUrl(request.url, folder.path, identity, { temporary: true, ...(signal ? { signal } : {}) })
        .catch(async (error: unknown) => {
          await folder.discard();
          throw error;
        });
      return {
        path: pulled.path,
        sha256: pulled.sha256,
        size: pulled.size,
        revision: pulled.revision,
        totalKey: pulled.totalKey,
        takenAt: pulled.takenAt,
        discard: folder.discard,
      };
    } finally {
      remote.close();
    }
  };
}
