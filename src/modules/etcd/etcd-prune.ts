// `etcd.prune`: apply the retention policy to the snapshots orchestrate named. Only verified snapshots
// count, the newest verified one is never deleted, files put there by hand are never touched. The
// policy comes from the arguments or the inventory (backup_keep_last, backup_ttl_seconds,
// backup_keep_hourly, backup_keep_daily, backup_keep_weekly); no policy keeps everything.
import type { Vars } from '../../config/types.js';
import { backupLocations } from '../../etcd/backup/locations.js';
import { deleteSnapshots, planPrune } from '../../etcd/backup/backup-flow.js';
import { checkPolicy, hasPolicy, type RetentionPolicy } from '../../etcd/backup/retention.js';
import { defineModule } from '../define.js';
import { call } from '../plan-steps.js';
import { backupAttemptKey } from './backup-attempt.js';

/** Counts per retention rule; each falls back to the inventory's backup_* variable. */
export interface EtcdPruneArgs {
  keep_last?: number;
  ttl_seconds?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
}

const countSchema = { type: 'integer', minimum: 1 } as const;

function numberVar(vars: Vars, name: string): number | undefined {
  const value = vars[name];
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** Arguments first, then the inventory's backup_* variables. */
export function policyFrom(args: EtcdPruneArgs, vars: Vars): RetentionPolicy {
  const pick = (arg: number | undefined, name: string) => arg ?? numberVar(vars, name);
  const policy: RetentionPolicy = {};
  const keepLast = pick(args.keep_last, 'backup_keep_last');
  const ttl = pick(args.ttl_seconds, 'backup_ttl_seconds');
  const hourly = pick(args.hourly, 'backup_keep_hourly');
  const daily = pick(args.daily, 'backup_keep_daily');
  const weekly = pick(args.weekly, 'backup_keep_weekly');
  if (keepLast !== undefined) policy.keepLast = keepLast;
  if (ttl !== undefined) policy.ttlSeconds = ttl;
  if (hourly !== undefined) policy.hourly = hourly;
  if (daily !== undefined) policy.daily = daily;
  if (weekly !== undefined) policy.weekly = weekly;
  return policy;
}

export const etcdPruneModule = defineModule({
  id: 'etcd.prune',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    properties: {
      keep_last: countSchema,
      ttl_seconds: { type: 'number', exclusiveMinimum: 0 },
      hourly: countSchema,
      daily: countSchema,
      weekly: countSchema,
    },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    // Within a backup, only after a good attempt: a failed one must not cost an old snapshot.
    const attempt = ctx.state.peek(backupAttemptKey);
    if (attempt && !ctx.dryRun && attempt.record?.result !== 'ok') {
      return { changed: false, skipped: true, msg: 'the backup attempt failed: nothing is pruned' };
    }
    const policy = policyFrom(args, ctx.vars);
    const problems = checkPolicy(policy);
    if (problems.length > 0) return { changed: false, failed: true, msg: `bad retention policy: ${problems.join('; ')}` };
    if (!hasPolicy(policy))
      return {
        changed: false,
        skipped: true,
        msg: 'no retention policy set (backup_keep_last, backup_ttl_seconds, backup_keep_hourly/daily/weekly): every snapshot is kept',
      };
    const locations = backupLocations(ctx.inventory);
    const plan = yield* call(
      `plan retention in ${locations.backupDir}: ${JSON.stringify(policy)} (verified snapshots only; the newest is always kept)`,
      true,
      () => planPrune(locations, policy),
    );
    if (!plan) return { changed: false };
    const deleted: string[] = [];
    for (const { entry, reasons } of plan.delete) {
      const done = yield* call(`delete ${entry.path} (${reasons.join('; ')})`, false, () => deleteSnapshots(locations.backupDir, [entry.path]));
      if (done) deleted.push(...done);
    }
    const result = {
      kept: plan.keep.map((d) => ({ file: d.entry.name, reasons: d.reasons })),
      deleted: plan.delete.map((d) => ({ file: d.entry.name, reasons: d.reasons })),
    };
    return { changed: deleted.length > 0, msg: `kept ${plan.keep.length}, deleted ${deleted.length}`, result };
  },
});
