// Starts one lab host: a detached holder process that enters a private mount namespace, mounts the host's
// overlay view of / (plus /dev, /proc, /sys and a fresh /run), chroots into it and becomes sshd -D.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { labSshdConfigPath } from './host-files.js';
import { LabError } from './lab-error.js';
import { labSshPort, type LabHostPaths } from './paths.js';
import { isAlive, mountNamespaceOf, processStartTime, waitUntil } from './processes.js';
import { cleanEnv } from './run-program.js';

// Paths arrive as positional parameters, never inside the script text. $5: the host's own hostname (kubeadm
// hosts get a UTS namespace of their own), $6: a network namespace file to bind into the host at
// /run/netns/lab (the bastion reaches the members through it); then the program the holder becomes.
const holderScript = `set -eu
merged=$1 upper=$2 work=$3 name=$4 netns=$5
shift 5
mount -t overlay overlay -o "lowerdir=/,upperdir=$upper,workdir=$work" "$merged"
mount --rbind /dev "$merged/dev"
mount --bind /proc "$merged/proc"
mount --rbind /sys "$merged/sys"
mount -t tmpfs -o mode=0755 tmpfs "$merged/run"
mkdir -m 0755 "$merged/run/sshd"
if [ -n "$name" ]; then hostname "$name"; fi
if [ -n "$netns" ]; then
  mkdir -m 0755 "$merged/run/netns"
  : >"$merged/run/netns/lab"
  mount --bind "$netns" "$merged/run/netns/lab"
fi
exec chroot "$merged" "$@"
`;

export interface StartedHost {
  pid: number;
  startTime: string;
}

export interface HolderOptions {
  /** Set the host's hostname in a UTS namespace of its own (kubeadm hosts). */
  hostname?: string;
  /** Run the host in this network namespace (e.g. /run/netns/orchestrate-lab-...) instead of the deploy host's. */
  netnsPath?: string;
  /** Bind this network namespace into the host at /run/netns/lab (the bastion). */
  bindNetnsPath?: string;
  /** What the holder becomes inside the host; default sshd -D on the host's address. */
  program?: readonly string[];
}

/** Spawns the holder fully detached (own session, stdio to the host's sshd log) and returns its pid at once. */
export async function spawnHostHolder(host: LabHostPaths, options: HolderOptions = {}): Promise<StartedHost> {
  const log = openSync(host.sshdLog, 'a', 0o600);
  try {
    const unshare = ['unshare', '-m', ...(options.hostname ? ['-u'] : []), '--propagation', 'private'];
    const program = options.program ?? ['/usr/sbin/sshd', '-D', '-e', '-f', labSshdConfigPath];
    const argv = [
      ...(options.netnsPath ? ['nsenter', `--net=${options.netnsPath}`, '--'] : []),
      ...unshare,
      'sh',
      '-c',
      holderScript,
      'lab-host',
      host.mergedDir,
      host.upperDir,
      host.workDir,
      options.hostname ?? '',
      options.bindNetnsPath ?? '',
      ...program,
    ];
    const [command = 'unshare', ...args] = argv;
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log], env: cleanEnv() });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', (error) => reject(new LabError(`starting host ${host.address}: ${error.message}`)));
      child.once('spawn', () => (child.pid ? resolvePid(child.pid) : reject(new LabError(`starting host ${host.address}: no pid`))));
    });
    child.unref();
    const startTime = await processStartTime(pid);
    if (startTime === undefined) throw new LabError(`host ${host.address}: the holder process exited at once`, `see ${host.sshdLog}`);
    return { pid, startTime };
  } finally {
    closeSync(log);
  }
}

/** Waits until the holder has its own mount namespace; returns it. */
export async function waitForOwnNamespace(host: LabHostPaths, pid: number, timeoutMs: number): Promise<string> {
  const ours = await mountNamespaceOf('self');
  let namespace: string | undefined;
  const ready = await waitUntil(async () => {
    namespace = await mountNamespaceOf(pid);
    return namespace === undefined || namespace !== ours;
  }, timeoutMs, 10);
  if (!ready || namespace === undefined) throw await hostFailure(host, pid, 'did not enter its own mount namespace');
  return namespace;
}

/** Resolves true when `address:port` answers with an SSH banner. */
export function sshBanner(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolveCheck) => {
    const socket = connect({ host: address, port });
    let received = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolveCheck(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\n')) done(received.startsWith('SSH-2.0-'));
    });
    socket.on('end', () => done(false));
  });
}

/** True when something accepts TCP connections on `address:port`. */
export function portInUse(address: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolveCheck) => {
    const socket = connect({ host: address, port });
    const done = (used: boolean): void => {
      socket.destroy();
      resolveCheck(used);
    };
    socket.setTimeout(timeoutMs, () => done(true));
    socket.on('connect', () => done(true));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code !== 'ECONNREFUSED'));
  });
}

/**
 * True when a socket in `pid`'s network namespace listens on `address:port` (read from /proc/<pid>/net/tcp).
 * Works for hosts in a lab network namespace, which the deploy host cannot connect to.
 */
export async function listensInNamespaceOf(pid: number, address: string, port: number): Promise<boolean> {
  const text = await readFile(`/proc/${pid}/net/tcp`, 'utf8').catch(() => '');
  const octets = address.split('.').map(Number);
  const wanted = `${octets
    .reverse()
    .map((octet) => octet.toString(16).padStart(2, '0'))
    .join('')}:${port.toString(16).padStart(4, '0')}`.toUpperCase();
  return text.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1]?.toUpperCase() === wanted && fields[3] === '0A';
  });
}

/** Waits for sshd: an SSH banner on the address, or (in a lab network namespace) a listening socket. */
export async function waitForSshd(host: LabHostPaths, pid: number, timeoutMs: number, inNamespace = false): Promise<void> {
  // An object, not a let: the check below reads what the callback wrote.
  const holder = { died: false };
  const ready = await waitUntil(async () => {
    if (!(await isAlive(pid))) {
      holder.died = true;
      return true;
    }
    return inNamespace ? listensInNamespaceOf(pid, host.address, labSshPort) : sshBanner(host.address, labSshPort, 1_000);
  }, timeoutMs, 50);
  if (holder.died) throw await hostFailure(host, pid, 'exited before sshd was ready');
  if (!ready) throw await hostFailure(host, pid, `sshd did not answer on ${host.address}:${labSshPort} within ${timeoutMs} ms`);
}

async function hostFailure(host: LabHostPaths, pid: number, what: string): Promise<LabError> {
  const log = await readFile(host.sshdLog, 'utf8').catch(() => '');
  const tail = log.trim().split('\n').slice(-8).join('\n  ');
  return new LabError(`host ${host.address} (pid ${pid}) ${what}${tail ? `:\n  ${tail}` : ''}`, `see ${host.sshdLog}`, 'lab.host-failed');
}
