// The restore preview's data diff: what the snapshot brings back and throws away, against the live cluster.
// Shown before the confirmation and carried in --json; it never stops a restore (a cluster that cannot be
// read gets a line saying why, and the restore goes on as the preview says).
import { etcdAccess } from '../../config/etcd-vars.js';
import type { MemberObservation } from '../../etcd/cluster/observe.js';
import type { DiffResult, SnapshotDiff } from '../../drill/restore-diff.js';
import type { RestoreContext } from './restore-context.js';

/** In the report: the diff, or why there is none. */
export type RestoreDataDiff = { ok: true; diff: SnapshotDiff } | { ok: false; reason: string };

export async function restoreDataDiff(ctx: RestoreContext, current: readonly MemberObservation[]): Promise<DiffResult> {
  const unavailable = (reason: string): DiffResult => ({ ok: false, reason, text: `data diff: not available, ${reason}\n` });
  if (etcdAccess(ctx.inventory) === 'ssh')
    return unavailable('etcd_access is ssh: the deploy host does not ask etcd itself (set etcd_access: client to see it)');
  if (!current.some((o) => o.ok)) return unavailable('the cluster does not answer: nothing of it can be compared');
  const { diffSnapshotAgainstCluster } = await import('../../drill/restore-diff.js');
  try {
    return await diffSnapshotAgainstCluster(ctx.snapshot.path, ctx.members, { timeoutMs: 5_000, signal: ctx.signal });
  } catch (error) {
    return unavailable(`it could not be computed (${(error as Error).message})`);
  }
}

export function reportedDiff(result: DiffResult): RestoreDataDiff {
  return result.ok ? { ok: true, diff: result.diff } : { ok: false, reason: result.reason };
}
