// The checks a drill runs against its throwaway cluster: quorum (one leader every member agrees on), one
// cluster id, the member list it was restored with, the revision it serves, one HashKV across members,
// and the expectations. Each check is a result, never a throw, so a drill reports everything it saw.
import { EtcdMemberClient, type MemberStatus } from '../etcd/client.js';
import type { EtcdMember } from '../config/types.js';
import { LiveKeyReader } from '../etcd/live-keys.js';
import { describeExpectation, type DrillExpectation } from './expectations.js';
import type { DrillMember, RunningMember } from './drill-members.js';
import { memberLogTail } from './drill-members.js';

export interface DrillCheck {
  id: string;
  ok: boolean;
  detail: string;
}

export interface QuorumResult {
  ok: boolean;
  /** When a majority first agreed on one leader (ms since `since`). */
  quorumMs?: number;
  statuses: (MemberStatus | undefined)[];
  detail: string;
}

const POLL_MS = 100;

/**
 * Polls every member until all of them answer and agree on one leader, or until `deadline`. A member whose
 * process exits fails at once, with the end of its log.
 */
export async function waitForCluster(
  members: readonly EtcdMember[],
  running: readonly RunningMember[],
  options: { deadline: number; since: number; signal?: AbortSignal },
): Promise<QuorumResult> {
  const clients = await Promise.all(members.map((m) => EtcdMemberClient.open(m, { timeoutMs: 1_500 })));
  const errors = new Map<string, string>();
  let quorumMs: number | undefined;
  let statuses: (MemberStatus | undefined)[] = [];
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const dead = running.find((r) => r.exited !== undefined);
      if (dead)
        return {
          ok: false,
          statuses,
          detail: `etcd ${dead.member.name} ${dead.exited ?? 'exited'}: ${await memberLogTail(dead.member)}`,
          ...(quorumMs !== undefined ? { quorumMs } : {}),
        };
      statuses = await Promise.all(
        clients.map((client) =>
          client.status().then(
            (status) => status,
            (error: unknown) => {
              errors.set(client.member.name, error instanceof Error ? error.message : String(error));
              return undefined;
            },
          ),
        ),
      );
      const leaders = new Map<string, number>();
      for (const s of statuses) if (s && s.leader !== '0') leaders.set(s.leader, (leaders.get(s.leader) ?? 0) + 1);
      const [best = 0] = [...leaders.values()].sort((a, b) => b - a);
      if (quorumMs === undefined && best > members.length / 2) quorumMs = Date.now() - options.since;
      if (best === members.length)
        return { ok: true, quorumMs: quorumMs ?? Date.now() - options.since, statuses, detail: 'every member sees one leader' };
      if (Date.now() > options.deadline) {
        const missing = members.filter((_, i) => !statuses[i]).map((m) => `${m.name}: ${errors.get(m.name) ?? 'no answer'}`);
        return {
          ok: false,
          statuses,
          detail: `no quorum with one leader before the deadline (${best} of ${members.length} agree${missing.length ? `; ${missing.join('; ')}` : ''})`,
          ...(quorumMs !== undefined ? { quorumMs } : {}),
        };
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    clients.forEach((c) => c.close());
  }
}

/** One leader, one cluster id, and the revision every member serves. */
export function statusChecks(
  statuses: readonly (MemberStatus | undefined)[],
  members: readonly DrillMember[],
  expectedRevision: number,
): DrillCheck[] {
  const answered = statuses.filter((s): s is MemberStatus => s !== undefined);
  const leaders = answered.filter((s) => s.isLeader);
  const leaderIds = new Set(answered.map((s) => s.leader));
  const clusterIds = new Set(answered.map((s) => s.clusterId));
  const revisions = answered.map((s) => s.revision);
  const low = Math.min(...revisions);
  const high = Math.max(...revisions);
  const leaderName = leaders[0] ? members[statuses.indexOf(leaders[0])]?.name : undefined;
  return [
    {
      id: 'one-leader',
      ok: leaders.length === 1 && leaderIds.size === 1 && answered.length === members.length,
      detail:
        leaders.length === 1 ? `leader ${leaderName ?? '?'}, seen by all ${answered.length} members` : `${leaders.length} members say they lead`,
    },
    {
      id: 'one-cluster-id',
      ok: clusterIds.size === 1,
      detail: `cluster id${clusterIds.size === 1 ? '' : 's'} ${[...clusterIds].join(', ')}`,
    },
    {
      id: 'revision',
      ok: answered.length > 0 && low >= expectedRevision && revisions.every((r) => r === revisions[0]),
      detail:
        low === expectedRevision && high === expectedRevision
          ? `every member serves revision ${expectedRevision}`
          : low > expectedRevision && low === high
            ? `every member serves revision ${low}: ${low - expectedRevision} write(s) since it started (leases restored from the snapshot that expired)`
            : `members serve revisions ${[...new Set(revisions)].join(', ')}, expected ${expectedRevision}`,
    },
  ];
}

