// Large uploads through the OpenSSH client, one `ssh` process per host, the file as its standard input.
// Node's one thread frames and encrypts every byte of an sftp copy (~2.9 s of CPU per GiB here), so a copy
// to several members at once is bound to one core; ssh processes spread it over every core at a tenth of
// the CPU. The client is pinned to exactly what the ssh2 connection checked and used: the host key it
// trusted (a known_hosts file of that one key, strict checking), the same user, address, port, keys and
// agent, no ssh_config (-F /dev/null) and no other authentication. When any of that cannot be expressed
// safely on ssh's command line the copy stays on sftp (see `opensshRoute`).
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskFailedError } from '../errors.js';
import { shellQuote } from '../shell/quote.js';
import { findOnPath } from '../util/find-on-path.js';
import { keyTypeOf } from './known-hosts.js';
import type { SshTarget } from './ssh-target.js';

/** Below this an sftp copy is as quick, and needs no process. */
export const opensshCopyMinBytes = 64 * 1024 * 1024;

/** Everything the ssh process is given, checked; `knownHostsLine` goes into a private file per copy. */
export interface OpensshRoute {
  ssh: string;
  options: string[];
  destination: string;
  knownHostsLine: string;
}

export type RouteChoice = { route: OpensshRoute } | { unusable: string };

/** A value ssh reads from its command line without %-tokens, ~, quotes or spaces changing its meaning. */
const plainValue = /^[\w./@+,:=-]+$/;
/** The alias the pinned key is recorded under, so the known_hosts line does not depend on ssh's host[:port] form. */
const pinnedAlias = 'orchestrate-pinned-host';

/**
 * ORCHESTRATE_BULK_COPY: `auto` (default) sends files of opensshCopyMinBytes or more through ssh, `ssh`
 * every file upload (and says why when one cannot), `sftp` none.
 */
export type BulkCopyMode = 'auto' | 'ssh' | 'sftp';

export function bulkCopyMode(env: NodeJS.ProcessEnv = process.env): BulkCopyMode {
  const value = env.ORCHESTRATE_BULK_COPY;
  return value === 'ssh' || value === 'sftp' ? value : 'auto';
}

let sshBinary: Promise<string | undefined> | undefined;

/** `ssh` on PATH, looked up once. */
export function findSsh(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  sshBinary ??= findOnPath('ssh', env.PATH).then((found) => found[0]);
  return sshBinary;
}

let aesInHardware: boolean | undefined;

/** AES-GCM is the cheapest cipher where the CPU has AES instructions (ssh2 prefers it there too); else ssh's default order. */
function cipherPreference(): string[] {
  if (aesInHardware === undefined) {
    try {
      aesInHardware = /^(flags|Features)\s*:.*\baes\b/m.test(readFileSync('/proc/cpuinfo', 'latin1').slice(0, 1 << 20));
    } catch {
      aesInHardware = false;
    }
  }
  return aesInHardware ? ['-o', 'Ciphers=^aes128-gcm@openssh.com,aes256-gcm@openssh.com'] : [];
}

