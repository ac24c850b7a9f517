// The members a restore acts on, between the command and the procedure: the per-host values restore.yml
// reads (placeholders until the preflight has read them), the identities the preflight checked (or, for a
// resumed run and a rollback, the ones the journal recorded), each member's paths, and whether revisions
// are bumped.
import type { Inventory } from '../../config/types.js';
import type { ResolvedMember } from '../../etcd/members/resolve.js';
import type { JournalMember, RestoreJournal } from '../../etcd/restore/journal.js';
import { isDone } from '../../etcd/restore/journal.js';
import { restorePaths } from '../../etcd/restore/paths.js';
import type { HostServices } from '../../etcd/restore/unit-commands.js';
import { forcedTopology, restoreClusterKey, type RestoreClusterState } from '../../modules/restore/restore-state.js';
import type { RunState } from '../../modules/run-state.js';
import { Deferred } from '../../template/index.js';
import type { PreflightReading } from './preflight.js';
import type { RestoreContext } from './restore-context.js';
import type { PlanMember } from './summary.js';

/** etcd's own suggestion for Kubernetes (the revisions a cluster could have served since the snapshot, and then some). */
export const DEFAULT_REVISION_BUMP = 1_000_000_000;

/** Per host: the snapshot bytes a member still needs room for, and placeholders for what the preflight tells. */
export function memberFacts(ctx: RestoreContext): Map<string, Record<string, unknown>> {
  const { resuming } = ctx;
  const facts = new Map<string, Record<string, unknown>>();
  for (const host of ctx.inventory.hosts.keys()) {
    facts.set(host, {
      restore_bump_revision: resuming ? (resuming.bumpRevision ?? 0) : new Deferred('restore_bump_revision (from the preflight)'),
      restore_expected_revision: resuming
        ? resuming.snapshot.revision + (resuming.bumpRevision ?? 0)
        : new Deferred('restore_expected_revision (from the preflight)'),
    });
  }
  for (const m of ctx.members) {
    const journaled = resuming?.members[m.host];
    facts.set(m.host, {
      ...facts.get(m.host),
      restore_snapshot_bytes: resuming && isDone(resuming, m.host, 'restore-data') ? 0 : ctx.snapshot.size,
      restore_had_old_data: journaled ? journaled.hadOldData : new Deferred('restore_had_old_data (from the preflight)'),
      restore_tool: journaled?.tool ?? new Deferred('restore_tool (from the preflight)'),
    });
  }
  return facts;
}

/** The members, layouts and topologies a journal recorded, as the modules read them from the run's state. */
export function stateFromJournal(
  state: RunState,
  journal: RestoreJournal,
  inventoryMembers: readonly ResolvedMember[] | readonly { host: string }[],
): void {
  const cluster: RestoreClusterState = state.get(restoreClusterKey);
  const members: ResolvedMember[] = [];
  for (const base of inventoryMembers) {
    const recorded = journal.members[base.host];
    if (!recorded?.identity) return; // a journal of an older version: the modules read the members afresh
    const { identity } = recorded;
    members.push({
      ...(base as ResolvedMember),
      name: recorded.name,
      peerUrl: identity.peerUrl,
      clientUrl: identity.clientUrl,
      dataDir: identity.dataDir,
      ...(identity.walDir !== undefined ? { walDir: identity.walDir } : {}),
      service: recorded.service,
      topology: identity.topology,
      sources: {},
    });
    cluster.layouts.set(base.host, { mode: identity.mode, ...(identity.walMode ? { walMode: identity.walMode } : {}) });
  }
  cluster.members = members;
}

