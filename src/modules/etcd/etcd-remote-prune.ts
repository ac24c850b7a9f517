// `etcd.remote-prune`: retention for the copies in backup_remote, under the same rules as etcd.prune: only
// verified copies count, unverified ones are never deleted automatically, and the newest verified copy is
// never deleted. The policy is backup_remote's own (keep_last, ttl_seconds, keep_hourly, keep_daily,
// keep_weekly), else the local one (backup_keep_last, ...); none keeps every copy.
import { hasPolicy } from '../../etcd/backup/retention.js';
import { s3Url } from '../../remote/copy-summary.js';
import { remoteSettingsFor } from '../../remote/remote-backups.js';
import { defineModule } from '../define.js';
import { call } from '../plan-steps.js';
import { backupAttemptKey } from './backup-attempt.js';
import { policyFrom } from './etcd-prune.js';
import { remoteBackupsFor } from './remote-access.js';

export const etcdRemotePruneModule = defineModule({
  id: 'etcd.remote-prune',
  meta: { runsOn: 'deploy-host' },
  schema: { type: 'object', properties: {}, additionalProperties: false },
  async *plan(ctx) {
    const attempt = ctx.state.peek(backupAttemptKey);
    // Within a backup, only after a good attempt: a failed one must not cost an old copy.
    if (attempt && !ctx.dryRun && attempt.record?.result !== 'ok') {
      return { changed: false, skipped: true, msg: 'the backup attempt failed: nothing is pruned' };
    }
    const settings = remoteSettingsFor(ctx.inventory).settings;
    if (!settings) return { changed: false, skipped: true, msg: 'no backup_remote in the inventory' };
    const localPolicy = policyFrom({}, ctx.vars);
    const policy = settings.retention ?? localPolicy;
    if (!hasPolicy(policy)) {
      return { changed: false, skipped: true, msg: 'no retention policy for the remote copies (backup_remote.keep_last, ...): every copy is kept' };
    }
    const remote = await remoteBackupsFor(ctx);
    if (!remote) return { changed: false, skipped: true, msg: 'no backup_remote in the inventory' };
    const where = s3Url(settings, settings.snapshotPrefix);
    const plan = yield* call(
      `plan retention in ${where}: ${JSON.stringify(policy)} (verified copies only; the newest verified copy is always kept)`,
      true,
      () => remote.planPrune([], localPolicy, { writeBack: !ctx.dryRun }),
    );
    if (!plan) return { changed: false };
    const deleted: string[] = [];
    const failed: string[] = [];
    for (const decision of plan.remote.delete) {
      const url = s3Url(settings, decision.entry.copy.key);
      const done = yield* call(`delete ${url} (${decision.reasons.join('; ')})`, false, () => remote.prune({ keep: [], delete: [decision] }));
      if (done) deleted.push(...done.deleted.map((key) => s3Url(settings, key)));
      if (done) failed.push(...done.failed);
    }
    const result = {
      kept: plan.remote.keep.map((d) => ({ key: d.entry.copy.key, reasons: d.reasons })),
      deleted,
      failed,
      warnings: plan.warnings,
    };
    const msg = `kept ${plan.remote.keep.length}, deleted ${deleted.length}${failed.length ? `, could not delete ${failed.length}: ${failed.join('; ')}` : ''}`;
    return { changed: deleted.length > 0, ...(failed.length ? { failed: true } : {}), msg, result };
  },
});
