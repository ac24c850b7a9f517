// One persistent ssh2 connection per host: commands run on its long-lived shell (remote-shell.ts) or on a
// channel of their own; transfers use one sftp session (sftp-session.ts).
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client as SshClient } from 'ssh2';
import type { ConnectionSpec } from '../config/types.js';
import { UnreachableError } from '../errors.js';
import { shellQuote } from '../shell/quote.js';
import { needsSudo, wrapWithSudo } from './become.js';
import { defaultOutputCapBytes } from './capped-output.js';
import { abortReason, ChannelLimiter } from './channel-limiter.js';
import { runCommand, type CommandConnection } from './command-run.js';
import type { CommandStarter } from './command-sink.js';
import { ChannelOpenRefusedError, startOnChannel, startOnShell } from './command-start.js';
import { notifyOnce, writeToStderr } from './host-key-policy.js';
import { bulkCopyMode, findSsh, opensshCopyMinBytes, opensshPut, opensshRoute, OpensshCopyError } from './openssh-copy.js';
import { killRemote } from './remote-kill.js';
import { RemoteShell } from './remote-shell.js';
import { SftpSession } from './sftp-session.js';
import { downloadThroughShell, uploadThroughShell, type ShellFileAccess, type UploadSource } from './shell-transfer.js';
import { connectTarget, sshConfigFor, type SshTransportOptions } from './ssh-connect.js';
import type { RecordedHostKey } from './ssh-host-keys.js';
import { defaultConnectTimeoutMs, resolveTarget, type SshTarget } from './ssh-target.js';
import { forwardThrough, type JumpLease } from './jump-hosts.js';
import type { ExecOptions, ExecResult, TransferOptions, TransferResult, Transport } from './types.js';

export type { RecordedHostKey } from './ssh-host-keys.js';
export type { SshTransportOptions } from './ssh-connect.js';

const closeGraceMs = 2000;
/** Retries of a refused channel, with growing pauses (about 15 s in all). */
const maxOpenRetries = 20;

export class SshTransport implements Transport {
  readonly host: string;
  /** Set when this connection recorded a new host key, so the caller can tell the operator. */
  recordedHostKey?: RecordedHostKey;
  /** How the host was reached (after ssh_config and the jump hosts were resolved); set by connect(). */
  target?: SshTarget;
  /** Files uploaded by each route (see putRaw), counted. */
  readonly uploadRoutes = { openssh: 0, sftp: 0 };

  private readonly outputCapBytes: number;
  private readonly transferTimeoutMs: number;
  private readonly channels: ChannelLimiter;
  private readonly sftp: SftpSession;
  private client?: SshClient;
  private jump?: JumpLease;
  private connecting?: Promise<void>;
  private lost?: UnreachableError;
  private closing = false;
  private readonly lostListeners = new Set<(error: UnreachableError) => void>();
  private shell?: RemoteShell;
  private shellOpening?: Promise<void>;
  private shellUnavailable = false;
  /** The host key this connection checked and trusted. */
  private hostKey?: Buffer;
  /** The OpenSSH client failed here once: large copies stay on sftp. */
  private opensshFailed = false;

  constructor(
    readonly spec: ConnectionSpec,
    private readonly options: SshTransportOptions = {},
  ) {
    this.host = spec.host;
    this.outputCapBytes = options.outputCapBytes ?? defaultOutputCapBytes;
    this.transferTimeoutMs = options.transferTimeoutMs ?? 30 * 60_000;
    this.channels = new ChannelLimiter(options.maxChannels ?? 8, () => {
      this.yieldIdleChannels();
    });
    this.sftp = new SftpSession({
      host: this.host,
      channels: this.channels,
      client: () => this.requireClient(),
      lostReason: () => this.lost,
      afterUse: () => {
        this.yieldIdleChannels();
      },
    });
  }

