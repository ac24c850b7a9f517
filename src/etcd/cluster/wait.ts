// After etcd starts: poll the cluster (bounded) until it is judged as needed, or clearly broken.
import type { EtcdMember } from '../../config/types.js';
import { observeCluster, type MemberObservation, type ObserveCluster } from './observe.js';
import { judgeCluster, type ClusterNeed, type ClusterVerdict } from './verdict.js';

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
export async function waitForVerifiedCluster(members: readonly EtcdMember[], need: ClusterNeed, options: WaitOptions): Promise<WaitResult> {
  const started = Date.now();
  const observe = options.observe ?? observeCluster;
  const interval = options.intervalMs ?? 500;
  let definitiveInARow = 0;
  for (;;) {
    const observations = await observe(members, { timeoutMs: options.callTimeoutMs ?? 2_000, memberList: true });
    const verdict = judgeCluster(observations, need);
    options.onPoll?.(verdict, observations);
    definitiveInARow = verdict.definitive ? definitiveInARow + 1 : 0;
    const waitedMs = Date.now() - started;
    if (verdict.ok || definitiveInARow >= 2 || waitedMs + interval > options.timeoutMs || options.signal?.aborted === true) {
      if (!verdict.ok && !verdict.definitive && waitedMs + interval > options.timeoutMs) {
        verdict.problems.unshift(`not healthy and verified after ${Math.round(waitedMs / 1000)}s`);
      }
      return { verdict, observations, waitedMs };
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
