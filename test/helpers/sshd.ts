// A throwaway OpenSSH sshd for end-to-end tests (needs root): its own host key, client key and
// config in a temporary folder, listening on a loopback address; stopped by pid. For jump host tests it
// can run inside a network namespace of the test's own (reachable from here only through a jump host),
// and a jump host can run in inetd mode: a listener here hands each connection to an sshd in that namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SshdOptions {
  /** Default 127.0.101.1. */
  address?: string;
  /** Default: a free port (22 inside a namespace, where every port is free). */
  port?: number;
  /** Omitted: OpenSSH's default (10). */
  maxSessions?: number;
  /** Run inside this network namespace (see createNetns). */
  netns?: Netns;
  /** sshd's LogLevel; DEBUG1 logs each forwarded channel (`server_request_direct_tcpip`). Default INFO. */
  logLevel?: string;
  /** Host key type. Default ed25519. */
  hostKeyType?: string;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
}

/** A network namespace of the test's own, held by a sleeping process; only its loopback is up. */
export interface Netns {
  /** The holder's pid: the namespace is /proc/PID/ns/net. */
  pid: number;
  /** argv prefix that runs a program inside the namespace. */
  enter: string[];
  stop(): Promise<void>;
}

export async function createNetns(): Promise<Netns> {
  const holder = spawn('unshare', ['--net', '--', 'sleep', '3600'], { stdio: 'ignore' });
  const pid = holder.pid;
  if (pid === undefined) throw new Error('unshare did not start');
  const enter = ['nsenter', `--net=/proc/${pid}/ns/net`, '--'];
  const deadline = Date.now() + 5000;
  // unshare execs sleep once the namespace exists; until then /proc/PID/ns/net is the old one.
  while (readlinkQuietly(`/proc/${pid}/ns/net`) === readlinkQuietly('/proc/self/ns/net') && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  execFileSync(enter[0]!, [...enter.slice(1), 'ip', 'link', 'set', 'lo', 'up']);
  return { pid, enter, stop: () => stopProcess(holder, pid) };
}

function readlinkQuietly(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

export interface SshdFixture {
  dir: string;
  address: string;
  port: number;
  pid: number;
  hostKeyFile: string;
  /** The host key blob, as ssh2 hands it to the host verifier. */
  hostPublicKey: Buffer;
  hostKeyType: string;
  /** `ssh-keygen -lf` of the host key: `SHA256:...`. */
  hostFingerprint: string;
  /** Private key (no passphrase) authorized for every user. */
  clientKeyFile: string;
  /** A known_hosts line trusting this server. */
  knownHostsLine: string;
  /** What sshd printed on stderr so far (for failing tests). */
  log(): string;
  /** Pids of the per-connection sshd processes (children of the listener). */
  connectionPids(): number[];
  /** Every process below the listener: connection processes, sessions and the commands they run. */
  descendantPids(): number[];
  /** Also accept this public key (an `ssh-ed25519 AAAA... comment` line). */
  authorize(publicKeyLine: string): void;
  stop(): Promise<void>;
}

interface PreparedSshd {
  dir: string;
  address: string;
  port: number;
  config: string;
  hostKeyFile: string;
  clientKeyFile: string;
  authorizedKeys: string;
}

async function prepareSshd(options: SshdOptions, defaultAddress: string, portFree: boolean): Promise<PreparedSshd> {
  const address = options.address ?? defaultAddress;
  const dir = mkdtempSync(join(tmpdir(), 'orchestrate-sshd-'));
  chmodSync(dir, 0o755); // non-root test users must read authorized_keys here
  const hostKeyFile = join(dir, `host_${options.hostKeyType ?? 'ed25519'}_key`);
  const clientKeyFile = join(dir, 'client_key');
  keygen(hostKeyFile, 'test-host', options.hostKeyType ?? 'ed25519');
  keygen(clientKeyFile, 'test-client');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyFile}.pub`));
  chmodSync(authorizedKeys, 0o644);
  const port = options.port ?? (portFree ? 22 : await freePort(address));
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress ${address}`,
      `Port ${port}`,
      `HostKey ${hostKeyFile}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      `LogLevel ${options.logLevel ?? 'INFO'}`,
      ...(options.maxSessions !== undefined ? [`MaxSessions ${options.maxSessions}`] : []),
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  return { dir, address, port, config, hostKeyFile, clientKeyFile, authorizedKeys };
}

/** The known_hosts name ssh looks up: `[address]:port`, or the bare address on port 22. */
function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function fixtureOf(prepared: PreparedSshd, pid: number, log: () => string, stop: () => Promise<void>): SshdFixture {
  const { dir, address, port, hostKeyFile, clientKeyFile } = prepared;
  const publicLine = readFileSync(`${hostKeyFile}.pub`, 'utf8').trim();
  const [hostKeyType = '', hostKeyBase64 = ''] = publicLine.split(' ');
  const hostFingerprint =
    execFileSync('ssh-keygen', ['-lf', `${hostKeyFile}.pub`])
      .toString()
      .split(' ')[1] ?? '';
  return {
    dir,
    address,
    port,
    pid,
    hostKeyFile,
    hostPublicKey: Buffer.from(hostKeyBase64, 'base64'),
    hostKeyType,
    hostFingerprint,
    clientKeyFile,
    knownHostsLine: `${knownHostsName(address, port)} ${hostKeyType} ${hostKeyBase64}`,
    log,
    connectionPids: () => childPids(pid),
    descendantPids: () => descendantPids(pid),
    authorize: (publicKeyLine: string) => {
      appendFileSync(prepared.authorizedKeys, `${publicKeyLine.trim()}\n`);
    },
    async stop() {
      for (const descendant of descendantPids(pid)) killQuietly(descendant, 'SIGKILL');
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startSshd(options: SshdOptions = {}): Promise<SshdFixture> {
  const prepared = await prepareSshd(options, options.netns ? '127.0.213.2' : '127.0.101.1', options.netns !== undefined);
  const argv = [...(options.netns?.enter ?? []), '/usr/sbin/sshd', '-D', '-e', '-f', prepared.config];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('sshd did not start');
  try {
    // Inside a namespace the port cannot be probed from here: sshd says when it listens.
    if (options.netns) await waitForLog(child, () => stderr, 'Server listening on');
    else await waitForPort(prepared.address, prepared.port, child, () => stderr);
  } catch (error) {
    await stopProcess(child, pid);
    rmSync(prepared.dir, { recursive: true, force: true });
    throw error;
  }
  return fixtureOf(
    prepared,
    pid,
    () => stderr,
    () => stopProcess(child, pid),
  );
}

export interface InetdSshdFixture extends SshdFixture {
  /** SSH connections accepted so far (each one an sshd of its own). */
  connections(): number;
}

/**
 * A jump host: a listener on `address` here whose every connection is served by `sshd -i` started inside
 * `netns` (so what it forwards to is reached inside the namespace). The log holds every session's stderr.
 */
export async function startInetdSshd(options: SshdOptions & { netns: Netns }): Promise<InetdSshdFixture> {
  const prepared = await prepareSshd(options, '127.0.102.1', false);
  let log = '';
  let accepted = 0;
  const sessions = new Set<ChildProcess>();
  // Paused: the bytes on each socket are for the sshd it is handed to, not for this process.
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    accepted += 1;
    const session = spawn(options.netns.enter[0]!, [...options.netns.enter.slice(1), '/usr/sbin/sshd', '-i', '-e', '-f', prepared.config], {
      stdio: [socket, socket, 'pipe'],
    });
    sessions.add(session);
    session.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    session.once('exit', () => {
      sessions.delete(session);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(prepared.port, prepared.address, () => resolve());
  });
  const stop = async (): Promise<void> => {
    await Promise.all([...sessions].flatMap((session) => (session.pid === undefined ? [] : [stopProcess(session, session.pid)])));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    ...fixtureOf(prepared, process.pid, () => log, stop),
    connections: () => accepted,
    connectionPids: () => [...sessions].flatMap((session) => (session.pid === undefined ? [] : [session.pid])),
    descendantPids: () => [],
  };
}

async function waitForLog(child: ChildProcess, log: () => string, text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (log().includes(text)) return;
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`sshd did not start within 10 s: ${log()}`);
}

/** A user that can log in with the fixture's client key and sudo without a password. */
export function createSudoUser(name: string): void {
  removeSudoUser(name);
  execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name]);
  // A `!` password marks the account locked, which sshd refuses without PAM; `*` only disables passwords.
  execFileSync('usermod', ['--password', '*', name]);
  const dropIn = sudoersFile(name);
  writeFileSync(dropIn, `${name} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  execFileSync('visudo', ['-cf', dropIn]);
}

export function removeSudoUser(name: string): void {
  rmSync(sudoersFile(name), { force: true });
  try {
    // --force: a session of this user may still be ending (sshd reaps it a moment later)
    execFileSync('userdel', ['--force', '--remove', name], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

/** Generate a key pair without passphrase; returns the private key path. */
export function keygen(file: string, comment: string, type = 'ed25519'): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', file]);
  return file;
}

function sudoersFile(name: string): string {
  return `/etc/sudoers.d/orchestrate-test-${name.replace(/[^a-z0-9_-]/gi, '')}`;
}

async function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const bound = server.address();
      server.close(() => (typeof bound === 'object' && bound ? resolve(bound.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(address: string, port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on ${address}:${port} within 10 s: ${log()}`);
}

async function stopProcess(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killQuietly(pid, 'SIGTERM');
  const timer = setTimeout(() => killQuietly(pid, 'SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function descendantPids(root: number): number[] {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0 && found.length < 10_000) {
    for (const child of childPids(queue.shift()!)) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // the command name may contain spaces: fields after the closing parenthesis are fixed
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) pids.push(Number(name));
    } catch {
      // process ended meanwhile
    }
  }
  return pids;
}
