// `etcd.identities`: before anything is stopped, the three sources of every member's identity must agree:
// the inventory, the member's configuration (etcd.member-config), and the live cluster's member list when
// it answers. Values the inventory leaves at their defaults are taken from the configuration. Fails with
// one line per disagreement (host, field, values, fix); on success the checked members go to the run's
// state, and every later step acts on them.
import { etcdMembers, kubeNodeServices } from '../../config/etcd-vars.js';
import type { MemberObservation, ObservedMember } from '../../etcd/cluster/observe.js';
import { checkAgainstLive, duplicateIdentities, resolveMember, type ResolvedMember } from '../../etcd/members/resolve.js';
import { defineModule, type ModuleContext } from '../define.js';
import { booleanSchema, toBool } from '../helpers.js';
import { call } from '../plan-steps.js';
import { clusterObserver } from '../etcd-access.js';
import { hostTopology, restoreClusterKey } from './restore-state.js';

export const etcdIdentitiesModule = defineModule({
  id: 'etcd.identities',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    properties: {
      // Ask the live cluster for its member list (it may not answer: then only inventory and configuration are compared).
      live: booleanSchema,
      timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: 3 },
    },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const state = ctx.state.get(restoreClusterKey);
    const problems: string[] = [];
    const notes: string[] = [];
    const members: ResolvedMember[] = [];
    for (const member of etcdMembers(ctx.inventory)) {
      const host = ctx.inventory.hosts.get(member.host);
      const config = state.configs.get(member.host);
      if (!host) continue;
      if (!config) notes.push(`${member.host}: its configuration was not read; the inventory's values are used as they are`);
      for (const problem of config?.problems ?? []) problems.push(`${member.host}: ${problem}`);
      for (const note of config?.notes ?? []) notes.push(`${member.host}: ${note}; the inventory's values are used as they are`);
      const resolved = resolveMember(host, member, config);
      problems.push(...resolved.problems);
      notes.push(...resolved.notes);
      members.push(resolved.member);
    }
    problems.push(...duplicateIdentities(members), ...kubeletProblems(ctx));
    let live: ObservedMember[] | undefined;
    if (toBool(args.live, true)) {
      const timeoutMs = args.timeout_seconds * 1000;
      const observe = clusterObserver(ctx.state, ctx.inventory);
      const observed = yield* call(`etcd member list from the members that answer (${args.timeout_seconds}s deadline each)`, true, () =>
        observe(members, { timeoutMs, memberList: true }),
      );
      const answers = (observed ?? []).filter((o) => o.ok && o.members);
      // A split cluster (kubeasz's one-dir-everywhere mistake leaves N clusters of one) has no member list to trust:
      // repairing it is what the restore is for, so its lists are reported, not compared.
      const split = splitReason(answers);
      if (split) notes.push(`the live cluster is split (${split}): its member lists are not compared with the inventory`);
      else live = answers[0]?.members;
      if (observed && answers.length === 0) notes.push('the cluster does not answer: its member list could not be compared');
      if (live) problems.push(...checkAgainstLive(members, live));
    }
    const result = { members: members.map(describe), problems, notes, ...(live ? { live_members: live } : {}) };
    if (problems.length > 0) return { changed: false, failed: true, msg: problems.join('; '), result };
    state.members = members;
    return { changed: false, msg: `${members.length} members agree${notes.length ? ` (${notes.length} note(s))` : ''}`, result };
  },
});

/** Why the answering members cannot be one cluster, if they cannot. */
export function splitReason(answers: readonly MemberObservation[]): string | undefined {
  const clusters = new Set(answers.flatMap((o) => (o.clusterId ? [o.clusterId] : [])));
  if (clusters.size > 1) return `${clusters.size} cluster ids`;
  const ids = answers.flatMap((o) => (o.memberId ? [o.memberId] : []));
  if (new Set(ids).size < ids.length) return 'several members answer with one member id';
  const leaders = answers.filter((o) => o.isLeader).length;
  if (leaders > 1) return `${leaders} leaders`;
  const lists = new Set(
    answers.map((o) =>
      (o.members ?? [])
        .map((m) => m.id)
        .sort()
        .join(','),
    ),
  );
  if (lists.size > 1) return 'the members list different members';
  return undefined;
}

/** kubelet runs kubeadm's static pods: stopping it would leave them running while their manifests move. */
function kubeletProblems(ctx: ModuleContext): string[] {
  const problems: string[] = [];
  for (const name of ctx.inventory.groups.get('kube_node') ?? []) {
    const host = ctx.inventory.hosts.get(name);
    if (!host || hostTopology(ctx, name) !== 'kubeadm') continue;
    if (host.vars.kube_node_services !== undefined && kubeNodeServices(host).includes('kubelet')) {
      problems.push(
        `${name}: kube_node_services lists kubelet, but kubelet runs this host's static pods and must stay up during a kubeadm restore; fix: leave kubelet out of kube_node_services for ${name}`,
      );
    }
  }
  return problems;
}

function describe(m: ResolvedMember): Record<string, unknown> {
  return {
    host: m.host,
    name: m.name,
    peer_url: m.peerUrl,
    client_url: m.clientUrl,
    data_dir: m.dataDir,
    ...(m.walDir ? { wal_dir: m.walDir } : {}),
    topology: m.topology,
    sources: m.sources,
  };
}
