// Opening a host's connection: ssh_config read once, the target resolved (ssh-target.ts), then either a
// TCP socket from this machine (opened first, see early-socket.ts) or a channel through the jump hosts
// (jump-hosts.ts), and the handshake with the host key checked and the keys offered.
import type { Duplex } from 'node:stream';
import type { Client as SshClient } from 'ssh2';
import { FileReadError } from '../config/bounded-read.js';
import { loadSshConfig, type SshConfig } from '../config/ssh-config.js';
import { UnreachableError } from '../errors.js';
import { EarlySocket } from './early-socket.js';
import { acceptNewNotice, notifyOnce, writeToStderr, type Notify } from './host-key-policy.js';
import { forwardThrough, sharedJumpHosts, type JumpHostPool, type JumpLease } from './jump-hosts.js';
import { readKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { authAttempts } from './ssh-auth.js';
import { openSshClient, type OpenedClient } from './ssh-handshake.js';
import { localAccount, type SshEndpoint, type SshTarget, type TargetOptions } from './ssh-target.js';
import { loadSsh2, type Ssh2Module } from './ssh2-loader.js';

export interface SshTransportOptions extends TargetOptions {
  /** Channels open at once; more wait in a queue. Default 8 (OpenSSH allows 10 sessions). */
  maxChannels?: number;
  /** Per stream; beyond it the middle of the output is dropped. Default 16 MiB. */
  outputCapBytes?: number;
  /** Deadline for each command a transfer runs (hashing, renaming). Default 30 min. */
  transferTimeoutMs?: number;
  /** ssh-agent socket. Default `SSH_AUTH_SOCK`; an empty string disables the agent. */
  agentSocket?: string;
  /** Like `ssh -F FILE` (`--ssh-config`); `none` reads no ssh_config. Default ~/.ssh/config, then /etc/ssh/ssh_config. */
  sshConfigFile?: string;
  /** ssh_config already read (openTransports reads it once for all hosts). */
  sshConfig?: SshConfig;
  /** Where notices go (a host key policy from configuration, keys recorded). Default: standard error. Give one writer per run. */
  notify?: Notify;
  /** Jump host connections to share. Default: one pool for the whole process. */
  jumpHosts?: JumpHostPool;
}

/** The ssh_config these options ask for; throws a ConfigError for a bad file. */
export function sshConfigFor(options: Pick<SshTransportOptions, 'sshConfig' | 'sshConfigFile'>): Promise<SshConfig> {
  if (options.sshConfig) return Promise.resolve(options.sshConfig);
  const local = localAccount();
  return loadSshConfig({ homeDir: local.homeDir, uid: local.uid, ...(options.sshConfigFile !== undefined ? { file: options.sshConfigFile } : {}) });
}

async function knownHostEntries(endpoint: SshEndpoint): Promise<KnownHostEntry[]> {
  const entries: KnownHostEntry[] = [];
  for (const file of endpoint.knownHostsFiles) {
    try {
      entries.push(...(await readKnownHosts(file)).entries);
    } catch (error) {
      const reason = error instanceof FileReadError ? error.reason : (error as Error).message;
      throw new UnreachableError(endpoint.host, `cannot read known hosts file ${file}: ${reason}`);
    }
  }
  // A key pinned system-wide counts too: with accept-new, a host listed there under another key is refused, not re-recorded.
  for (const file of endpoint.globalKnownHostsFiles ?? []) {
    try {
      entries.push(...(await readKnownHosts(file)).entries);
    } catch {
      // ssh skips a global file it cannot open; so does this (the user's files were read above).
    }
  }
  return entries;
}

/**
 * A socket to hand to ssh2 once the keys and known hosts are read: an early TCP socket, a channel a jump
 * host is forwarding (still being opened meanwhile), or none (ssh2 connects).
 */
interface SocketSource {
  take(): Promise<Duplex | undefined>;
  discard(): void;
}

/** Connects and authenticates to one endpoint over `socket`. */
async function connectEndpoint(
  ssh2: Ssh2Module,
  endpoint: SshEndpoint,
  socket: SocketSource,
  options: SshTransportOptions,
  onClosed: (cause?: Error) => void,
): Promise<OpenedClient> {
  const notify = options.notify ?? writeToStderr;
  let prepared: [Awaited<ReturnType<typeof authAttempts>>, KnownHostEntry[]];
  try {
    const agentSocket = options.agentSocket ?? process.env.SSH_AUTH_SOCK ?? '';
    const auth = await authAttempts(ssh2, {
      host: endpoint.host,
      user: endpoint.user,
      identityFiles: endpoint.identityFiles,
      identitiesOnly: endpoint.identitiesOnly,
      agentSocket,
    });
    prepared = [auth, await knownHostEntries(endpoint)];
  } catch (error) {
    socket.discard();
    throw error;
  }
  const [auth, entries] = prepared;
  const policy = endpoint.hostKeyPolicy;
  const recordFile = endpoint.knownHostsFiles[0];
  if (policy.policy === 'accept-new' && policy.reason !== undefined) notifyOnce(notify, acceptNewNotice(policy.reason, recordFile ?? 'known_hosts'));
  const sock = await socket.take();
  const opened = await openSshClient(
    ssh2,
    {
      endpoint,
      ...(sock ? { sock } : {}),
      connectTimeoutMs: endpoint.connectTimeoutMs,
      keepaliveIntervalMs: endpoint.keepaliveIntervalMs,
      keepaliveCountMax: endpoint.keepaliveCountMax,
      hostKeys: {
        host: endpoint.host,
        address: endpoint.address,
        port: endpoint.port,
        ...(recordFile !== undefined ? { knownHostsFile: recordFile } : {}),
        entries,
        acceptNewHostKeys: policy.policy === 'accept-new',
      },
      auth: auth.attempts,
      skippedKeys: auth.agentOnlyKeys,
    },
    onClosed,
  );
  const recorded = opened.recordedHostKey;
  if (recorded)
    notify(`${endpoint.host}: recorded the new host key of ${recorded.name} (${recorded.keyType} ${recorded.fingerprint}) in ${recorded.file}`);
  return opened;
}

export interface TargetConnection extends OpenedClient {
  /** The share in the last jump host's connection, released when this connection is done. */
  jump?: JumpLease;
}

function earlySource(early: EarlySocket): SocketSource {
  return {
    take: () => Promise.resolve(early.take()),
    discard: () => {
      early.discard();
    },
  };
}

function streamSource(stream: Duplex): SocketSource {
  return {
    take: () => Promise.resolve(stream),
    discard: () => {
      stream.destroy();
    },
  };
}

/** Connects to `target`: directly, or through its jump hosts (one shared connection per jump host). */
export async function connectTarget(target: SshTarget, options: SshTransportOptions, onClosed: (cause?: Error) => void): Promise<TargetConnection> {
  if (target.jumps.length === 0) {
    const early = new EarlySocket(target.address, target.port);
    let ssh2: Ssh2Module;
    try {
      ssh2 = await loadSsh2();
    } catch (error) {
      early.discard();
      throw error;
    }
    return connectEndpoint(ssh2, target, earlySource(early), options, onClosed);
  }
  return connectThroughJumps(target, options, onClosed);
}

/**
 * The jump hosts connect (the first one's TCP connection starts at once) while this host's keys and
 * known hosts are read; the handshake with the host starts when the last jump host's channel is open.
 */
async function connectThroughJumps(target: SshTarget, options: SshTransportOptions, onClosed: (cause?: Error) => void): Promise<TargetConnection> {
  const pool = options.jumpHosts ?? sharedJumpHosts;
  const connectHop = async (hop: SshEndpoint, sock: Duplex | undefined, hopClosed: () => void): Promise<SshClient> => {
    const source = sock ? streamSource(sock) : earlySource(new EarlySocket(hop.address, hop.port));
    return (await connectEndpoint(await loadSsh2(), hop, source, options, hopClosed)).client;
  };
  let jump: JumpLease | undefined;
  const forwarding = (async () => {
    try {
      jump = await pool.acquire(target.jumps, connectHop);
    } catch (error) {
      if (error instanceof UnreachableError) throw new UnreachableError(target.host, error.message, error.hint);
      throw error;
    }
    return forwardThrough(jump, target.host, target.address, target.port, target.connectTimeoutMs);
  })();
  forwarding.catch(() => undefined); // reported through take(), or discarded
  const source: SocketSource = {
    take: () => forwarding,
    discard: () => {
      void forwarding.then(
        (stream) => stream.destroy(),
        () => undefined,
      );
    },
  };
  try {
    const opened = await connectEndpoint(await loadSsh2(), target, source, options, onClosed);
    if (!jump) throw new Error('the jump host lease is missing');
    return { ...opened, jump };
  } catch (error) {
    await forwarding.catch(() => undefined);
    jump?.release();
    throw error;
  }
}
