// `etcd.remote-copy`: after etcd.verify accepted the snapshot, copy it to backup_remote (S3-compatible),
// encrypted with age on the way when backup_encryption is set, and check the copy on the server before it
// counts. A copy that fails or does not verify fails the attempt; the verified local snapshot is kept and
// recorded as local-only. Without backup_remote the task is skipped.
import { basename } from 'node:path';
import { backupLocations } from '../../etcd/backup/locations.js';
import { parseSnapshotFileName } from '../../etcd/backup/snapshot-store.js';
import { describeCredentials } from '../../remote/credentials.js';
import { copyFailed, copySucceeded, describePlannedCopy } from '../../remote/copy-summary.js';
import type { RemoteCopyResult } from '../../remote/copy-snapshot.js';
import { snapshotBaseName } from '../../remote/places.js';
import { remoteSettingsFor, type RemoteBackups } from '../../remote/remote-backups.js';
import { defineModule, type ModuleOutcome } from '../define.js';
import { call } from '../plan-steps.js';
import { backupAttempt, failAttempt, type BackupAttempt } from './backup-attempt.js';
import { remoteBackupsFor } from './remote-access.js';

const MiB = 1024 * 1024;

export const etcdRemoteCopyModule = defineModule({
  id: 'etcd.remote-copy',
  meta: { runsOn: 'deploy-host' },
  schema: { type: 'object', properties: {}, additionalProperties: false },
  async *plan(ctx) {
    const attempt = backupAttempt(ctx);
    if (!remoteSettingsFor(ctx.inventory).settings) {
      return { changed: false, skipped: true, msg: 'no backup_remote in the inventory: the snapshot stays on this host only' };
    }
    let remote: RemoteBackups | undefined;
    try {
      remote = await remoteBackupsFor(ctx);
    } catch (error) {
      return failAttempt(attempt, `remote copy not attempted: ${(error as Error).message}`);
    }
    if (!remote) return { changed: false, skipped: true, msg: 'no backup_remote in the inventory' };
    const { cluster } = backupLocations(ctx.inventory);
    const accepted = attempt.accepted;
    if (!accepted) {
      if (!ctx.dryRun) return { changed: false, skipped: true, msg: 'no verified snapshot to copy' };
      const planned = `${backupLocations(ctx.inventory).backupDir}/snapshot_<time>_rev<revision>.db`;
      yield* call(
        describePlannedCopy(remote.settings, cluster, planned, 'snapshot_<time>_rev<revision>.db', describeCredentials(remote.credentials)),
        false,
        () => Promise.resolve(),
      );
      return { changed: true };
    }
    // An encrypted local snapshot (`.db.age`) is uploaded as it is, under the snapshot's own name.
    const name = snapshotBaseName(basename(accepted.file));
    const takenAt = new Date(attempt.taken?.takenAt ?? parseSnapshotFileName(name)?.takenAt ?? Date.now());
    const { report } = accepted;
    const started = Date.now();
    const description = describePlannedCopy(remote.settings, cluster, accepted.file, name, describeCredentials(remote.credentials));
    const copied = yield* call(description, false, (signal) =>
      remote
        .copy(
          {
            path: accepted.file,
            name,
            takenAt,
            size: report.fileSize,
            sha256: report.sha256,
            revision: report.status.revision,
            ...(accepted.encrypted ? { sealed: accepted.encrypted } : {}),
          },
          signal,
        )
        .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
    );
    if (!copied) return { changed: true };
    if (copied instanceof Error) {
      attempt.remote = copyFailed(copied, remote.settings, cluster, name, Date.now() - started);
      const hint = attempt.remote.hint ? ` (fix: ${attempt.remote.hint})` : '';
      return failAttempt(
        attempt,
        `remote copy failed: ${copied.message}${hint}; the verified local snapshot ${accepted.file} is kept and recorded as local-only`,
      );
    }
    return copiedOutcome(attempt, copied, remote);
  },
});

function copiedOutcome(attempt: BackupAttempt, copied: RemoteCopyResult, remote: RemoteBackups): ModuleOutcome {
  const summary = copySucceeded(copied, remote.settings);
  attempt.remote = summary;
  const retried = copied.retries > 0 ? `, ${copied.retries} request(s) retried` : '';
  const warnings = copied.warnings.length > 0 ? `; warning: ${copied.warnings.join('; ')}` : '';
  const size = `${((summary.size ?? 0) / MiB).toFixed(1)} MiB`;
  return {
    changed: !copied.alreadyThere,
    msg: `${summary.url}: ${size}, ${summary.encrypted ? 'age-encrypted' : 'NOT encrypted'}, verified by ${summary.verifiedBy} in ${((summary.durationMs ?? 0) / 1000).toFixed(1)}s${retried}${warnings}`,
    result: { ...summary, retries: copied.retries, already_there: copied.alreadyThere, warnings: copied.warnings },
  };
}
