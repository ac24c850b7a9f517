// What the restore modules learn about the members during one run, typed, in the run's state: each host's
// configuration as read there (etcd.member-config), each member's disk layout (etcd.preflight), and the
// identities every module acts on once etcd.identities has checked the three sources against each other
// (or, for a resumed run and a rollback, as the journal recorded them).
import { etcdMembers } from '../../config/etcd-vars.js';
import type { MemberConfig, Topology } from '../../etcd/members/read-config.js';
import { resolveMember, type ResolvedMember } from '../../etcd/members/resolve.js';
import type { SwapMode } from '../../etcd/restore/paths.js';
import type { ModuleContext } from '../define.js';
import { stateKey } from '../run-state.js';

/** How a member's data (and a WAL kept apart) are swapped: renamed, or inside a mount point. */
export interface MemberLayout {
  mode: SwapMode;
  walMode?: SwapMode;
}

export interface RestoreClusterState {
  /** Host -> its configuration as read there. */
  configs: Map<string, MemberConfig>;
  /** Member host -> its disk layout. */
  layouts: Map<string, MemberLayout>;
  /** The members every later step acts on. */
  members?: ResolvedMember[];
}

export const restoreClusterKey = stateKey<RestoreClusterState>('restore-cluster', () => ({ configs: new Map(), layouts: new Map() }));

/** Variables that force the topology (`static-pod` is the older name of kubeadm's). */
export function forcedTopology(value: unknown): Topology | undefined {
  if (value === 'kubeadm' || value === 'static-pod') return 'kubeadm';
  if (value === 'systemd') return 'systemd';
  return undefined;
}

/** The members as checked (or as recorded), else each inventory member with what its own configuration says. */
export function restoreMembers(ctx: ModuleContext): ResolvedMember[] {
  const state = ctx.state.get(restoreClusterKey);
  if (state.members) return state.members;
  return etcdMembers(ctx.inventory).map((member) => {
    const host = ctx.inventory.hosts.get(member.host);
    const config = state.configs.get(member.host);
    return host ? resolveMember(host, member, config).member : { ...member, topology: config?.topology ?? 'systemd', sources: {} };
  });
}

/** The topology of a host (a kube-only host too): forced by the inventory, else what was read there. */
export function hostTopology(ctx: ModuleContext, host = ctx.host.name): Topology {
  const forced = forcedTopology(ctx.inventory.hosts.get(host)?.vars.etcd_topology);
  if (forced) return forced;
  const state = ctx.state.get(restoreClusterKey);
  return state.members?.find((m) => m.host === host)?.topology ?? state.configs.get(host)?.topology ?? 'systemd';
}
