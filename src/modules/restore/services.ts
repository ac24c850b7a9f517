// `etcd.service` and `kube.services`: stop or start etcd / the kube_master or kube_node components of a host
// and wait for the state. Behind `etcd_topology` (systemd today: kubeasz's units) so kubeadm's static
// pods can be handled here later without reshaping the playbook.
import { kubeMasterServices, kubeNodeServices } from '../../config/etcd-vars.js';
import { OrchestrateError } from '../../errors.js';
import { defineModule, type ModuleContext, type ModuleOutcome } from '../define.js';
import { exec, mustSucceed } from '../plan-steps.js';
import { etcdMembers } from '../../config/etcd-vars.js';
import { startEtcdCommand, startUnitsCommand, stopUnitsCommand, topologyOf } from '../../etcd/restore/unit-commands.js';

export interface EtcdServiceArgs {
  state: 'stopped' | 'started';
  wait_seconds?: number;
}

export interface KubeServicesArgs extends EtcdServiceArgs {
  group: 'kube_master' | 'kube_node';
}

function topologyProblem(ctx: ModuleContext): ModuleOutcome | undefined {
  try {
    topologyOf(ctx.inventory);
    return undefined;
  } catch (error) {
    return { changed: false, failed: true, msg: error instanceof OrchestrateError ? error.message : String(error) };
  }
}

const stateSchema = { enum: ['stopped', 'started'] } as const;

export const etcdServiceModule = defineModule({
  id: 'etcd.service',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: { state: stateSchema, wait_seconds: { type: 'number', exclusiveMinimum: 0 } },
    required: ['state'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const problem = topologyProblem(ctx);
    if (problem) return problem;
    const member = etcdMembers(ctx.inventory).find((m) => m.host === ctx.host.name);
    if (!member) return { changed: false, failed: true, msg: `${ctx.host.name} is not an etcd member` };
    const wait = args.wait_seconds ?? 90;
    const command = args.state === 'stopped' ? stopUnitsCommand([member.service], wait) : startEtcdCommand(member.service);
    mustSucceed(yield* exec(command, { timeoutMs: (wait + 30) * 1000 }), `${args.state === 'stopped' ? 'stop' : 'start'} ${member.service}`);
    return { changed: true, result: { name: member.service, state: args.state } };
  },
});

export const kubeServicesModule = defineModule({
  id: 'kube.services',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: { group: { enum: ['kube_master', 'kube_node'] }, state: stateSchema, wait_seconds: { type: 'number', exclusiveMinimum: 0 } },
    required: ['group', 'state'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const problem = topologyProblem(ctx);
    if (problem) return problem;
    if (!(ctx.inventory.groups.get(args.group) ?? []).includes(ctx.host.name)) return { changed: false, skipped: true, msg: `not in ${args.group}` };
    const units = args.group === 'kube_master' ? kubeMasterServices(ctx.host) : kubeNodeServices(ctx.host);
    if (units.length === 0) return { changed: false, msg: `no ${args.group} services listed` };
    const wait = args.wait_seconds ?? 90;
    // Stop in reverse order of start (apiserver last down, first up).
    const command = args.state === 'stopped' ? stopUnitsCommand([...units].reverse(), wait) : startUnitsCommand(units, wait);
    mustSucceed(yield* exec(command, { timeoutMs: (wait + 30) * 1000 }), `${args.state === 'stopped' ? 'stop' : 'start'} ${units.join(', ')}`);
    return { changed: true, result: { names: units, state: args.state } };
  },
});
