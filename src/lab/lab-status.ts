// `lab status`: per host, is its sshd up, which services run (asked of the stand-in systemctl inside the
// host), and etcd's health and leadership over TLS, each check with a short deadline.
import { stat } from 'node:fs/promises';
import { clientUrl, etcdctl, parseEndpointStatus, type MemberEndpointStatus } from './etcdctl.js';
import { hostSystemctl } from './host-exec.js';
import { sshBanner } from './host-start.js';
import { requireRoot } from './lab-error.js';
import { readLabState } from './lab-state.js';
import { labPaths, labSshPort, resolveLabDir } from './paths.js';
import { isSameProcessAlive } from './processes.js';
import { etcdServiceName, kubeServices } from './units.js';

export type ServiceState = 'active' | 'inactive' | 'unknown';

export interface LabHostStatus {
  address: string;
  name: string;
  pid: number;
  /** The host's holder (its sshd) is the process lab up started. */
  running: boolean;
  /** sshd answers with an SSH banner on port 22 of the address. */
  sshd: boolean;
  services: Record<string, ServiceState>;
  etcd: { healthy: boolean; status?: MemberEndpointStatus; error?: string };
}

export interface LabStatusReport {
  dir: string;
  found: boolean;
  phase?: 'creating' | 'up';
  net?: string;
  createdAt?: string;
  inventoryFile?: string;
  hosts: LabHostStatus[];
}

const serviceNames = [etcdServiceName, ...kubeServices];

async function servicesOf(pid: number, running: boolean): Promise<Record<string, ServiceState>> {
  const unknown = Object.fromEntries(serviceNames.map((name) => [name, 'unknown' as ServiceState]));
  if (!running) return unknown;
  const result = await hostSystemctl(pid, ['is-active', ...serviceNames], 10_000).catch(() => undefined);
  if (!result || result.timedOut) return unknown;
  const lines = result.stdout.trim().split('\n');
  return Object.fromEntries(serviceNames.map((name, index) => [name, lines[index] === 'active' ? 'active' : lines[index] === 'inactive' ? 'inactive' : 'unknown']));
}

export async function labStatus(options: { dir: string }): Promise<LabStatusReport> {
  requireRoot('`lab status`');
  const dir = resolveLabDir(options.dir);
  const paths = labPaths(dir);
  const state = (await stat(dir).catch(() => undefined)) ? await readLabState(paths.stateFile) : undefined;
  if (!state) return { dir, found: false, hosts: [] };
  const files = { caFile: paths.caFile, certFile: paths.clientCertFile, keyFile: paths.clientKeyFile };
  const hosts = await Promise.all(
    state.hosts.map(async (host): Promise<LabHostStatus> => {
      const running =
        host.pid !== undefined && host.startTime !== undefined && (await isSameProcessAlive({ pid: host.pid, startTime: host.startTime }));
      const [sshd, services, etcdResult] = await Promise.all([
        running ? sshBanner(host.address, labSshPort, 2_000) : Promise.resolve(false),
        servicesOf(host.pid ?? 0, running),
        etcdctl(files, [clientUrl(host.address)], ['endpoint', 'status', '--write-out=json'], { timeoutMs: 4_000 }),
      ]);
      const status = etcdResult.code === 0 ? parseEndpointStatus(etcdResult.stdout) : undefined;
      const error = status ? undefined : etcdResult.timedOut ? 'no answer within 4 s' : (etcdResult.stderr.trim().split('\n').at(-1) ?? 'no status');
      return {
        address: host.address,
        name: host.name,
        pid: host.pid ?? 0,
        running,
        sshd,
        services,
        etcd: { healthy: status !== undefined, ...(status ? { status } : {}), ...(error ? { error } : {}) },
      };
    }),
  );
  return { dir, found: true, phase: state.phase, net: state.net, createdAt: state.createdAt, inventoryFile: paths.inventoryFile, hosts };
}
