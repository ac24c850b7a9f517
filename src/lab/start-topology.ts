// Starting etcd and the Kubernetes stand-ins, the way each topology does:
//   kubeasz: every member's `etcd` unit at once (they need each other for quorum), then the components;
//   kubeadm: kubeadm's order: `init` on the first member (kubelet starts its static pods, etcd alone),
//   then each further member in turn is added to the cluster (`etcdctl member add`) and its kubelet
//   started, its etcd joining with `--initial-cluster-state=existing`, as `kubeadm join --control-plane`.
// Then the seed keys; kube_node-only hosts start their kubelet (and kube-proxy) in parallel, bounded.
import type { BringUpContext } from './bring-up.js';
import { hostConcurrency, mapLimit } from './concurrency.js';
import { waitForHealthyCluster } from './etcd-health.js';
import { clientUrl, etcdctl } from './etcdctl.js';
import { hostSystemctl } from './host-exec.js';
import { LabError } from './lab-error.js';
import { hostRole, labClientFiles, type LabHostState } from './lab-state.js';
import { labSeedKeys, seedLabData } from './seed-data.js';
import { etcdServiceName, kubeNodeServices, kubeServices } from './units.js';

const etcdTimeoutMs = 25_000;

async function systemctlInHost(host: LabHostState, args: string[]): Promise<void> {
  const result = await hostSystemctl(host.pid ?? 0, args);
  if (result.code !== 0) {
    throw new LabError(`host ${host.address}: systemctl ${args.join(' ')} exited with ${result.code ?? result.signal}: ${result.stderr.trim()}`);
  }
}

function byRole(context: BringUpContext, role: 'member' | 'node'): LabHostState[] {
  return context.state.hosts.filter((host) => hostRole(host) === role);
}

async function seed(context: BringUpContext): Promise<void> {
  const names = [...byRole(context, 'member'), ...byRole(context, 'node')].map((host) => host.inventoryName ?? host.address);
  const first = byRole(context, 'member')[0];
  await seedLabData(labClientFiles(context.state), first?.address ?? '', labSeedKeys(names));
}

export async function startKubeaszHosts(context: BringUpContext): Promise<void> {
  const members = byRole(context, 'member');
  const files = labClientFiles(context.state);
  context.progress('starting etcd on every member at once (they need each other for quorum)');
  await Promise.all(members.map((host) => systemctlInHost(host, ['enable', '--now', etcdServiceName])));
  await waitForHealthyCluster(files, members, etcdTimeoutMs);
  context.progress('starting the Kubernetes stand-ins and seeding /registry keys');
  await Promise.all([
    ...members.map((host) => systemctlInHost(host, ['enable', '--now', ...kubeServices])),
    mapLimit(byRole(context, 'node'), hostConcurrency, (host) => systemctlInHost(host, ['enable', '--now', ...kubeNodeServices])),
    seed(context),
  ]);
}

export async function startKubeadmHosts(context: BringUpContext): Promise<void> {
  const members = byRole(context, 'member');
  const files = labClientFiles(context.state);
  for (const [index, host] of members.entries()) {
    if (index === 0) {
      context.progress(`kubeadm init on ${host.inventoryName ?? host.address}: kubelet starts the static pods, etcd alone`);
    } else {
      context.progress(`kubeadm join --control-plane on ${host.inventoryName ?? host.address}: member add, then kubelet`);
      const peerUrl = `https://${host.address}:2380`;
      const endpoints = members.slice(0, index).map((member) => clientUrl(member.address));
      const added = await etcdctl(files, endpoints, ['member', 'add', host.name, `--peer-urls=${peerUrl}`], { timeoutMs: 15_000 });
      if (added.code !== 0) throw new LabError(`adding etcd member ${host.name} failed: ${added.stderr.trim() || added.stdout.trim()}`);
    }
    await systemctlInHost(host, ['enable', '--now', 'kubelet']);
    await waitForHealthyCluster(files, [host], etcdTimeoutMs, 'kubeadm');
  }
  context.progress('starting kubelet on the other nodes and seeding /registry keys');
  await Promise.all([
    mapLimit(byRole(context, 'node'), hostConcurrency, (host) => systemctlInHost(host, ['enable', '--now', 'kubelet'])),
    seed(context),
  ]);
}
