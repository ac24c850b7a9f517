// One judge of the cluster for every command, over one observation (observe.ts), with what each needs:
//   healthy   (status, backup): quorum of the inventory's voting members, no split brain, no disabling alarm;
//   restored  (after a restore): every member answers as the inventory describes it, at the snapshot's revision;
//   quorum    (after a rollback): a quorum answers as the cluster was before the restore.
import { judgeHealth, type MemberVerdict, type QuorumSummary, type RaisedAlarm } from './health.js';
import { judgeIdentity, type ExpectedMember } from './identity.js';
import type { MemberObservation } from './observe.js';

export type ClusterNeed =
  | { kind: 'healthy'; requireAllMembers?: boolean }
  | { kind: 'restored'; members: readonly ExpectedMember[]; revision?: number }
  | { kind: 'quorum'; members: readonly ExpectedMember[] };

export interface ClusterVerdict {
  /** The cluster is as the command needs it. */
  ok: boolean;
  /** Why not (for `status`: exactly the reasons for exit 7). */
  problems: string[];
  /** What is worth knowing but leaves the need met. */
  warnings: string[];
  /** The failure cannot fix itself by waiting (all answered, and the identities are wrong). */
  definitive: boolean;
  quorum: QuorumSummary;
  members: MemberVerdict[];
  alarms: RaisedAlarm[];
  /** Members answer for more than one cluster (different cluster ids, or one member id on several hosts). */
  splitBrain: boolean;
  leader?: { name: string; id: string };
  clusterId?: string;
  revision?: number;
}

export function judgeCluster(observations: readonly MemberObservation[], need: ClusterNeed): ClusterVerdict {
  const health = judgeHealth(observations, need.kind === 'healthy' ? { requireAllMembers: need.requireAllMembers === true } : {});
  const base = { quorum: health.quorum, members: health.members, alarms: health.alarms, splitBrain: health.splitBrain };
  if (need.kind === 'healthy') {
    const leader = observations.find((o) => o.ok && o.isLeader === true && o.memberId !== undefined);
    return {
      ...base,
      ok: health.unhealthyReasons.length === 0,
      problems: health.unhealthyReasons,
      warnings: health.warnings,
      definitive: false,
      ...(leader ? { leader: { name: leader.name, id: leader.memberId ?? '' } } : {}),
    };
  }
  const identity = judgeIdentity(observations, {
    members: need.members,
    ...(need.kind === 'restored' && need.revision !== undefined ? { revision: need.revision } : {}),
    quorumOnly: need.kind === 'quorum',
  });
  return {
    ...base,
    ok: identity.problems.length === 0,
    problems: identity.problems,
    warnings: identity.warnings,
    definitive: identity.definitive,
    ...(identity.leader ? { leader: identity.leader } : {}),
    ...(identity.clusterId !== undefined ? { clusterId: identity.clusterId } : {}),
    ...(identity.revision !== undefined ? { revision: identity.revision } : {}),
  };
}

export { parseMemberErrors, quorumSize, splitBrainFindings, type MemberState, type MemberVerdict, type QuorumSummary } from './health.js';
export type { ExpectedMember } from './identity.js';
