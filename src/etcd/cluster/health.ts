// Is the etcd cluster itself healthy? A pure judgement over what every member answered (surveyCluster):
// quorum of the inventory's voting members, one cluster identity (no split brain), alarms. `status`
// turns an unhealthy verdict into exit 7, whatever the age of the backups.
import type { MemberObservation } from './observe.js';

/** Why a member does not count toward quorum ('healthy' when it does). */
export type MemberState = 'healthy' | 'down' | 'no-leader' | 'other-leader' | 'split' | 'learner';

export interface MemberVerdict {
  name: string;
  state: MemberState;
  /** What is wrong, for the operator (absent when healthy). */
  detail?: string;
}

export interface QuorumSummary {
  /** Voting members in the inventory (members that answered as learners are left out). */
  members: number;
  /** Healthy voting members a majority needs: floor(members / 2) + 1. */
  needed: number;
  /** Members that answer, belong to the agreed cluster and see its agreed leader. */
  healthy: number;
  held: boolean;
}

export interface RaisedAlarm {
  /** NOSPACE, CORRUPT, or the raw text of an error etcd reported. */
  alarm: string;
  /** Inventory members that report it (etcd alarms are cluster-wide, so usually all that answer). */
  reportedBy: string[];
}

export interface HealthFindings {
  quorum: QuorumSummary;
  members: MemberVerdict[];
  alarms: RaisedAlarm[];
  /** Members answer for more than one cluster (different cluster ids, or one member id on several hosts). */
  splitBrain: boolean;
  /** Non-empty exactly when `status` must exit 7. */
  unhealthyReasons: string[];
  /** Problems that leave quorum intact (each one is an unhealthy reason under requireAllMembers instead). */
  warnings: string[];
}

export interface HealthOptions {
  /** Any member not healthy, or any alarm, makes the cluster unhealthy. */
  requireAllMembers?: boolean;
}

/** Votes a majority of `voters` needs. */
export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** etcd's Status `errors` mix "etcdserver: no leader" with alarms printed as `memberID:<decimal> alarm:NOSPACE`. */
export function parseMemberErrors(errors: readonly string[] | undefined): { noLeader: boolean; alarms: string[] } {
  let noLeader = false;
  const alarms: string[] = [];
  for (const text of errors ?? []) {
    if (/no leader/i.test(text)) {
      noLeader = true;
      continue;
    }
    const alarm = /alarm:\s*([A-Z_]+)/.exec(text);
    alarms.push(alarm?.[1] ?? text.trim());
  }
  return { noLeader, alarms };
}

const alarmHints: Record<string, string> = {
  NOSPACE: 'etcd refuses writes until the database is compacted and defragmented and the alarm disarmed (etcdctl alarm disarm)',
  CORRUPT: 'a member failed the data consistency check; restore the cluster from a verified snapshot',
};
/** Alarms that stop the cluster from serving Kubernetes (no writes, or data members disagree on): unhealthy even while quorum holds. */
const disablingAlarms = new Set(['NOSPACE', 'CORRUPT']);

