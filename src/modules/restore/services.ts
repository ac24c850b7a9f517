// `etcd.service` and `kube.services`: stop or start etcd / the kube_master or kube_node components of a host
// and wait for the state, by the host's topology: systemd units (kubeasz), or kubeadm's static pods, whose
// manifests move aside into a folder of the run and back (kubelet itself stays up).
import { kubeMasterServices, kubeNodeServices } from '../../config/etcd-vars.js';
import { defaultManifestsDir } from '../../etcd/members/read-config.js';
import { manifestsAsideDir, startStaticPodsCommand, stopStaticPodsCommand } from '../../etcd/restore/static-pods.js';
import { startEtcdCommand, startUnitsCommand, stopUnitsCommand } from '../../etcd/restore/unit-commands.js';
import { defineModule, type ModuleContext } from '../define.js';
import { exec, mustSucceed } from '../plan-steps.js';
import { runIdSchema } from './member-context.js';
import { hostTopology, restoreMembers } from './restore-state.js';

const properties = {
  state: { enum: ['stopped', 'started'] },
  wait_seconds: { type: 'number', exclusiveMinimum: 0, default: 90 },
  // The run whose folder holds the manifests moved aside (kubeadm).
  run_id: runIdSchema,
  manifests_dir: { type: 'string', pattern: '^/', default: defaultManifestsDir },
} as const;

interface Move {
  state: 'stopped' | 'started';
  wait_seconds: number;
  run_id?: string;
  manifests_dir: string;
}

/** The command that moves a host's static pods, or why it cannot be built. */
function staticPodsCommand(ctx: ModuleContext, args: Move, pods: readonly string[]): string | { problem: string } {
  if (args.run_id === undefined)
    return { problem: `${ctx.host.name} runs kubeadm's static pods: run_id is needed to name the folder their manifests wait in` };
  const aside = manifestsAsideDir(args.manifests_dir, args.run_id);
  return args.state === 'stopped'
    ? stopStaticPodsCommand(args.manifests_dir, aside, pods, args.wait_seconds)
    : startStaticPodsCommand(args.manifests_dir, aside, pods, args.wait_seconds);
}

export const etcdServiceModule = defineModule({
  id: 'etcd.service',
  meta: { runsOn: 'host' },
  schema: { type: 'object', properties, required: ['state'], additionalProperties: false },
  async *plan(ctx, args) {
    const member = restoreMembers(ctx).find((m) => m.host === ctx.host.name);
    if (!member) return { changed: false, failed: true, msg: `${ctx.host.name} is not an etcd member` };
    const kubeadm = hostTopology(ctx) === 'kubeadm';
    const what = `${args.state === 'stopped' ? 'stop' : 'start'} ${kubeadm ? 'the etcd static pod' : member.service}`;
    let command: string;
    if (kubeadm) {
      const built = staticPodsCommand(ctx, args, ['etcd']);
      if (typeof built !== 'string') return { changed: false, failed: true, msg: built.problem };
      command = built;
    } else {
      command = args.state === 'stopped' ? stopUnitsCommand([member.service], args.wait_seconds) : startEtcdCommand(member.service);
    }
    mustSucceed(yield* exec(command, { timeoutMs: (args.wait_seconds + 30) * 1000 }), what);
    return { changed: true, result: { name: kubeadm ? 'etcd' : member.service, topology: kubeadm ? 'kubeadm' : 'systemd', state: args.state } };
  },
});

export const kubeServicesModule = defineModule({
  id: 'kube.services',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: { group: { enum: ['kube_master', 'kube_node'] }, ...properties },
    required: ['group', 'state'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    if (!(ctx.inventory.groups.get(args.group) ?? []).includes(ctx.host.name)) return { changed: false, skipped: true, msg: `not in ${args.group}` };
    const kubeadm = hostTopology(ctx) === 'kubeadm';
    if (kubeadm && args.group === 'kube_master') {
      // The control plane's static pods, named as kube_master_services names them (kubeadm's names by default).
      const pods = kubeMasterServices(ctx.host);
      const built = staticPodsCommand(ctx, args, pods);
      if (typeof built !== 'string') return { changed: false, failed: true, msg: built.problem };
      mustSucceed(
        yield* exec(built, { timeoutMs: (args.wait_seconds + 30) * 1000 }),
        `${args.state === 'stopped' ? 'stop' : 'start'} the static pods ${pods.join(', ')}`,
      );
      return { changed: true, result: { names: pods, topology: 'kubeadm', state: args.state } };
    }
    // kubeadm workers run kube-proxy as a pod and need kubelet up: only units the inventory names are touched.
    const units =
      args.group === 'kube_master'
        ? kubeMasterServices(ctx.host)
        : kubeadm && ctx.host.vars.kube_node_services === undefined
          ? []
          : kubeNodeServices(ctx.host);
    if (units.length === 0) return { changed: false, msg: `no ${args.group} services to ${args.state === 'stopped' ? 'stop' : 'start'}` };
    // Stop in reverse order of start (apiserver last down, first up).
    const command =
      args.state === 'stopped' ? stopUnitsCommand([...units].reverse(), args.wait_seconds) : startUnitsCommand(units, args.wait_seconds);
    mustSucceed(
      yield* exec(command, { timeoutMs: (args.wait_seconds + 30) * 1000 }),
      `${args.state === 'stopped' ? 'stop' : 'start'} ${units.join(', ')}`,
    );
    return { changed: true, result: { names: units, state: args.state } };
  },
});
