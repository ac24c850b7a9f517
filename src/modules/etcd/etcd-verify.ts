// `etcd.verify`: check the new snapshot in TypeScript (sha256 trailer, bbolt structure, and the
// revision, key count and hash etcdctl would print) and only then give it its final name
// `snapshot_<UTC time>_rev<revision>.db` and point `snapshot.db` at it. A file that fails is deleted.
// With backup_encryption.local the verified snapshot is encrypted with age into `<that name>.age` and the
// clear file removed (also when the encryption fails); no `snapshot.db` is made of it.
import { backupDir } from '../../config/etcd-vars.js';
import { acceptSnapshot, type SnapshotSealer } from '../../etcd/backup/backup-flow.js';
import { encryptLocalCopy } from '../../remote/local-encryption.js';
import { localEncryptionFor } from '../../remote/remote-backups.js';
import { defineModule } from '../define.js';
import { call } from '../plan-steps.js';
import { backupAttempt, failAttempt } from './backup-attempt.js';

export const etcdVerifyModule = defineModule({
  id: 'etcd.verify',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    properties: { dest_dir: { type: 'string', minLength: 1 } },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const dir = args.dest_dir ?? backupDir(ctx.inventory);
    const attempt = backupAttempt(ctx);
    const encryption = localEncryptionFor(ctx.inventory);
    const final = encryption
      ? `encrypt it with age for ${encryption.recipients.length} recipient(s) into ${dir}/snapshot_<time>_rev<revision>.db.age (0600, fsync), remove the clear file`
      : `name it ${dir}/snapshot_<time>_rev<revision>.db, point snapshot.db at it`;
    const { taken } = attempt;
    if (!taken) {
      // --dry-run: the snapshot exists only at run time; show the step that would check it.
      if (ctx.dryRun) {
        yield* call(`verify the new snapshot (sha256 trailer, bbolt pages, revision/keys/hash); if good: ${final}`, false, () => Promise.resolve());
        return { changed: true };
      }
      return failAttempt(attempt, `no snapshot to verify${attempt.error ? ` (${attempt.error})` : ''}`);
    }
    const description = `verify ${taken.partialPath} (sha256 trailer, bbolt pages, revision/keys/hash); if good: ${final}`;
    const seal: SnapshotSealer | undefined = encryption
      ? async (plain, sha256, dest) => {
          const sealed = await encryptLocalCopy(plain, encryption.recipients, sha256, dest);
          return { size: sealed.size, sha256: sealed.sha256 };
        }
      : undefined;
    const accepted = yield* call(description, false, (signal) =>
      acceptSnapshot(taken, dir, { signal, ...(seal ? { seal } : {}) }).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error)),
      ),
    );
    if (!accepted) return { changed: true };
    if (accepted instanceof Error) return failAttempt(attempt, accepted.message);
    attempt.accepted = accepted;
    const { report } = accepted;
    return {
      changed: true,
      msg: `${accepted.file}: revision ${report.status.revision}, ${report.status.totalKey} keys, ${report.fileSize} bytes, verified in ${report.durationMs} ms`,
      result: {
        file: accepted.file,
        pointer: accepted.pointer,
        size: report.fileSize,
        sha256: report.sha256,
        revision: report.status.revision,
        keys: report.status.totalKey,
        ...(accepted.encrypted ? { encrypted: accepted.encrypted } : {}),
      },
    };
  },
});
