// `etcd.member-remove`, `etcd.member-add`, `etcd.member-promote`: the membership steps of a replace, asked
// of a healthy member other than the target: from the deploy host through its etcd client, or with etcdctl on
// that member over SSH (etcd_access: ssh, see etcd-access.ts). Each looks at the live member list first and
// does only what is left, so a resumed run can send it again.
import type { EtcdMember } from '../../config/types.js';
import type { ListedMember } from '../../etcd/client.js';
import type { ObserveCluster } from '../../etcd/cluster/observe.js';
import type { MembershipClient } from '../../etcd/cluster/membership-over-ssh.js';
import { checkReplace, replaceStage } from '../../etcd/member/replace.js';
import { defineModule, type ModuleContext } from '../define.js';
import { clusterObserver, membershipClient } from '../etcd-access.js';
import { call, ModuleFailure } from '../plan-steps.js';
import { restoreMembers } from '../restore/restore-state.js';
import { replaceProgress, type ReplaceProgress } from './replace-state.js';

interface Target {
  member: EtcdMember;
  members: EtcdMember[];
  progress: ReplaceProgress;
  observe: ObserveCluster;
  connect: (peer: EtcdMember) => Promise<MembershipClient>;
}

function targetOf(ctx: ModuleContext): Target {
  // As the member's configuration says (etcd.member-config ran in the preflight), the inventory's values where it says nothing.
  const members = restoreMembers(ctx);
  const member = members.find((m) => m.host === ctx.host.name);
  if (!member) throw new ModuleFailure(`${ctx.host.name} is not an etcd member`);
  const all = ctx.state.get(replaceProgress);
  const progress = all.get(member.host) ?? {};
  all.set(member.host, progress);
  return {
    member,
    members,
    progress,
    observe: clusterObserver(ctx.state, ctx.inventory),
    connect: (peer) => membershipClient(ctx.state, ctx.inventory, peer, 5_000),
  };
}

/** A client on a healthy member other than the target (the leader when it answers). */
async function withPeer<T>(target: Target, use: (client: MembershipClient, list: ListedMember[]) => Promise<T>): Promise<T> {
  const others = target.members.filter((m) => m.host !== target.member.host);
  const observed = await target.observe(others, { timeoutMs: 3_000 });
  const healthy = observed.filter((o) => o.ok && !o.isLearner && o.leaderId !== '0');
  const chosen = healthy.find((o) => o.isLeader) ?? healthy[0];
  const peer = chosen && others.find((m) => m.host === chosen.host);
  if (!peer)
    throw new ModuleFailure(
      `no healthy member other than ${target.member.name} answers: ${observed.map((o) => `${o.name}: ${o.error ?? 'no leader'}`).join('; ')}`,
    );
  const client = await target.connect(peer);
  try {
    return await use(client, (await client.memberList()).members);
  } finally {
    client.close();
  }
}

const timeoutSchema = { type: 'number', exclusiveMinimum: 0, default: 120 } as const;

/**
 * etcd refuses a membership change until its leader has been connected to every voting member for 5 s
 * ("unhealthy cluster"; its strict reconfiguration check): right after a start or a removal, wait and retry.
 */