  connect(): Promise<void> {
    if (this.client && !this.lost) return Promise.resolve();
    this.connecting ??= this.openConnection().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** The user commands run as before any sudo: ssh_config's User when the inventory sets none. */
  get loginUser(): string {
    return this.target?.user ?? this.spec.user;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const sudo = needsSudo(this.loginUser, options.become ?? this.spec.become);
    const line = sudo ? wrapWithSudo(command) : `sh -c ${shellQuote(command)}`;
    if (options.signal?.aborted) throw abortReason(options.signal);
    // Most commands run on the host's shell; one with input, or while the shell is busy, gets a channel.
    if (options.stdin === undefined) {
      const shell = await this.idleShell();
      if (shell?.idle)
        return this.run(
          startOnShell(shell, line, () => this.yieldIdleChannels()),
          sudo,
          options,
        );
    }
    return this.execOnChannel(line, sudo, options);
  }

  /**
   * A TCP connection from the host to `address:port` (as the host sees them), carried over this SSH
   * connection (a `direct-tcpip` channel, like `ssh -W`). Fails within `timeoutMs` (default: the connect timeout);
   * `service` names what should listen there, for the message.
   */
  openChannelTo(address: string, port: number, options: { timeoutMs?: number; service?: string } = {}): Promise<Duplex> {
    const client = this.requireClient();
    const target = this.target ?? this.spec;
    const hop = { host: this.host, alias: this.target?.alias ?? this.spec.address, address: target.address, port: target.port };
    const timeoutMs = options.timeoutMs ?? this.target?.connectTimeoutMs ?? defaultConnectTimeoutMs;
    return forwardThrough(
      { client, hop, ...(options.service !== undefined ? { service: options.service } : {}) },
      this.host,
      address,
      port,
      timeoutMs,
    );
  }

  upload(source: UploadSource, remotePath: string, options: TransferOptions): Promise<TransferResult> {
    return uploadThroughShell(this.fileAccess(), source, remotePath, {
      mode: options.mode,
      sudo: needsSudo(this.loginUser, options.become ?? this.spec.become),
      ...(options.sha256 !== undefined ? { sha256: options.sha256 } : {}),
    });
  }

  download(remotePath: string, localPath: string, options: TransferOptions): Promise<TransferResult> {
    return downloadThroughShell(this.fileAccess(), remotePath, localPath, {
      mode: options.mode,
      sudo: needsSudo(this.loginUser, options.become ?? this.spec.become),
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    if (!client || this.lost) return;
    this.closing = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.destroy();
        resolve();
      }, closeGraceMs);
      client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      client.end();
    });
  }

  private requireClient(): SshClient {
    if (this.lost) throw this.lost;
    if (!this.client) throw new UnreachableError(this.host, 'not connected', 'call connect() before running commands');
    return this.client;
  }

  private async openConnection(): Promise<void> {
    const target = resolveTarget(this.spec, await sshConfigFor(this.options), this.options);
    const opened = await connectTarget(target, this.options, (cause) => {
      this.markLost(cause);
    });
    if (opened.recordedHostKey) this.recordedHostKey = opened.recordedHostKey;
    this.hostKey = opened.hostKey;
    this.target = target;
    this.jump = opened.jump;
    this.client = opened.client;
    this.closing = false;
    this.lost = undefined;
    this.shellUnavailable = false;
    // Started now, the shell is ready by the first task (it takes a session start, ~10 ms).
    void this.idleShell();
  }

  private markLost(cause?: Error): void {
    this.sftp.forget();
    const jump = this.jump;
    this.jump = undefined;
    jump?.release();
    if (this.closing) {
      this.lost = new UnreachableError(this.host, 'the connection was closed');
    } else {
      const target = this.target ?? this.spec;
      const through = jump ? ` through ${jump.hop.host}` : '';
      this.lost = new UnreachableError(
        this.host,
        `lost the SSH connection to ${target.address}:${target.port}${through}${cause ? `: ${cause.message}` : ''}`,
      );
    }
    for (const notify of [...this.lostListeners]) notify(this.lost);
  }

  /** A channel of its own, retried while the server refuses more sessions than it allows (MaxSessions). */
  private async execOnChannel(line: string, sudo: boolean, options: ExecOptions): Promise<ExecResult> {
    for (let attempt = 0; ; attempt += 1) {
      const release = await this.channels.acquire(options.signal);
      try {
        const start = startOnChannel({ host: this.host, client: this.requireClient(), line, stdin: options.stdin, lostReason: () => this.lost });
        return await this.run(start, sudo, options);
      } catch (error) {
        if (!(error instanceof ChannelOpenRefusedError) || attempt >= maxOpenRetries) throw error;
        // Keep to the sessions the server accepted, then retry when a slot frees up.
        if (attempt === 0) this.channels.lowerLimit(this.channels.active - 1);
      } finally {
        release();
      }
      // sshd frees a session only once its process is reaped, a moment after the channel closed.
      try {
        await delay(Math.min(100 * (attempt + 1), 1000), undefined, options.signal ? { signal: options.signal } : undefined);
      } catch (error) {
        throw options.signal ? abortReason(options.signal) : error;
      }
    }
  }

  private run(start: CommandStarter, sudo: boolean, options: ExecOptions): Promise<ExecResult> {
    return runCommand(this.commandConnection(), start, {
      sudo,
      outputCapBytes: this.outputCapBytes,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  private commandConnection(): CommandConnection {
    return {
      host: this.host,
      lostReason: () => this.lost,
      onLost: (listener) => {
        this.lostListeners.add(listener);
        return () => this.lostListeners.delete(listener);
      },
      kill: (target, sudo) => {
        killRemote(() => (this.lost ? undefined : this.client), target, sudo);
      },
    };
  }

  /**
   * The shell to run a command on (see remote-shell.ts), or undefined when the command should get a
   * channel of its own: the shell is busy with another command of this host, no channel slot is free
   * for it, or this server cannot give one (then never tried again on this connection). The caller
   * must start its command at once (synchronously) if the shell is `idle`.
   */
  private async idleShell(): Promise<RemoteShell | undefined> {
    if (!this.shell && !this.shellUnavailable) {
      if (!this.shellOpening) {
        const opening = this.openShell();
        this.shellOpening = opening;
        void opening.finally(() => {
          if (this.shellOpening === opening) this.shellOpening = undefined;
        });
      }
      await this.shellOpening;
    }
    return this.shell?.idle ? this.shell : undefined;
  }

  private async openShell(): Promise<void> {
    const release = this.channels.tryAcquire();
    if (!release) return;
    try {
      const shell = await RemoteShell.open(this.requireClient(), (closed) => {
        release();
        if (this.shell === closed) this.shell = undefined;
      });
      if (!shell.closed) this.shell = shell;
    } catch {
      this.shellUnavailable = true;
      release();
    }
  }

  /**
   * Another channel waits for a slot: the shell and the sftp session, kept open between uses, give up
   * theirs when unused (on a server that allows few sessions they would otherwise hold every slot).
   */
  private yieldIdleChannels(): void {
    if (this.channels.waiting === 0) return;
    if (this.shell?.idle) this.shell.retire();
    this.sftp.releaseIfIdle();
  }

  /**
   * Large files go through an OpenSSH client pinned to this connection's host key and keys (see
   * openssh-copy.ts), everything else (and anything ssh cannot do) over this connection's sftp.
   */
  private async putRaw(source: UploadSource, farPath: string, bytes: number): Promise<void> {
    const mode = bulkCopyMode();
    if (mode !== 'sftp' && 'path' in source && this.target && !this.opensshFailed) {
      const notify = this.options.notify ?? writeToStderr;
      const agentSocket = this.options.agentSocket ?? process.env.SSH_AUTH_SOCK ?? '';
      const choice =
        mode === 'ssh' || bytes >= opensshCopyMinBytes ? opensshRoute(await findSsh(), this.target, this.hostKey, agentSocket) : undefined;
      if (choice && 'unusable' in choice && mode === 'ssh') notifyOnce(notify, `${this.host}: copying over sftp, not ssh: ${choice.unusable}`);
      if (choice && 'route' in choice) {
        try {
          await opensshPut(choice.route, this.host, source.path, farPath);
          this.uploadRoutes.openssh += 1;
          return;
        } catch (error) {
          if (!(error instanceof OpensshCopyError)) throw error;
          // A client that cannot connect here will not later either; a far-side failure is sftp's to confirm.
          if (error.connectionFailed) this.opensshFailed = true;
          notify(`${this.host}: the ssh client could not copy ${source.path} (${error.message}); copying over sftp instead`);
        }
      }
    }
    await this.sftp.put(source, farPath);
    if ('path' in source) this.uploadRoutes.sftp += 1;
  }

  private fileAccess(): ShellFileAccess {
    return {
      host: this.host,
      loginUser: this.loginUser,
      run: (command, sudo) => this.exec(command, { become: sudo, timeoutMs: this.transferTimeoutMs }),
      putRaw: (source, farPath, bytes) => this.putRaw(source, farPath, bytes),
      getRaw: (farPath, localPath) => this.sftp.get(farPath, localPath),
    };
  }
}