function hostKeyAlgorithms(keyType: string): string {
  return keyType === 'ssh-rsa' ? 'rsa-sha2-512,rsa-sha2-256,ssh-rsa' : keyType;
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * How to reach `target` with the OpenSSH client as the ssh2 connection did, or why not: jump hosts, a
 * host key not known, or a user, address or key path that ssh would expand (%, ~) or split.
 */
export function opensshRoute(ssh: string | undefined, target: SshTarget, hostKey: Buffer | undefined, agentSocket: string): RouteChoice {
  if (ssh === undefined) return { unusable: 'no ssh client on PATH' };
  if (target.jumps.length > 0) return { unusable: 'the host is reached through jump hosts' };
  if (!hostKey) return { unusable: 'no checked host key to pin' };
  const keyType = keyTypeOf(hostKey);
  const keyFiles = target.identityFiles.map((file) => file.path).filter((path) => existsSync(path));
  const values = [target.user, target.address, ...keyFiles, ...(agentSocket ? [agentSocket] : [])];
  const odd = values.find((value) => !plainValue.test(value) || value.startsWith('-'));
  if (odd !== undefined) return { unusable: `${JSON.stringify(odd)} cannot be passed to ssh as it is` };
  const options = [
    ['BatchMode', 'yes'],
    ['StrictHostKeyChecking', 'yes'],
    ['HostKeyAlias', pinnedAlias],
    ['GlobalKnownHostsFile', '/dev/null'],
    ['CheckHostIP', 'no'],
    ['UpdateHostKeys', 'no'],
    ['HostKeyAlgorithms', hostKeyAlgorithms(keyType)],
    ['PreferredAuthentications', 'publickey'],
    ['PasswordAuthentication', 'no'],
    ['KbdInteractiveAuthentication', 'no'],
    ['HostbasedAuthentication', 'no'],
    ['GSSAPIAuthentication', 'no'],
    ['IdentitiesOnly', target.identitiesOnly ? 'yes' : 'no'],
    ['IdentityAgent', agentSocket || 'none'],
    ...keyFiles.map((path) => ['IdentityFile', path]),
    ['ControlMaster', 'no'],
    ['ControlPath', 'none'],
    ['ForwardAgent', 'no'],
    ['ClearAllForwardings', 'yes'],
    ['Compression', 'no'],
    ['ConnectTimeout', String(seconds(target.connectTimeoutMs))],
    ['ServerAliveInterval', String(seconds(target.keepaliveIntervalMs))],
    ['ServerAliveCountMax', String(target.keepaliveCountMax)],
    ['LogLevel', 'ERROR'],
  ].flatMap(([key, value]) => ['-o', `${key}=${value}`]);
  return {
    route: {
      ssh,
      options: ['-F', '/dev/null', '-T', '-x', '-a', ...options, ...cipherPreference(), '-p', String(target.port), '-l', target.user],
      destination: target.address,
      knownHostsLine: `${pinnedAlias} ${keyType} ${hostKey.toString('base64')}\n`,
    },
  };
}

/**
 * The copy through ssh failed: `connectionFailed` when ssh itself could not do it (connect, authenticate,
 * a broken connection, no client), else the far side's command failed (its message). sftp may still work
 * either way: an ssh that is not OpenSSH's, or a far side it alone cannot handle.
 */
export class OpensshCopyError extends Error {
  constructor(
    message: string,
    readonly connectionFailed: boolean,
  ) {
    super(message);
  }
}

/**
 * Runs ssh under a small shell that ends it when orchestrate ends (even by SIGKILL): the shell waits on
 * a pipe only orchestrate holds open, so no copy outlives the run that started it.
 */
const lifeline =
  'exec 4<&0 0</dev/null; "$@" <&4 4<&- & pid=$!; { read -r _ <&3; kill $pid 2>/dev/null; } & watcher=$!; wait $pid; rc=$?; kill $watcher 2>/dev/null; exit $rc';

const stderrKeep = 4096;

/** Copies the local file to `farPath` (a new file of the login user, mode 0600). */
export async function opensshPut(route: OpensshRoute, host: string, sourcePath: string, farPath: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'orchestrate-ssh-'));
  let fd: number | undefined;
  try {
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, route.knownHostsLine, { mode: 0o600 });
    try {
      fd = openSync(sourcePath, 'r');
    } catch (error) {
      throw new TaskFailedError(`${host}: cannot read the local file ${sourcePath}: ${(error as Error).message}`, undefined, 'transfer.failed');
    }
    // Through sh, as every other command: the login shell may not be a POSIX one.
    const command = `sh -c ${shellQuote(`umask 077 && cat > ${shellQuote(farPath)}`)}`;
    const args = [...route.options, '-o', `UserKnownHostsFile=${knownHosts}`, '--', route.destination, command];
    const { code, stderr } = await runCopy(route.ssh, args, fd);
    if (code === 0) return;
    const said = stderr.trim() || `ssh exited with ${code}`;
    throw new OpensshCopyError(code === 255 ? said : `cannot write ${farPath}: ${said}`, code === 255);
  } finally {
    if (fd !== undefined) closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
}

function runCopy(ssh: string, args: string[], input: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group: a Ctrl-C at the terminal reaches orchestrate, which decides, not the copy.
    const child = spawn('sh', ['-c', lifeline, 'orchestrate-copy', ssh, ...args], { stdio: [input, 'ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-stderrKeep);
    });
    child.once('error', (error) => {
      reject(new OpensshCopyError(`cannot start ssh: ${error.message}`, true));
    });
    child.once('close', (code, signal) => {
      child.stdio[3]?.destroy();
      resolve({ code: code ?? (signal ? 255 : 1), stderr });
    });
  });
}
