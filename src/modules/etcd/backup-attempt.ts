// The backup attempt the backup modules build together, typed, in the run's state: etcd.status finds the
// members, etcd.snapshot(-on-member) takes a snapshot, etcd.verify accepts it, etcd.remote-copy copies it
// to backup_remote, etcd.record writes the record that etcd.prune and etcd.metrics read and `orchestrate
// backup` reports. The first failure is kept.
import type { Inventory } from '../../config/types.js';
import { etcdMembers } from '../../config/etcd-vars.js';
import type { EtcdMember } from '../../config/types.js';
import type { AcceptedSnapshot, TakenSnapshot } from '../../etcd/backup/backup-flow.js';
import type { CatalogRecord, CatalogRemoteCopy } from '../../etcd/backup/catalog.js';
import type { ClusterSurvey } from '../../etcd/cluster/observe.js';
import type { ModuleContext, ModuleOutcome } from '../define.js';
import { stateKey } from '../run-state.js';

export interface BackupAttempt {
  startedAt: string;
  survey?: ClusterSurvey;
  taken?: TakenSnapshot;
  accepted?: AcceptedSnapshot;
  /** The remote copy of the accepted snapshot (etcd.remote-copy), verified or failed; unset without backup_remote. */
  remote?: CatalogRemoteCopy;
  /** The first failure: the attempt is a failed one from there on. */
  error?: string;
  record?: CatalogRecord;
  /** The catalog could not be written (the backup itself may still be good). */
  recordWarning?: string;
}

export const backupAttemptKey = stateKey<BackupAttempt>('backup-attempt', () => ({ startedAt: new Date().toISOString() }));

export function backupAttempt(ctx: ModuleContext): BackupAttempt {
  return ctx.state.get(backupAttemptKey);
}

/** Keep the first failure of the attempt and fail the task with it. */
export function failAttempt(attempt: BackupAttempt, msg: string, changed = false): ModuleOutcome {
  attempt.error ??= msg;
  return { changed, failed: true, msg };
}

/** The members to take a snapshot from: the names given, else etcd.status's candidates. */
export function snapshotSources(ctx: ModuleContext, names: readonly string[] | undefined): { members: EtcdMember[]; problem?: string } {
  const attempt = backupAttempt(ctx);
  const wanted = names ?? attempt.survey?.candidates.map((c) => c.name);
  if (wanted === undefined) return { members: [], problem: 'no member to take a snapshot from: run etcd.status first, or name the members' };
  return membersNamed(ctx.inventory, wanted);
}

function membersNamed(inventory: Inventory, names: readonly string[]): { members: EtcdMember[]; problem?: string } {
  const all = etcdMembers(inventory);
  const members: EtcdMember[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const member = all.find((m) => m.name === name || m.host === name);
    if (member) members.push(member);
    else unknown.push(name);
  }
  if (unknown.length > 0) return { members, problem: `not etcd members of the inventory: ${unknown.join(', ')}` };
  if (members.length === 0) return { members, problem: 'no member to take a snapshot from' };
  return { members };
}
