// Is the cluster the one the inventory describes, as a restore or a rollback must leave it? Every member
// answers (or a quorum, after a rollback), one leader, one cluster id, distinct member ids, the member
// list equal to the expected one, the revision equal to the snapshot's. This is the check that catches
// kubeasz's mistake (N single-member clusters: N leaders, all with member id 8e9e05c52164694d).
import { DEFAULT_MEMBER_ID } from '../restore/identity.js';
import { quorumSize } from './health.js';
import type { MemberObservation } from './observe.js';

/** A member as the cluster should list it. */
export interface ExpectedMember {
  host: string;
  name: string;
  peerUrl: string;
}

export interface IdentityExpectation {
  /** The members the cluster must list (the inventory's, or what the journal recorded before a restore). */
  members: readonly ExpectedMember[];
  /** The snapshot's revision; left out when verifying a rollback to the old data. */
  revision?: number;
  /** After a rollback: a majority answering is enough; the silent members become warnings. */
  quorumOnly?: boolean;
}

export interface IdentityFindings {
  problems: string[];
  warnings: string[];
  /** The failure cannot fix itself by waiting (all answered, and the identities are wrong). */
  definitive: boolean;
  leader?: { name: string; id: string };
  clusterId?: string;
  revision?: number;
}

type Answered = MemberObservation & { memberId: string; clusterId: string; leaderId: string; revision: number };

const label = (o: MemberObservation): string => `${o.name} (${o.host})`;

export function judgeIdentity(observations: readonly MemberObservation[], expect: IdentityExpectation): IdentityFindings {
  const findings: IdentityFindings = { problems: [], warnings: [], definitive: false };
  const answered = observations.filter((o): o is Answered => o.ok && o.memberId !== undefined && o.revision !== undefined);
  checkAnswers(observations, answered, expect, findings);
  checkSharedIdentity(answered, findings);
  checkMemberLists(observations, expect, findings);
  checkRevisions(answered, expect, findings);
  findings.definitive = findings.definitive && answered.length === observations.length;
  const clusterIds = new Set(answered.map((o) => o.clusterId));
  const revisions = new Set(answered.map((o) => o.revision));
  if (clusterIds.size === 1) findings.clusterId = [...clusterIds][0];
  if (revisions.size === 1) findings.revision = [...revisions][0];
  return findings;
}

function checkAnswers(
  observations: readonly MemberObservation[],
  answered: readonly Answered[],
  expect: IdentityExpectation,
  findings: IdentityFindings,
): void {
  const quorum = quorumSize(expect.members.length);
  const silentOk = expect.quorumOnly === true && answered.length >= quorum;
  for (const o of observations) {
    if (!answered.includes(o as Answered))
      (silentOk ? findings.warnings : findings.problems).push(`${label(o)} does not answer at ${o.endpoint}: ${o.error ?? 'no status'}`);
  }
  if (expect.quorumOnly && answered.length < quorum)
    findings.problems.push(`only ${answered.length} of ${expect.members.length} members answer; a quorum needs ${quorum}`);
  for (const m of expect.members.filter((m) => !observations.some((o) => o.host === m.host)))
    findings.problems.push(`${m.name} (${m.host}) was not asked`);
}

/** One member id on several hosts, several leaders, several cluster ids: not one cluster. */
function checkSharedIdentity(answered: readonly Answered[], findings: IdentityFindings): void {
  for (const [id, group] of groupBy(answered, (o) => o.memberId)) {
    if (group.length < 2) continue;
    findings.definitive = true;
    const why =
      id === DEFAULT_MEMBER_ID
        ? ` - the id etcd gives a data dir restored without --name/--initial-cluster/--initial-cluster-token: one dir was restored and copied to every member (kubeasz's mistake)`
        : ' - they share one identity';
    findings.problems.push(`${group.map(label).join(', ')} all report member id ${id}${why}`);
  }
  const selfLeaders = answered.filter((o) => o.leaderId !== '0' && o.leaderId === o.memberId);
  if (selfLeaders.length > 1) {
    findings.definitive = true;
    findings.problems.push(`${selfLeaders.length} leaders: ${selfLeaders.map(label).join(', ')} each lead their own cluster (split brain)`);
  }
  const leaderIds = new Set(answered.map((o) => o.leaderId));
  if (answered.length > 0 && selfLeaders.length <= 1) {
    const waiting = answered.filter((o) => o.leaderId === '0');
    if (waiting.length > 0) findings.problems.push(`no leader yet on ${waiting.map(label).join(', ')}`);
    else if (leaderIds.size > 1) findings.problems.push(`members disagree on the leader (${[...leaderIds].join(', ')})`);
  }
  const leader = selfLeaders.length === 1 ? selfLeaders[0] : undefined;
  if (leader) findings.leader = { name: leader.name, id: leader.memberId };
  const clusterIds = new Set(answered.map((o) => o.clusterId));
  if (clusterIds.size > 1) {
    findings.definitive = true;
    findings.problems.push(`${clusterIds.size} cluster ids: ${answered.map((o) => `${o.name}=${o.clusterId}`).join(', ')}`);
  }
}

function checkMemberLists(observations: readonly MemberObservation[], expect: IdentityExpectation, findings: IdentityFindings): void {
  const wanted = expect.members.map((m) => `${m.name}=${m.peerUrl}`).sort();
  for (const o of observations) {
    if (!o.members) continue;
    if (o.members.some((m) => m.name === '')) {
      findings.problems.push(`${label(o)} lists a member that has not published its name yet`);
      continue;
    }
    const seen = o.members.flatMap((m) => (m.peerUrls.length ? m.peerUrls.map((u) => `${m.name}=${u}`) : [`${m.name}=`])).sort();
    if (seen.join(',') !== wanted.join(',')) {
      findings.definitive = true;
      findings.problems.push(`${label(o)} lists members [${seen.join(', ')}]; the expected members are [${wanted.join(', ')}]`);
    }
  }
}

function checkRevisions(answered: readonly Answered[], expect: IdentityExpectation, findings: IdentityFindings): void {
  if (expect.revision !== undefined) {
    for (const o of answered) {
      if (o.revision !== expect.revision) findings.problems.push(`${label(o)} is at revision ${o.revision}; the snapshot is at ${expect.revision}`);
    }
    return;
  }
  if (new Set(answered.map((o) => o.revision)).size > 1) {
    findings.problems.push(`members are at different revisions (${answered.map((o) => `${o.name}=${o.revision}`).join(', ')})`);
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
