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

/** Retries an etcdctl call that etcd refuses while the cluster settles ("unhealthy cluster", a learner not yet in sync). */
async function retryEtcdctl(context: BringUpContext, endpoints: string[], args: string[], what: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await etcdctl(labClientFiles(context.state), endpoints, args, { timeoutMs: 10_000 });
    if (result.code === 0) return result.stdout;
    if (Date.now() > deadline) throw new LabError(`${what} failed: ${result.stderr.trim().split('\n').at(-1) ?? result.stdout.trim()}`);
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 500));
  }
}

/**
 * kubeadm join --control-plane: the new member is announced to the cluster, then its kubelet starts its
 * etcd. With etcd 3.5 kubeadm adds it as a learner and promotes it once in sync (the cluster keeps its
 * quorum meanwhile); with 3.4 it was a plain voting member.
 */
async function joinMember(context: BringUpContext, host: LabHostState, existing: LabHostState[]): Promise<void> {
  const endpoints = existing.map((member) => clientUrl(member.address));
  const learner = context.etcd.version === '3.5';
  const added = await retryEtcdctl(
    context,
    endpoints,
    ['member', 'add', host.name, `--peer-urls=https://${host.address}:2380`, ...(learner ? ['--learner'] : [])],
    `adding etcd member ${host.name}`,
  );
  await systemctlInHost(host, ['enable', '--now', 'kubelet']);
  if (learner) {
    const id = /Member\s+([0-9a-f]+) added/.exec(added)?.[1];
    if (!id) throw new LabError(`adding etcd member ${host.name}: no member id in "${added.trim()}"`);
    await retryEtcdctl(context, endpoints, ['member', 'promote', id], `promoting etcd learner ${host.name}`);
  }
}

export async function startKubeadmHosts(context: BringUpContext): Promise<void> {
  const members = byRole(context, 'member');
  const files = labClientFiles(context.state);
  for (const [index, host] of members.entries()) {
    const name = host.inventoryName ?? host.address;
    if (index === 0) {
      context.progress(`kubeadm init on ${name}: kubelet starts the static pods, etcd alone`);
      await systemctlInHost(host, ['enable', '--now', 'kubelet']);
    } else {
      context.progress(`kubeadm join --control-plane on ${name}: etcd member add${context.etcd.version === '3.5' ? ' (learner, then promote)' : ''}, kubelet`);
      await joinMember(context, host, members.slice(0, index));
    }
    await waitForHealthyCluster(files, [host], etcdTimeoutMs, 'kubeadm');
  }
  context.progress('starting kubelet on the other nodes and seeding /registry keys');
  await Promise.all([
    mapLimit(byRole(context, 'node'), hostConcurrency, (host) => systemctlInHost(host, ['enable', '--now', 'kubelet'])),
    seed(context),
  ]);
}
