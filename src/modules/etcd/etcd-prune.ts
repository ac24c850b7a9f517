// `etcd.prune`: apply the retention policy to the snapshots orchestrate named. Only verified snapshots
// count, the newest verified one is never deleted, files put there by hand are never touched. The
// policy comes from the arguments or the inventory (backup_keep_last, backup_ttl_seconds,
// backup_keep_hourly, backup_keep_daily, backup_keep_weekly); no policy keeps everything.
import type { Vars } from '../../config/types.js';
import { backupLocations } from '../../backup/locations.js';
import { deleteSnapshots, planPrune } from '../../backup/backup-flow.js';
import { checkPolicy, hasPolicy, type RetentionPlan, type RetentionPolicy } from '../../backup/retention.js';
import { defineModule } from '../define.js';

export interface EtcdPruneArgs {
  keep_last?: number;
  ttl_seconds?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
}

const countSchema = { type: 'integer', minimum: 1 };

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

export const etcdPruneModule = defineModule<EtcdPruneArgs>({
  id: 'etcd.prune',
  local: true,
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
    const plan = (yield {
      kind: 'call',
      description: `plan retention in ${locations.backupDir}: ${JSON.stringify(policy)} (verified snapshots only; the newest is always kept)`,
      readOnly: true,
      run: () => planPrune(locations, policy),
    }) as RetentionPlan<{ name: string; path: string; takenAt: number; verified: boolean }> | undefined;
    if (!plan) return { changed: false };
    const deleted: string[] = [];
    for (const { entry, reasons } of plan.delete) {
      const done = (yield {
        kind: 'call',
        description: `delete ${entry.path} (${reasons.join('; ')})`,
        readOnly: false,
        run: () => deleteSnapshots(locations.backupDir, [entry.path]),
      }) as string[] | undefined;
      if (done) deleted.push(...done);
    }
    const result = {
      kept: plan.keep.map((d) => ({ file: d.entry.name, reasons: d.reasons })),
      deleted: plan.delete.map((d) => ({ file: d.entry.name, reasons: d.reasons })),
    };
    return { changed: deleted.length > 0, msg: `kept ${plan.keep.length}, deleted ${deleted.length}`, result };
  },
});
