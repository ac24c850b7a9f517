// `status` with backup_remote: the age of the newest verified remote copy, from the remote catalog, or from
// the local attempt log when the remote does not answer in time (a monitoring command must not hang on a
// silent endpoint), and the last remote copy attempt.
import type { Inventory } from '../config/types.js';
import type { BackupLocations } from '../etcd/backup/locations.js';
import { UsageError } from '../errors.js';
import type { RemoteStatusInput } from './status-report.js';

/** How long the remote catalog may take before the attempt log answers instead. */
const REMOTE_DEADLINE_MS = 15_000;

export interface StatusRemote {
  read(judge: { maxAgeMs?: number; maxAgeText?: string }): Promise<RemoteStatusInput>;
}

/** Opened before any member is asked (settings and credentials checked); undefined without backup_remote. */
export async function openStatusRemote(inventory: Inventory, locations: BackupLocations, required: boolean): Promise<StatusRemote | undefined> {
  const { openRemoteBackups, remoteSettingsFor } = await import('../remote/remote-backups.js');
  if (!remoteSettingsFor(inventory).settings) {
    if (required)
      throw new UsageError(
        '--max-remote-age judges the remote copies, but the inventory sets no backup_remote',
        'remove --max-remote-age, or configure backup_remote',
      );
    return undefined;
  }
  const remote = await openRemoteBackups(inventory, locations);
  if (!remote) return undefined;
  const { readRemoteAttempts } = await import('../remote/remote-attempts.js');
  const { s3Url } = await import('../remote/copy-summary.js');
  return {
    async read(judge) {
      try {
        const attempts = (await readRemoteAttempts(remote.attemptsFile).catch(() => [])).filter((a) => a.cluster === remote.cluster);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), REMOTE_DEADLINE_MS)));
        const found = await Promise.race([remote.newestCopy(), late]).finally(() => clearTimeout(timer));
        const lastOk = [...attempts].reverse().find((a) => a.result === 'ok');
        const newest =
          found === 'late'
            ? {
                source: 'attempt log' as const,
                takenAt: lastOk?.takenAt,
                key: lastOk?.key,
                warnings: [`${remote.store.name} did not answer within ${REMOTE_DEADLINE_MS / 1000}s; the age comes from the local attempt log`],
              }
            : found;
        const last = attempts.at(-1);
        return {
          where: s3Url(remote.settings, remote.settings.snapshotPrefix),
          ...(newest.takenAt ? { newest: { takenAt: newest.takenAt, ...(newest.key ? { url: s3Url(remote.settings, newest.key) } : {}) } } : {}),
          source: newest.source,
          warnings: newest.warnings.map((w) => remote.masker.mask(w)),
          ...(last ? { lastAttempt: { result: last.result, end: last.end, ...(last.error ? { error: last.error } : {}) } } : {}),
          ...judge,
        };
      } finally {
        remote.close();
      }
    },
  };
}
