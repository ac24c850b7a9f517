// What every member says about the cluster, asked of each through its own client with a deadline, in
// parallel: its status (ids, leader, revision, alarms) and, when asked for, its member list. The one
// observation that status, backup, restore verification and rollback all judge (verdict.ts).
import type { EtcdMember } from '../../config/types.js';
import { EtcdMemberClient, describeEtcdError } from '../client.js';

export interface ObservedMember {
  id: string;
  name: string;
  peerUrls: string[];
}

/** One member's answer (or why it did not answer). Ids are hex, as etcdctl prints them. */
export interface MemberObservation {
  /** The inventory's name for the member (etcd_name or its default): how orchestrate refers to it. */
  name: string;
  /** The name the cluster's member list gives it, when that differs from the inventory's (kubeadm's `master-01`). */
  memberName?: string;
  host: string;
  endpoint: string;
  ok: boolean;
  error?: string;
  durationMs: number;
  memberId?: string;
  clusterId?: string;
  /** Member id of the leader this member sees (`0` while it sees none). */
  leaderId?: string;
  isLeader?: boolean;
  /** Learners answer but do not vote. */
  isLearner?: boolean;
  revision?: number;
  raftTerm?: number;
  /** Its raft committed index. */
  raftIndex?: number;
  dbSize?: number;
  version?: string;
  /** Alarms and errors the member reports (`memberID:... alarm:NOSPACE`, `etcdserver: no leader`). */
  alarms?: string[];
  /** Its member list, when asked for. */
  members?: ObservedMember[];
}

export interface ObserveOptions {
  /** Deadline of each call, connection included. */
  timeoutMs: number;
  /** Also ask each member for its member list (restore verification). */
  memberList?: boolean;
}

export type ObserveCluster = (members: readonly EtcdMember[], options: ObserveOptions) => Promise<MemberObservation[]>;

export const observeCluster: ObserveCluster = (members, options) => Promise.all(members.map((member) => observeMember(member, options)));

async function observeMember(member: EtcdMember, options: ObserveOptions): Promise<MemberObservation> {
  const started = Date.now();
  const base = { name: member.name, host: member.host, endpoint: member.clientUrl };
  let client: EtcdMemberClient | undefined;
  try {
    client = await EtcdMemberClient.open(member, { timeoutMs: options.timeoutMs });
    const status = await client.status();
    const observation: MemberObservation = {
      ...base,
      ok: true,
      durationMs: 0,
      memberId: status.memberId,
      clusterId: status.clusterId,
      leaderId: status.leader,
      isLeader: status.isLeader,
      isLearner: status.isLearner,
      revision: status.revision,
      raftTerm: status.raftTerm,
      raftIndex: status.raftIndex,
      dbSize: status.dbSize,
      version: status.version,
      ...(status.errors.length > 0 ? { alarms: status.errors } : {}),
    };
    if (options.memberList) {
      const list = await client.memberList();
      observation.members = list.members.map((m) => ({ id: m.id, name: m.name, peerUrls: m.peerUrls }));
    }
    observation.durationMs = Date.now() - started;
    return observation;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, ok: false, error: describeEtcdError(message.split('\n')[0] ?? message), durationMs: Date.now() - started };
  } finally {
    client?.close();
  }
}

/** Every member's answer, and the members a snapshot can come from. */
export interface ClusterSurvey {
  members: MemberObservation[];
  /** Healthy followers, then the leader. */
  candidates: MemberObservation[];
  clusterId?: string;
  version?: string;
  /** The leader's name, when a member says it leads. */
  leader?: string;
}

/** Ask every member at once (each with its own deadline) and order the snapshot candidates. */
export async function surveyCluster(
  members: readonly EtcdMember[],
  options: { timeoutMs?: number } = {},
  observe: ObserveCluster = observeCluster,
): Promise<ClusterSurvey> {
  const observations = withClusterNames(members, await observe(members, { timeoutMs: options.timeoutMs ?? 5_000, memberList: true }));
  const leader = observations.find((m) => m.ok && m.isLeader === true);
  const first = observations.find((m) => m.ok);
  return {
    members: observations,
    candidates: snapshotCandidates(observations),
    ...(first?.clusterId ? { clusterId: first.clusterId } : {}),
    ...(first?.version ? { version: first.version } : {}),
    ...(leader ? { leader: shownName(leader) } : {}),
  };
}

/** The name to show an operator: the cluster's own when it differs from the inventory's. */
export function shownName(member: Pick<MemberObservation, 'name' | 'memberName'>): string {
  return member.memberName ?? member.name;
}

/**
 * Each member's name as the cluster lists it: by its member id in a member list, else (it did not answer)
 * by its peer URL in the list of one that did.
 */
function withClusterNames(members: readonly EtcdMember[], observations: MemberObservation[]): MemberObservation[] {
  const listed = observations.flatMap((o) => (o.ok ? (o.members ?? []) : [])).filter((l) => l.name !== '');
  return observations.map((o) => {
    const peerUrl = members.find((m) => m.host === o.host && m.clientUrl === o.endpoint)?.peerUrl;
    const found =
      (o.memberId !== undefined ? listed.find((l) => l.id === o.memberId) : undefined) ??
      (peerUrl !== undefined ? listed.find((l) => l.peerUrls.includes(peerUrl)) : undefined);
    return found && found.name !== o.name ? { ...o, memberName: found.name } : o;
  });
}

/** Members a snapshot can come from, best first: healthy followers (the leader keeps serving writes), then the leader. */
export function snapshotCandidates(observations: readonly MemberObservation[]): MemberObservation[] {
  const healthy = observations.filter((o) => o.ok && o.isLearner !== true && (o.alarms?.length ?? 0) === 0 && o.leaderId !== '0');
  return [...healthy.filter((o) => o.isLeader !== true), ...healthy.filter((o) => o.isLeader === true)];
}

/**
 * Followers first, then the leader: a leader stopped together with its followers tries to hand its
 * leadership to a member that is going away and waits out etcd's transfer timeout (~7 s, seen here);
 * alone, it finds no one to hand over to and exits at once.
 */
export async function followersThenLeader(
  members: readonly EtcdMember[],
  hosts: string[],
  observe: ObserveCluster = observeCluster,
): Promise<string[][]> {
  const observations = await observe(
    members.filter((m) => hosts.includes(m.host)),
    { timeoutMs: 1_500 },
  );
  const leader = observations.find((o) => o.ok && o.isLeader === true);
  if (!leader) return [hosts];
  return [hosts.filter((h) => h !== leader.host), [leader.host]];
}