async function retryWhileSettling<T>(what: string, deadline: number, attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!/unhealthy cluster|not enough started members|leader changed|no leader/i.test(message) || Date.now() > deadline) {
        throw error instanceof ModuleFailure ? error : new ModuleFailure(`${what}: ${message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export const etcdMemberRemoveModule = defineModule({
  id: 'etcd.member-remove',
  meta: { runsOn: 'deploy-host' },
  schema: { type: 'object', properties: { timeout_seconds: timeoutSchema }, additionalProperties: false },
  async *plan(ctx, args) {
    const target = targetOf(ctx);
    const what = `etcd member list, then member remove ${target.member.name} (${target.member.peerUrl}) unless already removed, refusing if the quorum would not hold`;
    const said = yield* call(what, false, async () => {
      const observations = await target.observe(target.members, { timeoutMs: 3_000 });
      return retryWhileSettling('member remove', Date.now() + args.timeout_seconds * 1000, () =>
        withPeer(target, async (client, list) => {
          const where = replaceStage(list, target.member, target.progress.removedId);
          const id = where.id;
          if (where.stage !== 'remove' || id === undefined) return 'already removed';
          const allowed = checkReplace(target.members, observations, target.member.host);
          if (!allowed.ok) throw new ModuleFailure(`refused: ${allowed.problem ?? ''}`);
          await client.memberRemove(id);
          target.progress.removedId = id;
          return `removed member ${id}`;
        }),
      );
    });
    return { changed: said !== 'already removed', ...(said ? { msg: said } : {}), result: { removed_id: target.progress.removedId ?? null } };
  },
});

export const etcdMemberAddModule = defineModule({
  id: 'etcd.member-add',
  meta: { runsOn: 'deploy-host' },
  schema: { type: 'object', properties: { timeout_seconds: timeoutSchema }, additionalProperties: false },
  async *plan(ctx, args) {
    const target = targetOf(ctx);
    const what = `etcd member add ${target.member.name} --peer-urls ${target.member.peerUrl} --learner (unless already added)`;
    const said = yield* call(what, false, () =>
      retryWhileSettling('member add', Date.now() + args.timeout_seconds * 1000, () =>
        withPeer(target, async (client, list) => {
          const where = replaceStage(list, target.member, target.progress.removedId ?? 'none');
          if (where.stage !== 'add') {
            target.progress.addedId = where.id;
            return `already added as ${where.id ?? '?'}`;
          }
          const added = await client.memberAdd([target.member.peerUrl], true, target.member.name);
          target.progress.addedId = added.id;
          return `added as learner ${added.id}`;
        }),
      ),
    );
    return { changed: !said?.startsWith('already'), ...(said ? { msg: said } : {}), result: { added_id: target.progress.addedId ?? null } };
  },
});

async function promoteWhenReady(target: Target, deadline: number): Promise<string> {
  for (;;) {
    const outcome = await withPeer(target, async (client, list) => {
      const entry = list.find((m) => m.peerUrls.includes(target.member.peerUrl));
      if (!entry) throw new ModuleFailure(`${target.member.name} is not in the member list: it was not added`);
      if (!entry.isLearner) return 'voting';
      try {
        await client.memberPromote(entry.id);
        return 'promoted';
      } catch (error) {
        // etcd refuses while the learner is behind ("can only promote a learner member which is in sync with leader").
        if (Date.now() > deadline) throw new ModuleFailure(`${target.member.name} did not catch up in time: ${(error as Error).message}`);
        return 'behind';
      }
    });
    if (outcome !== 'behind') return outcome;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function waitCaughtUp(target: Target, deadline: number): Promise<string> {
  for (;;) {
    const observed = await target.observe(target.members, { timeoutMs: 2_000 });
    const mine = observed.find((o) => o.host === target.member.host);
    const leader = observed.find((o) => o.ok && o.isLeader);
    if (mine?.ok && leader && !mine.isLearner && mine.leaderId === leader.memberId && (mine.revision ?? 0) >= (leader.revision ?? 0)) {
      return `caught up at revision ${mine.revision ?? 0}`;
    }
    if (Date.now() > deadline)
      throw new ModuleFailure(
        `${target.member.name} has not caught up: ${mine?.ok ? `revision ${mine.revision ?? '?'}, the leader's ${leader?.revision ?? '?'}` : (mine?.error ?? 'no answer')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/**
 * Every voting member that answers has committed what the leader had committed after the promotion and
 * the barrier behind it. A follower learns that an entry is committed only from the leader's next message,
 * and writes that down durably only with its next entry: cut the power before that, and the survivors
 * restart without the promotion, counting a member that is gone as a voter (no quorum without it).
 */
async function waitAllCommitted(target: Target, deadline: number): Promise<string> {
  let goal: number | undefined;
  for (;;) {
    const observed = await target.observe(target.members, { timeoutMs: 2_000 });
    const leader = observed.find((o) => o.ok && o.isLeader);
    goal ??= leader?.raftIndex;
    const voters = observed.filter((o) => o.ok && !o.isLearner);
    if (goal !== undefined && voters.every((o) => (o.raftIndex ?? 0) >= (goal ?? 0)))
      return `${voters.length} voting members have committed index ${goal}`;
    if (Date.now() > deadline) {
      const behind = voters.filter((o) => (o.raftIndex ?? 0) < (goal ?? 0)).map((o) => `${o.name} at ${o.raftIndex ?? '?'}`);
      throw new ModuleFailure(`the members have not all committed the promotion (index ${goal ?? '?'}): ${behind.join(', ') || 'no leader'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export const etcdMemberPromoteModule = defineModule({
  id: 'etcd.member-promote',
  meta: { runsOn: 'deploy-host' },
  schema: { type: 'object', properties: { timeout_seconds: timeoutSchema }, additionalProperties: false },
  async *plan(ctx, args) {
    const target = targetOf(ctx);
    const said = yield* call(
      `wait until ${target.member.name} has caught up, etcd member promote it, wait until it is at the leader's revision (at most ${args.timeout_seconds}s)`,
      false,
      async () => {
        const deadline = Date.now() + args.timeout_seconds * 1000;
        const promoted = await promoteWhenReady(target, deadline);
        const caughtUp = await waitCaughtUp(target, deadline);
        // Make the promotion durable everywhere before calling the replace done (see raftBarrier).
        await withPeer(target, (client) => client.raftBarrier());
        return `${promoted}; ${caughtUp}; ${await waitAllCommitted(target, deadline)}`;
      },
    );
    return { changed: said?.startsWith('promoted') ?? true, ...(said ? { msg: said } : {}) };
  },
});
