// `lab down`: stops exactly what `lab up` started, by pid, then removes the lab's files.
// Found by: each host's mount namespace (every process started in a host lives there), the holder pid
// recorded in lab.json and the stand-in systemctl's pid files in each upper layer.
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withDirLock } from './dir-lock.js';
import { clientUrl, etcdctl, parseEndpointStatus } from './etcdctl.js';
import { removeLabKnownHosts } from './known-hosts-file.js';
import { LabError, requireRoot } from './lab-error.js';
import { hostRole, labClientFiles, readLabState, type LabHostState, type LabState } from './lab-state.js';
import { deleteLabNetns } from './netns.js';
import { labPaths, resolveLabDir, type LabPaths } from './paths.js';
import { isSameProcessAlive, mountNamespaceOf, processesInMountNamespaces, terminateProcesses } from './processes.js';

export interface LabDownReport {
  dir: string;
  /** False when there was no lab in DIR (nothing was done). */
  found: boolean;
  stoppedPids: number[];
  knownHostsLinesRemoved: number;
  removed: string[];
  /** Files left in DIR that `lab up` did not create (e.g. backups). */
  keptEntries: string[];
}

async function pidFilePids(host: LabHostState): Promise<number[]> {
  const dir = join(host.upperDir, 'var/lib/lab-systemd');
  const names = await readdir(dir).catch(() => [] as string[]);
  const pids = await Promise.all(
    names.filter((name) => name.endsWith('.pid')).map(async (name) => Number((await readFile(join(dir, name), 'utf8').catch(() => '')).trim())),
  );
  return pids.filter((pid) => Number.isInteger(pid) && pid > 1);
}

interface ContainerProcess {
  pid: number;
  /** The container's name in its pod, e.g. etcd. */
  name: string;
}

/**
 * Static pod containers the stand-in kubelet started (kubeadm labs), still running: their shim recorded
 * "pid starttime", so a reused pid is never taken for one. A container with a bind-mounted volume lives in a
 * mount namespace of its own, which the namespace scan does not see; this finds it.
 */
export async function containerProcesses(host: LabHostState): Promise<ContainerProcess[]> {
  const dir = join(host.upperDir, 'var/lib/lab-cri/containers');
  const ids = await readdir(dir).catch(() => [] as string[]);
  const found = await Promise.all(
    ids.map(async (id): Promise<ContainerProcess | undefined> => {
      const [pidText, startTime] = (await readFile(join(dir, id, 'pid'), 'utf8').catch(() => '')).trim().split(' ');
      const name = (await readFile(join(dir, id, 'meta'), 'utf8').catch(() => '')).split('\n')[1] ?? '';
      const pid = Number(pidText);
      if (!Number.isInteger(pid) || pid <= 1 || !startTime) return undefined;
      return (await isSameProcessAlive({ pid, startTime })) ? { pid, name } : undefined;
    }),
  );
  return found.filter((entry): entry is ContainerProcess => entry !== undefined);
}

/** The pid of a host's etcd (its unit's pid file, or its static pod container), when it still runs inside the host. */
async function etcdPid(host: LabHostState): Promise<number | undefined> {
  const fromUnit = Number((await readFile(join(host.upperDir, 'var/lib/lab-systemd/etcd.pid'), 'utf8').catch(() => '')).trim());
  if (Number.isInteger(fromUnit) && fromUnit > 1 && host.mountNamespace !== undefined && (await mountNamespaceOf(fromUnit)) === host.mountNamespace) {
    return fromUnit;
  }
  return (await containerProcesses(host)).find((container) => container.name === 'etcd')?.pid;
}

/**
 * A leader that gets SIGTERM tries to hand leadership to a peer and waits seconds for it when its peers are
 * stopping too; followers first, then the leader, makes `down` take about a second instead of seven.
 */
async function etcdLeaderPid(paths: LabPaths, state: LabState): Promise<number | undefined> {
  const files = labClientFiles(state);
  const leaders = await Promise.all(
    state.hosts.filter((host) => hostRole(host) === 'member').map(async (host) => {
      const pid = await etcdPid(host);
      if (pid === undefined) return undefined;
      const result = await etcdctl(files, [clientUrl(host.address)], ['endpoint', 'status', '--write-out=json'], { timeoutMs: 3_000 });
      return result.code === 0 && parseEndpointStatus(result.stdout)?.isLeader ? pid : undefined;
    }),
  );
  return leaders.find((pid) => pid !== undefined);
}