function list(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The largest set of members that agree on cluster id and leader, counting each member id once. */
function agreedGroup(voters: readonly MemberObservation[]): { key?: string; clusterId?: string; leaderId?: string; ids: Set<string> } {
  const groups = new Map<string, { clusterId: string; leaderId: string; ids: Set<string> }>();
  for (const m of voters) {
    if (!m.leaderId || m.leaderId === '0' || parseMemberErrors(m.alarms).noLeader) continue;
    const key = `${m.clusterId}/${m.leaderId}`;
    const group = groups.get(key) ?? { clusterId: m.clusterId ?? '?', leaderId: m.leaderId, ids: new Set<string>() };
    group.ids.add(m.memberId ?? m.name);
    groups.set(key, group);
  }
  let best: { key?: string; clusterId?: string; leaderId?: string; ids: Set<string> } = { ids: new Set() };
  // Inventory order breaks ties, so the verdict does not depend on Map internals.
  for (const [key, group] of groups) if (group.ids.size > best.ids.size) best = { key, ...group };
  return best;
}

/** Why the answering members are more than one cluster (none when they are one). */
export function splitBrainFindings(answering: readonly MemberObservation[]): string[] {
  const findings: string[] = [];
  const byCluster = new Map<string, string[]>();
  for (const m of answering) byCluster.set(m.clusterId ?? '?', [...(byCluster.get(m.clusterId ?? '?') ?? []), m.name]);
  if (byCluster.size > 1) {
    const parts = [...byCluster].map(([id, names]) => `${list(names)} ${names.length > 1 ? 'report' : 'reports'} cluster id ${id}`);
    findings.push(`split brain: the members disagree on the cluster id (${parts.join('; ')}): they are separate clusters, not one`);
  }
  const byMemberId = new Map<string, string[]>();
  for (const m of answering) if (m.memberId) byMemberId.set(m.memberId, [...(byMemberId.get(m.memberId) ?? []), m.name]);
  for (const [id, names] of byMemberId) {
    if (names.length < 2) continue;
    const leaders = answering.filter((m) => names.includes(m.name) && m.isLeader).length;
    findings.push(
      `split brain: ${list(names)} all report member id ${id}${leaders > 1 ? ` and each is a leader` : ''}: one data dir restored or copied to several members gives single-member clusters (or the inventory names one endpoint twice)`,
    );
  }
  return findings;
}

/** Judge the cluster from every inventory member's answer (in inventory order). */
export function judgeHealth(members: readonly MemberObservation[], options: HealthOptions = {}): HealthFindings {
  const answering = members.filter((m) => m.ok);
  const voters = members.filter((m) => !(m.ok && m.isLearner));
  const group = agreedGroup(voters.filter((m) => m.ok));
  const seen = new Set<string>();
  const verdicts = members.map((m): MemberVerdict => {
    if (!m.ok) return { name: m.name, state: 'down', detail: m.error ?? 'no answer' };
    if (m.isLearner) return { name: m.name, state: 'learner', detail: 'a learner: answers but does not vote' };
    const id = m.memberId ?? m.name;
    if (group.clusterId !== undefined && m.clusterId !== group.clusterId)
      return { name: m.name, state: 'split', detail: `answers for cluster id ${m.clusterId ?? '?'}, the others for ${group.clusterId}` };
    if (!m.leaderId || m.leaderId === '0' || parseMemberErrors(m.alarms).noLeader)
      return { name: m.name, state: 'no-leader', detail: 'answers but sees no leader (cut off from the other members, or an election is under way)' };
    if (m.leaderId !== group.leaderId)
      return { name: m.name, state: 'other-leader', detail: `sees leader ${m.leaderId}, the others see ${group.leaderId ?? 'none'}` };
    if (seen.has(id)) return { name: m.name, state: 'split', detail: `reports member id ${id}, like another member` };
    seen.add(id);
    return { name: m.name, state: 'healthy' };
  });

  const needed = quorumSize(voters.length);
  const healthy = verdicts.filter((v) => v.state === 'healthy').length;
  const quorum: QuorumSummary = { members: voters.length, needed, healthy, held: healthy >= needed };

  const alarmMap = new Map<string, string[]>();
  for (const m of answering)
    for (const alarm of new Set(parseMemberErrors(m.alarms).alarms)) alarmMap.set(alarm, [...(alarmMap.get(alarm) ?? []), m.name]);
  const alarms = [...alarmMap].map(([alarm, reportedBy]) => ({ alarm, reportedBy }));

  const split = splitBrainFindings(answering);
  const unhealthyReasons: string[] = [...split];
  const notHealthy = verdicts.filter((v) => v.state !== 'healthy' && v.state !== 'learner');
  const memberProblems = notHealthy.map((v) => `member ${v.name} is ${v.state === 'down' ? 'down' : 'not healthy'}: ${v.detail}`);
  if (!quorum.held) {
    const why = notHealthy.map((v) => `${v.name}: ${v.state === 'down' ? `down, ${v.detail}` : v.detail}`).join('; ');
    unhealthyReasons.push(
      `${healthy} of ${voters.length} members healthy, quorum needs ${needed}: the cluster cannot serve writes${why ? ` (${why})` : ''}`,
    );
  }
  const warnings: string[] = [];
  const strict = options.requireAllMembers === true;
  if (quorum.held && memberProblems.length > 0) {
    const spare = healthy - needed;
    const margin = `quorum holds with ${healthy} of ${voters.length} (needs ${needed}), ${spare === 0 ? 'one more failure loses it' : `${spare} more failure(s) tolerated`}`;
    for (const problem of memberProblems)
      (strict ? unhealthyReasons : warnings).push(`${problem}; ${margin}${strict ? ' (--require-all-members)' : ''}`);
  }
  for (const { alarm, reportedBy } of alarms) {
    const hint = alarmHints[alarm];
    const disabling = disablingAlarms.has(alarm);
    (strict || disabling ? unhealthyReasons : warnings).push(
      `alarm ${alarm} reported by ${list(reportedBy)}${hint ? `: ${hint}` : ''}${strict && !disabling ? ' (--require-all-members)' : ''}`,
    );
  }
  return { quorum, members: verdicts, alarms, splitBrain: split.length > 0, unhealthyReasons, warnings };
}
