// Asks every member, each through its own client with a deadline, for its status and member list,
// and waits (bounded) until the cluster is verified or clearly broken.
import type { EtcdMember } from '../../config/types.js';
import { EtcdMemberClient } from '../../etcd/client.js';
import { judgeCluster, type ClusterExpectation, type ClusterVerdict, type MemberObservation } from './verify-cluster.js';

export type ObserveCluster = (members: readonly EtcdMember[], timeoutMs: number) => Promise<MemberObservation[]>;

export const observeCluster: ObserveCluster = (members, timeoutMs) =>
  Promise.all(
    members.map(async (member): Promise<MemberObservation> => {
      const observation: MemberObservation = { host: member.host, name: member.name, endpoint: member.clientUrl };
      let client: EtcdMemberClient | undefined;
      try {
        client = await EtcdMemberClient.open(member, { timeoutMs });
        const status = await client.status();
        observation.status = {
          memberId: status.memberId,
          clusterId: status.clusterId,
          leaderId: status.leader,
          revision: status.revision,
          raftTerm: status.raftTerm,
          version: status.version,
          dbSize: status.dbSize,
        };
        const list = await client.memberList();
        observation.members = list.members.map((m) => ({ id: m.id, name: m.name, peerUrls: m.peerUrls }));
      } catch (error) {
        observation.error = ((error as Error).message ?? String(error)).split('\n')[0] ?? 'error';
      } finally {
        client?.close();
      }
      return observation;
    }),
  );

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Deadline of each call. Default 2 s. */
  callTimeoutMs?: number;
  signal?: AbortSignal;
  observe?: ObserveCluster;
  onPoll?: (verdict: ClusterVerdict, observations: MemberObservation[]) => void;
}

export interface WaitResult {
  verdict: ClusterVerdict;
  observations: MemberObservation[];
  waitedMs: number;
}

/**
 * Polls until the verdict is ok, the same definitive failure was seen twice in a row (all members answer
 * and the identities are wrong: waiting will not fix it), or the time is up.
 */
export async function waitForVerifiedCluster(members: readonly EtcdMember[], expect: ClusterExpectation, options: WaitOptions): Promise<WaitResult> {
  const started = Date.now();
  const observe = options.observe ?? observeCluster;
  const interval = options.intervalMs ?? 500;
  let definitiveInARow = 0;
  for (;;) {
    const observations = await observe(members, options.callTimeoutMs ?? 2_000);
    const verdict = judgeCluster(members, observations, expect);
    options.onPoll?.(verdict, observations);
    definitiveInARow = verdict.definitive ? definitiveInARow + 1 : 0;
    const waitedMs = Date.now() - started;
    if (verdict.ok || definitiveInARow >= 2 || waitedMs + interval > options.timeoutMs || options.signal?.aborted) {
      if (!verdict.ok && !verdict.definitive && waitedMs + interval > options.timeoutMs) {
        verdict.problems.unshift(`not healthy and verified after ${Math.round(waitedMs / 1000)}s`);
      }
      return { verdict, observations, waitedMs };
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
