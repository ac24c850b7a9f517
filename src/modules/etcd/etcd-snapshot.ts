// `etcd.snapshot`: stream Maintenance.Snapshot from the first member that delivers one (etcd.status's
// candidates, or the `members` named), to a temporary name in the backup folder on the deploy host (no
// etcdctl needed there). Idle and total deadlines; a failure leaves no file behind. `etcd.verify` gives
// the file its final name.
import { backupDir } from '../../config/etcd-vars.js';
import { streamFromCandidates } from '../../etcd/backup/backup-flow.js';
import { defineModule } from '../define.js';
import { call } from '../plan-steps.js';
import { backupAttempt, failAttempt, snapshotSources } from './backup-attempt.js';

export const etcdSnapshotModule = defineModule({
  id: 'etcd.snapshot',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    properties: {
      // Member names (or hosts) in order of preference; default: etcd.status's candidates.
      members: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      dest_dir: { type: 'string', minLength: 1 },
      idle_timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
      total_timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
    },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const attempt = backupAttempt(ctx);
    const dir = args.dest_dir ?? backupDir(ctx.inventory);
    const sources = snapshotSources(ctx, args.members);
    const [first, ...others] = sources.members;
    if (sources.problem !== undefined && (first !== undefined || !ctx.dryRun)) return failAttempt(attempt, sources.problem);
    if (!first) {
      if (ctx.dryRun) {
        yield* call(
          `etcd maintenance.snapshot from the first healthy member (etcd.status) -> ${dir}/snapshot_<UTC time>.db.partial-* (0600, fsync)`,
          false,
          () => Promise.resolve(),
        );
        return { changed: true };
      }
      return failAttempt(attempt, sources.problem ?? 'no member to take a snapshot from');
    }
    const fallback = others.length ? ` (then ${others.map((m) => m.name).join(', ')} if it fails)` : '';
    const description = `etcd maintenance.snapshot from ${first.name} (${first.clientUrl})${fallback} -> ${dir}/snapshot_<UTC time>.db.partial-* (0600, fsync)`;
    const taken = yield* call(description, false, (signal) =>
      streamFromCandidates(sources.members, dir, {
        signal,
        ...(args.idle_timeout_seconds ? { idleTimeoutMs: args.idle_timeout_seconds * 1000 } : {}),
        ...(args.total_timeout_seconds ? { totalTimeoutMs: args.total_timeout_seconds * 1000 } : {}),
      }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
    );
    if (!taken) return { changed: true };
    if (taken instanceof Error) return failAttempt(attempt, taken.message);
    attempt.taken = taken;
    return {
      changed: true,
      msg: `${taken.bytes} bytes from ${taken.member} in ${(taken.durationMs / 1000).toFixed(1)}s`,
      result: { partial_path: taken.partialPath, bytes: taken.bytes, sha256: taken.sha256, member: taken.member, method: taken.method },
    };
  },
});