/** After the preflight: the checked members, their paths, what the restore will do to each, and the revision bump. */
export function settleMembers(ctx: RestoreContext, preflight: PreflightReading, state: RunState): { planMembers: PlanMember[]; bump: number } {
  const cluster = state.get(restoreClusterKey);
  const resolved = cluster.members ?? (ctx.members as ResolvedMember[]);
  const planMembers = resolved.map((member): PlanMember => {
    const facts = preflight.facts.get(member.host);
    const journaled = ctx.resuming?.members[member.host];
    const layout = cluster.layouts.get(member.host);
    const paths =
      journaled?.paths ??
      restorePaths(member.dataDir, ctx.runId, {
        ...(layout ? { mode: layout.mode } : {}),
        ...(member.walDir !== undefined ? { walDir: member.walDir, ...(layout?.walMode ? { walMode: layout.walMode } : {}) } : {}),
      });
    const tool = facts?.tool ?? journaled?.tool;
    return {
      member,
      paths,
      hadOldData: journaled?.hadOldData ?? facts?.had_old_data ?? false,
      ...(tool ? { tool } : {}),
      canBump: facts?.can_bump_revision === true,
    };
  });
  ctx.members = resolved;
  ctx.paths = new Map(planMembers.map((m) => [m.member.host, m.paths]));
  const bump = ctx.resuming ? (ctx.resuming.bumpRevision ?? 0) : revisionBump(ctx, planMembers);
  return { planMembers, bump };
}

/** Bump only when every member's tool can (revisions must move together); the inventory may turn it off. */
function revisionBump(ctx: RestoreContext, planMembers: readonly PlanMember[]): number {
  const configured = ctx.inventory.hosts.get(planMembers[0]?.member.host ?? '')?.vars.etcd_restore_bump_revision;
  const wanted = configured === undefined ? DEFAULT_REVISION_BUMP : Number(configured);
  if (!Number.isInteger(wanted) || wanted <= 0) return 0;
  if (ctx.mode === 'deploy-host') return ctx.deployHost?.canBump === true ? wanted : 0;
  return planMembers.every((m) => m.canBump) ? wanted : 0;
}

/** What the journal keeps of each member, so a resumed run and a rollback act on exactly these. */
export function journalMembers(planMembers: readonly PlanMember[], state: RunState): Record<string, JournalMember> {
  const layouts = state.get(restoreClusterKey).layouts;
  return Object.fromEntries(
    planMembers.map((m): [string, JournalMember] => {
      const member = m.member as ResolvedMember;
      const layout = layouts.get(member.host);
      return [
        member.host,
        {
          name: member.name,
          identity: {
            peerUrl: member.peerUrl,
            clientUrl: member.clientUrl,
            dataDir: member.dataDir,
            ...(member.walDir !== undefined ? { walDir: member.walDir } : {}),
            topology: member.topology,
            mode: layout?.mode ?? 'rename',
            ...(layout?.walMode ? { walMode: layout.walMode } : {}),
          },
          paths: m.paths,
          hadOldData: m.hadOldData,
          service: member.service,
          ...(m.tool === 'etcdutl' || m.tool === 'etcdctl' ? { tool: m.tool } : {}),
        },
      ];
    }),
  );
}

/** The facts restore.yml reads once the preflight is done. */
export function setSettledFacts(
  inventory: Inventory,
  planMembers: readonly PlanMember[],
  bump: number,
  snapshotRevision: number,
  set: (host: string, name: string, value: unknown) => void,
): void {
  for (const host of inventory.hosts.keys()) {
    set(host, 'restore_bump_revision', bump);
    set(host, 'restore_expected_revision', snapshotRevision + bump);
  }
  for (const m of planMembers) {
    set(m.member.host, 'restore_had_old_data', m.hadOldData);
    set(m.member.host, 'restore_tool', m.tool ?? 'auto');
  }
}

/** Each host's services as the restore will treat them: on a kubeadm host the control plane is static pods and workers keep kubelet. */
export function servicesByTopology(ctx: RestoreContext, state: RunState): (HostServices & { staticPods?: boolean })[] {
  const configs = state.get(restoreClusterKey).configs;
  return ctx.services.map((s) => {
    const host = ctx.inventory.hosts.get(s.host);
    const forced = forcedTopology(host?.vars.etcd_topology);
    const kubeadm = (forced ?? configs.get(s.host)?.topology) === 'kubeadm';
    if (!kubeadm) return s;
    return { ...s, kubeNode: host?.vars.kube_node_services === undefined ? [] : s.kubeNode, staticPods: true };
  });
}
