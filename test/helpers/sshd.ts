// A throwaway OpenSSH sshd for end-to-end tests (needs root): its own host key, client key and
// config in a temporary folder, listening on a loopback address; stopped by pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SshdOptions {
  /** Default 127.0.101.1. */
  address?: string;
  /** Default: a free port. */
  port?: number;
  /** Omitted: OpenSSH's default (10). */
  maxSessions?: number;
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
  stop(): Promise<void>;
}

export async function startSshd(options: SshdOptions = {}): Promise<SshdFixture> {
  const address = options.address ?? '127.0.101.1';
  const dir = mkdtempSync(join(tmpdir(), 'orchestrate-sshd-'));
  chmodSync(dir, 0o755); // non-root test users must read authorized_keys here
  const hostKeyFile = join(dir, 'host_ed25519_key');
  const clientKeyFile = join(dir, 'client_key');
  keygen(hostKeyFile, 'test-host');
  keygen(clientKeyFile, 'test-client');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyFile}.pub`));
  chmodSync(authorizedKeys, 0o644);

  const port = options.port ?? (await freePort(address));
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
      ...(options.maxSessions !== undefined ? [`MaxSessions ${options.maxSessions}`] : []),
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory

  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('sshd did not start');
  try {
    await waitForPort(address, port, child, () => stderr);
  } catch (error) {
    await stopProcess(child, pid);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

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
    knownHostsLine: `[${address}]:${port} ${hostKeyType} ${hostKeyBase64}`,
    log: () => stderr,
    connectionPids: () => childPids(pid),
    descendantPids: () => descendantPids(pid),
    async stop() {
      for (const descendant of descendantPids(pid)) killQuietly(descendant, 'SIGKILL');
      await stopProcess(child, pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
