// `etcd.snapshot`: stream Maintenance.Snapshot from the first member of `members` that delivers one, to
// a temporary name in the backup folder on the deploy host (no etcdctl needed there). Idle and total
// deadlines; a failure leaves no file behind. `etcd.verify` gives the file its final name.
import { backupDir } from '../../config/etcd-vars.js';
import { streamFromCandidates, type TakenSnapshot } from '../../backup/backup-flow.js';
import { defineModule } from '../define.js';
import { membersByName, takenResult } from './registered.js';

export interface EtcdSnapshotArgs {
  /** Member names (or the `candidates` of etcd.status), in order of preference. */
  members: unknown[];
  dest_dir?: string;
  idle_timeout_seconds?: number;
  total_timeout_seconds?: number;
}

export const etcdSnapshotModule = defineModule<EtcdSnapshotArgs>({
  id: 'etcd.snapshot',
  local: true,
  schema: {
    type: 'object',
    properties: {
      members: { type: 'array', minItems: 1, items: { anyOf: [{ type: 'string' }, { type: 'object', required: ['name'] }] } },
      dest_dir: { type: 'string', minLength: 1 },
      idle_timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
      total_timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
    },
    required: ['members'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const { members, unknown } = membersByName(ctx.inventory, args.members);
    if (unknown.length > 0) return { changed: false, failed: true, msg: `not etcd members of the inventory: ${unknown.join(', ')}` };
    const dir = args.dest_dir ?? backupDir(ctx.inventory);
    const [first, ...others] = members;
    const fallback = others.length ? ` (then ${others.map((m) => m.name).join(', ')} if it fails)` : '';
    const taken = (yield {
      kind: 'call',
      description: `etcd maintenance.snapshot from ${first!.name} (${first!.clientUrl})${fallback} -> ${dir}/snapshot_<UTC time>.db.partial-* (0600, fsync)`,
      readOnly: false,
      run: (signal: AbortSignal) =>
        streamFromCandidates(members, dir, {
          signal,
          ...(args.idle_timeout_seconds ? { idleTimeoutMs: args.idle_timeout_seconds * 1000 } : {}),
          ...(args.total_timeout_seconds ? { totalTimeoutMs: args.total_timeout_seconds * 1000 } : {}),
        }).catch((error: Error) => error),
    }) as TakenSnapshot | Error | undefined;
    if (!taken) return { changed: true };
    if (taken instanceof Error) return { changed: false, failed: true, msg: taken.message };
    return {
      changed: true,
      msg: `${taken.bytes} bytes from ${taken.member} in ${(taken.durationMs / 1000).toFixed(1)}s`,
      result: takenResult(taken),
    };
  },
});
