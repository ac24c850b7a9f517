// `lab status`: per host, is its sshd up, which services run (asked of the stand-in systemctl inside the
// host), its static pod containers (kubeadm, asked of the stand-in crictl), its memory, and etcd's health
// and leadership over TLS, each check with a short deadline.
import { stat } from 'node:fs/promises';
import { clientUrl, etcdctl, parseEndpointStatus, type MemberEndpointStatus } from './etcdctl.js';
import { hostSystemctl, runInHost } from './host-exec.js';
import { listensInNamespaceOf, sshBanner } from './host-start.js';
import { labHostMemory, type HostMemory } from './memory.js';
import { requireRoot } from './lab-error.js';
import type { LabEtcdVersion } from './etcd-versions.js';
import { hostRole, labClientFiles, labEtcdVersion, labTopology, readLabState, type LabHostRole, type LabHostState, type LabState, type LabTopology } from './lab-state.js';
import { labPaths, labSshPort, resolveLabDir } from './paths.js';
import { isSameProcessAlive } from './processes.js';
import { hostConcurrency, mapLimit } from './concurrency.js';
import { etcdServiceName, kubeNodeServices, kubeServices } from './units.js';

export type ServiceState = 'active' | 'inactive' | 'unknown';

export interface LabContainerStatus {
  name: string;
  /** crictl's state: CONTAINER_RUNNING, CONTAINER_EXITED, ... */
  state: string;
  attempt: number;
  id: string;
}

export interface LabHostStatus {
  address: string;
  name: string;
  inventoryName: string;
  role: LabHostRole;
  pid: number;
  /** The host's holder (its sshd) is the process lab up started. */
  running: boolean;
  /** sshd answers with an SSH banner on port 22 of the address. */
  sshd: boolean;
  services: Record<string, ServiceState>;
  /** kubeadm: the newest container of each static pod, as the host's crictl lists it. */
  containers?: LabContainerStatus[];
  /** PSS and RSS of the host's processes. */
  memory?: HostMemory;
  /** Members only; other hosts report { healthy: false, error: 'no etcd on this host' }. */
  etcd: { healthy: boolean; status?: MemberEndpointStatus; error?: string };
}

export interface LabStatusReport {
  dir: string;
  found: boolean;
  phase?: 'creating' | 'up';
  net?: string;
  topology?: LabTopology;
  /** The version the lab was brought up with; each member's running version is in its etcd status. */
  etcdVersion?: LabEtcdVersion;
  createdAt?: string;
  inventoryFile?: string;
  hosts: LabHostStatus[];
}

function serviceNamesOf(state: LabState, host: LabHostState): string[] {
  const role = hostRole(host);
  if (role === 'bastion') return [];
  if (labTopology(state) === 'kubeadm') return ['kubelet'];
  return role === 'member' ? [etcdServiceName, ...kubeServices] : [...kubeNodeServices];
}

async function servicesOf(serviceNames: readonly string[], pid: number, running: boolean): Promise<Record<string, ServiceState>> {
  const unknown = Object.fromEntries(serviceNames.map((name): [string, ServiceState] => [name, 'unknown']));
  if (!running || serviceNames.length === 0) return unknown;
  const result = await hostSystemctl(pid, ['is-active', ...serviceNames], 10_000).catch(() => undefined);
  if (!result || result.timedOut) return unknown;
  const lines = result.stdout.trim().split('\n');
  return Object.fromEntries(serviceNames.map((name, index) => [name, lines[index] === 'active' ? 'active' : lines[index] === 'inactive' ? 'inactive' : 'unknown']));
}

async function containersOf(pid: number): Promise<LabContainerStatus[] | undefined> {
  const result = await runInHost(pid, ['crictl', 'ps', '-a', '-o', 'json'], 10_000).catch(() => undefined);
  if (result?.code !== 0) return undefined;
  const parsed = JSON.parse(result.stdout) as { containers: { id: string; state: string; metadata: { name: string; attempt: number } }[] };
  const newest = new Map<string, LabContainerStatus>();
  // crictl lists the newest first.
  for (const c of parsed.containers) {
    if (!newest.has(c.metadata.name)) newest.set(c.metadata.name, { name: c.metadata.name, state: c.state, attempt: c.metadata.attempt, id: c.id });
  }
  return [...newest.values()].sort((a, b) => a.name.localeCompare(b.name));
}

async function etcdOf(state: LabState, host: LabHostState): Promise<LabHostStatus['etcd']> {
  if (hostRole(host) !== 'member') return { healthy: false, error: 'no etcd on this host' };
  const result = await etcdctl(labClientFiles(state), [clientUrl(host.address)], ['endpoint', 'status', '--write-out=json'], { timeoutMs: 4_000 });
  const status = result.code === 0 ? parseEndpointStatus(result.stdout) : undefined;
  if (status) return { healthy: true, status };
  return { healthy: false, error: result.timedOut ? 'no answer within 4 s' : (result.stderr.trim().split('\n').at(-1) ?? 'no status') };
}

async function hostStatus(state: LabState, host: LabHostState, memory: Map<string, HostMemory>): Promise<LabHostStatus> {
  const running = host.pid !== undefined && host.startTime !== undefined && (await isSameProcessAlive({ pid: host.pid, startTime: host.startTime }));
  const inNamespace = state.netns !== undefined && hostRole(host) !== 'bastion';
  const sshdCheck = (): Promise<boolean> =>
    inNamespace ? listensInNamespaceOf(host.pid ?? 0, host.address, labSshPort) : sshBanner(host.address, labSshPort, 2_000);
  const kubeadmMember = labTopology(state) === 'kubeadm' && hostRole(host) === 'member';
  const [sshd, services, containers, etcd] = await Promise.all([
    running ? sshdCheck() : Promise.resolve(false),
    servicesOf(serviceNamesOf(state, host), host.pid ?? 0, running),
    kubeadmMember && running ? containersOf(host.pid ?? 0) : Promise.resolve(undefined),
    etcdOf(state, host),
  ]);
  const hostMemory = memory.get(host.address);
  return {
    address: host.address,
    name: host.name,
    inventoryName: host.inventoryName ?? host.address,
    role: hostRole(host),
    pid: host.pid ?? 0,
    running,
    sshd,
    services,
    ...(containers ? { containers } : {}),
    ...(hostMemory ? { memory: hostMemory } : {}),
    etcd,
  };
}

export async function labStatus(options: { dir: string }): Promise<LabStatusReport> {
  requireRoot('`lab status`');
  const dir = resolveLabDir(options.dir);
  const paths = labPaths(dir);
  const state = (await stat(dir).catch(() => undefined)) ? await readLabState(paths.stateFile) : undefined;
  if (!state) return { dir, found: false, hosts: [] };
  const memory = await labHostMemory(state);
  const hosts = await mapLimit(state.hosts, hostConcurrency, (host) => hostStatus(state, host, memory));
  return {
    dir,
    found: true,
    phase: state.phase,
    net: state.net,
    topology: labTopology(state),
    etcdVersion: labEtcdVersion(state),
    createdAt: state.createdAt,
    inventoryFile: paths.inventoryFile,
    hosts,
  };
}