/** The member list equals what the drill restored (names and peer URLs). */
export async function memberListCheck(member: EtcdMember, planned: readonly DrillMember[]): Promise<DrillCheck> {
  const client = await EtcdMemberClient.open(member, { timeoutMs: 3_000 });
  try {
    const list = await client.memberList();
    const got = list.members.map((m) => `${m.name}=${m.peerUrls.join('|')}`).sort();
    const want = planned.map((m) => `${m.name}=${m.peerUrl}`).sort();
    const ok = got.length === want.length && got.every((g, i) => g === want[i]);
    return {
      id: 'member-list',
      ok,
      detail: ok ? `${got.length} members, each with its own name and peer URL` : `members ${got.join(', ')}; expected ${want.join(', ')}`,
    };
  } catch (error) {
    return { id: 'member-list', ok: false, detail: `member list: ${(error as Error).message}` };
  } finally {
    client.close();
  }
}

/** Every member's HashKV at `revision` (each member asked on its own). */
async function hashesAt(members: readonly EtcdMember[], revision: number) {
  return Promise.all(
    members.map(async (member) => {
      const reader = await LiveKeyReader.connect([member], { timeoutMs: 10_000 });
      try {
        return await reader.hashKv(revision);
      } finally {
        reader.close();
      }
    }),
  );
}

/**
 * Every member reports the same HashKV, the one computed from the snapshot file when given: at the
 * snapshot's revision, or at the current one when that revision is compacted (a bumped and compacted
 * restore, or a snapshot taken right after a compaction).
 */
export async function hashCheck(members: readonly EtcdMember[], revision: number, expected?: number): Promise<DrillCheck> {
  let at = revision;
  for (let attempt = 0; attempt < 4; attempt++) {
    const results = await hashesAt(members, at).catch((error: unknown) => error as Error);
    if (results instanceof Error) {
      if (at !== 0 && /compacted/i.test(results.message)) {
        at = 0;
        continue;
      }
      return { id: 'hash', ok: false, detail: results.message };
    }
    const hashes = new Set(results.map((r) => r.hash));
    const revisions = new Set(results.map((r) => r.revision));
    const [hash] = [...hashes];
    const where = at === 0 ? ' (at its current revision)' : ` at revision ${at}`;
    if (hashes.size === 1 && (expected === undefined || hash === expected)) {
      const proof = expected === undefined ? '' : ", the one computed from the snapshot file: every value of every revision is the snapshot's";
      return { id: 'hash', ok: true, detail: `every member's HashKV${where} is ${hash ?? '?'}${proof}` };
    }
    if (hashes.size === 1)
      return { id: 'hash', ok: false, detail: `every member's HashKV${where} is ${hash ?? '?'}, but the snapshot file gives ${expected ?? '?'}` };
    // At the current revision a write between the calls (an expired lease) changes the hash: ask again.
    if (at === 0 && revisions.size > 1) continue;
    return { id: 'hash', ok: false, detail: `members disagree: HashKV ${results.map((r, i) => `${members[i]?.name ?? '?'}=${r.hash}`).join(', ')}` };
  }
  return { id: 'hash', ok: false, detail: 'the members kept writing while their hashes were compared' };
}

export interface ExpectationResult {
  expectation: DrillExpectation;
  count: number;
  ok: boolean;
}

/** Count each expectation's keys on the drilled cluster (count-only reads at the pinned revision). */
export async function checkExpectations(
  reader: LiveKeyReader,
  expectations: readonly DrillExpectation[],
): Promise<{ results: ExpectationResult[]; check: DrillCheck }> {
  const results: ExpectationResult[] = [];
  for (const expectation of expectations) {
    const count = await reader.count(expectation.value, expectation.match === 'key');
    results.push({ expectation, count, ok: count >= expectation.min });
  }
  const failed = results.filter((r) => !r.ok);
  const detail =
    expectations.length === 0
      ? 'none (drill_expect: [])'
      : failed.length === 0
        ? `all ${results.length} hold`
        : failed.map((r) => `MISSING ${describeExpectation(r.expectation)} (found ${r.count})`).join('; ');
  return { results, check: { id: 'expectations', ok: failed.length === 0, detail } };
}