/** Every live pid that belongs to the lab. */
export async function labProcesses(state: LabState): Promise<number[]> {
  const ours = await mountNamespaceOf('self');
  const namespaces = new Set(state.hosts.map((host) => host.mountNamespace).filter((ns): ns is string => ns !== undefined && ns !== ours));
  const inNamespaces = await processesInMountNamespaces(namespaces);
  const pids = new Set<number>([...inNamespaces.values()].flat());
  for (const host of state.hosts) {
    if (host.pid !== undefined && host.startTime !== undefined && (await isSameProcessAlive({ pid: host.pid, startTime: host.startTime }))) {
      pids.add(host.pid);
    }
    for (const container of await containerProcesses(host)) pids.add(container.pid);
    for (const pid of await pidFilePids(host)) {
      // A pid file may name a reused pid: only a process inside a lab namespace (or, when the host's
      // namespace was never recorded, any namespace but ours) is the lab's.
      const namespace = await mountNamespaceOf(pid);
      if (namespace === undefined) continue;
      if (namespaces.has(namespace) || (host.mountNamespace === undefined && namespace !== ours)) pids.add(pid);
    }
  }
  return [...pids].sort((a, b) => a - b);
}

const generatedEntries = ['hosts', 'logs', 'ssh', 'pki', 'inventory.yml', 'ssh_config', 'known_hosts'];

/** Takes the lab down without locking; `lab up` uses it to clear a half-started lab while it holds the lock. */
export async function takeLabDown(paths: LabPaths, state: LabState): Promise<LabDownReport> {
  const pids = await labProcesses(state);
  const leader = await etcdLeaderPid(paths, state);
  let survivors = [
    ...(await terminateProcesses(pids.filter((pid) => pid !== leader))),
    ...(leader === undefined ? [] : await terminateProcesses([leader])),
  ];
  // A stand-in kubelet may have started a container between the listing and its own end: look again.
  for (let round = 0; round < 3 && survivors.length === 0; round++) {
    const late = await labProcesses(state);
    if (late.length === 0) break;
    pids.push(...late);
    survivors = await terminateProcesses(late);
  }
  if (survivors.length > 0) {
    throw new LabError(
      `lab in ${paths.dir}: processes ${survivors.join(', ')} did not exit after SIGKILL; the lab's files were kept`,
      'check them with `ps -o pid,stat,cmd -p <pid>` (state D means stuck in the kernel) and run `orchestrate lab down` again',
      'lab.stuck-processes',
    );
  }
  if (state.netns) await deleteLabNetns(state.netns);
  const knownHostsLinesRemoved = await removeLabKnownHosts(state.userKnownHostsFile, state.knownHostsTag);
  const removed: string[] = [];
  for (const entry of generatedEntries) {
    const path = join(paths.dir, entry);
    if (await stat(path).catch(() => undefined)) {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    }
  }
  await rm(paths.stateFile, { force: true });
  removed.push(paths.stateFile);
  const keptEntries = (await readdir(paths.dir).catch(() => [] as string[])).filter((name) => name !== '.lab.lock');
  return { dir: paths.dir, found: true, stoppedPids: [...new Set(pids)].sort((a, b) => a - b), knownHostsLinesRemoved, removed, keptEntries };
}

export async function labDown(options: { dir: string }): Promise<LabDownReport> {
  requireRoot('`lab down`');
  const dir = resolveLabDir(options.dir);
  const paths = labPaths(dir);
  const notFound: LabDownReport = { dir, found: false, stoppedPids: [], knownHostsLinesRemoved: 0, removed: [], keptEntries: [] };
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) return notFound;
  const { report, createdDir } = await withDirLock(paths.lockDir, `taking the lab in ${dir} down`, async () => {
    const state = await readLabState(paths.stateFile);
    if (!state) {
      if (await stat(paths.hostsDir).catch(() => undefined)) {
        throw new LabError(
          `${dir} has a hosts/ folder but no lab.json, so the lab's processes cannot be found by pid`,
          `stop them by hand (their mount namespaces differ from yours: see /proc/<pid>/ns/mnt), then remove ${paths.hostsDir}`,
          'lab.no-state',
        );
      }
      return { report: notFound, createdDir: false };
    }
    return { report: await takeLabDown(paths, state), createdDir: state.createdDir };
  });
  // Outside the lock: the lock lives in DIR, which may now be removed when lab up created it and it is empty.
  if (report.found && createdDir && report.keptEntries.length === 0) await rmdir(dir).catch(() => undefined);
  return report;
}
