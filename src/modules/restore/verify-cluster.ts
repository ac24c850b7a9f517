// Judges what every member says about the cluster after a restore: every member answers, one leader,
// one cluster id, distinct member ids, the member list equals the inventory, the revision equals the
// snapshot's. This is the check that catches kubeasz's mistake (N leaders, all 8e9e05c52164694d).
import { quorumSize } from '../../backup/cluster-verdict.js';
import type { EtcdMember } from '../../config/types.js';
import { DEFAULT_MEMBER_ID } from './identity.js';

export interface ObservedStatus {
  /** Hex ids, as etcdctl prints them. */
  memberId: string;
  clusterId: string;
  /** `0` while no leader is known. */
  leaderId: string;
  revision: number;
  raftTerm?: number;
  version?: string;
  dbSize?: number;
}

export interface ObservedMember {
  id: string;
  name: string;
  peerUrls: string[];
}

/** What one member answered (or why it did not). */
export interface MemberObservation {
  host: string;
  name: string;
  endpoint: string;
  status?: ObservedStatus;
  members?: ObservedMember[];
  error?: string;
}

export interface ClusterExpectation {
  /** The snapshot's revision; left out when verifying a rollback to the old data. */
  revision?: number;
  /** After a rollback: a majority answering is enough; the silent members become warnings. */
  quorumOnly?: boolean;
}

export interface ClusterVerdict {
  ok: boolean;
  /** Only with quorumOnly: members that did not answer although a majority did. */
  warnings?: string[];
  /** The failure cannot fix itself by waiting (all answered, and the identities are wrong). */
  definitive: boolean;
  problems: string[];
  leader?: { name: string; id: string };
  clusterId?: string;
  revision?: number;
}

const label = (o: MemberObservation): string => `${o.name} (${o.host})`;

export function judgeCluster(
  members: readonly EtcdMember[],
  observations: readonly MemberObservation[],
  expect: ClusterExpectation = {},
): ClusterVerdict {
  const problems: string[] = [];
  const warnings: string[] = [];
  let definitive = false;
  const answered = observations.filter((o): o is MemberObservation & { status: ObservedStatus } => o.status !== undefined);
  const quorum = quorumSize(members.length);
  const silentOk = expect.quorumOnly === true && answered.length >= quorum;
  for (const o of observations) {
    if (!o.status) (silentOk ? warnings : problems).push(`${label(o)} does not answer at ${o.endpoint}: ${o.error ?? 'no status'}`);
  }
  if (expect.quorumOnly && answered.length < quorum)
    problems.push(`only ${answered.length} of ${members.length} members answer; a quorum needs ${quorum}`);
  const missing = members.filter((m) => !observations.some((o) => o.host === m.host));
  for (const m of missing) problems.push(`${m.name} (${m.host}) was not asked`);

  // The same member id on several hosts: they were restored without their own identities.
  const byMemberId = groupBy(answered, (o) => o.status.memberId);
  for (const [id, group] of byMemberId) {
    if (group.length < 2) continue;
    definitive = true;
    const why =
      id === DEFAULT_MEMBER_ID
        ? ` - the id etcd gives a data dir restored without --name/--initial-cluster/--initial-cluster-token: one dir was restored and copied to every member (kubeasz's mistake)`
        : ' - they share one identity';
    problems.push(`${group.map(label).join(', ')} all report member id ${id}${why}`);
  }

  const selfLeaders = answered.filter((o) => o.status.leaderId !== '0' && o.status.leaderId === o.status.memberId);
  if (selfLeaders.length > 1) {
    definitive = true;
    problems.push(`${selfLeaders.length} leaders: ${selfLeaders.map(label).join(', ')} each lead their own cluster (split brain)`);
  }
  const leaderIds = new Set(answered.map((o) => o.status.leaderId));
  if (answered.length > 0 && selfLeaders.length <= 1) {
    if (leaderIds.has('0'))
      problems.push(
        `no leader yet on ${answered
          .filter((o) => o.status.leaderId === '0')
          .map(label)
          .join(', ')}`,
      );
    else if (leaderIds.size > 1) problems.push(`members disagree on the leader (${[...leaderIds].join(', ')})`);
  }

  const clusterIds = new Set(answered.map((o) => o.status.clusterId));
  if (clusterIds.size > 1) {
    definitive = true;
    problems.push(`${clusterIds.size} cluster ids: ${answered.map((o) => `${o.name}=${o.status.clusterId}`).join(', ')}`);
  }

  const wanted = members.map((m) => `${m.name}=${m.peerUrl}`).sort();
  for (const o of observations) {
    if (!o.members) continue;
    if (o.members.some((m) => m.name === '')) {
      problems.push(`${label(o)} lists a member that has not published its name yet`);
      continue;
    }
    const seen = o.members.flatMap((m) => (m.peerUrls.length ? m.peerUrls.map((u) => `${m.name}=${u}`) : [`${m.name}=`])).sort();
    if (seen.join(',') !== wanted.join(',')) {
      definitive = true;
      problems.push(`${label(o)} lists members [${seen.join(', ')}]; the inventory has [${wanted.join(', ')}]`);
    }
  }

  const revisions = new Set(answered.map((o) => o.status.revision));
  if (expect.revision !== undefined) {
    for (const o of answered) {
      if (o.status.revision !== expect.revision) {
        problems.push(`${label(o)} is at revision ${o.status.revision}; the snapshot is at ${expect.revision}`);
      }
    }
  } else if (revisions.size > 1) {
    problems.push(`members are at different revisions (${answered.map((o) => `${o.name}=${o.status.revision}`).join(', ')})`);
  }

  const verdict: ClusterVerdict = { ok: problems.length === 0, definitive: definitive && answered.length === observations.length, problems };
  if (warnings.length) verdict.warnings = warnings;
  const leader = selfLeaders.length === 1 ? selfLeaders[0] : undefined;
  if (leader) verdict.leader = { name: leader.name, id: leader.status.memberId };
  if (clusterIds.size === 1) verdict.clusterId = [...clusterIds][0];
  if (revisions.size === 1) verdict.revision = [...revisions][0];
  return verdict;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
