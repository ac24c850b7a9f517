// `etcd.verify`: check the new snapshot in TypeScript (sha256 trailer, bbolt structure, and the
// revision, key count and hash etcdctl would print) and only then give it its final name
// `snapshot_<UTC time>_rev<revision>.db` and point `snapshot.db` at it. A file that fails is deleted.
import { backupDir } from '../../config/etcd-vars.js';
import { acceptSnapshot, type AcceptedSnapshot } from '../../backup/backup-flow.js';
import { defineModule } from '../define.js';
import { outcomeOf, takenOf } from './registered.js';

export interface EtcdVerifyArgs {
  /** The registered result of etcd.snapshot or etcd.snapshot-on-member. */
  snapshot: Record<string, unknown>;
  dest_dir?: string;
}

export const etcdVerifyModule = defineModule<EtcdVerifyArgs>({
  id: 'etcd.verify',
  local: true,
  schema: {
    type: 'object',
    properties: { snapshot: { type: 'object' }, dest_dir: { type: 'string', minLength: 1 } },
    required: ['snapshot'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const dir = args.dest_dir ?? backupDir(ctx.inventory);
    const ok = typeof args.snapshot === 'object' ? outcomeOf(args.snapshot) : undefined;
    if (typeof args.snapshot !== 'object' || (ctx.dryRun && ok?.state === 'ok' && !takenOf(ok.value))) {
      // --dry-run: the snapshot exists only at run time (the registered result is a placeholder); show
      // the step that would check it.
      yield {
        kind: 'call',
        description: `verify the new snapshot (sha256 trailer, bbolt pages, revision/keys/hash); if good: name it ${dir}/snapshot_<time>_rev<revision>.db, point snapshot.db at it`,
        readOnly: false,
        run: async () => undefined,
      };
      return { changed: true };
    }
    const outcome = outcomeOf(args.snapshot);
    if (outcome.state !== 'ok')
      return {
        changed: false,
        failed: true,
        msg: `no snapshot to verify (${outcome.state}${'msg' in outcome && outcome.msg ? `: ${outcome.msg}` : ''})`,
      };
    const taken = takenOf(outcome.value);
    if (!taken) return { changed: false, failed: true, msg: 'the snapshot argument is not the result of etcd.snapshot' };
    const accepted = (yield {
      kind: 'call',
      description: `verify ${taken.partialPath} (sha256 trailer, bbolt pages, revision/keys/hash); if good: rename to ${dir}/snapshot_<time>_rev<revision>.db, fsync, point snapshot.db at it`,
      readOnly: false,
      run: (signal: AbortSignal) => acceptSnapshot(taken, dir, { signal }).catch((error: Error) => error),
    }) as AcceptedSnapshot | Error | undefined;
    if (!accepted) return { changed: true };
    if (accepted instanceof Error) return { changed: false, failed: true, msg: accepted.message };
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
        hash: report.status.hash,
        total_size: report.status.totalSize,
        has_hash: report.hasHash,
      },
    };
  },
});
