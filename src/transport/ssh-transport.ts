// One persistent ssh2 connection per host: commands run on its long-lived shell (remote-shell.ts) or on a
// channel of their own; transfers use one sftp session.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { AnyAuthMethod, AuthenticationType, Client as SshClient, ConnectConfig, SFTPWrapper } from 'ssh2';
import type { ConnectionSpec } from '../config/types.js';
import { TaskFailedError, UnreachableError } from '../errors.js';
import { shellQuote } from '../shell/quote.js';
import { needsSudo, wrapWithSudo } from './become.js';
import { CappedOutput, defaultOutputCapBytes } from './capped-output.js';
import { abortReason, ChannelLimiter } from './channel-limiter.js';
import { FileReadError } from '../config/bounded-read.js';
import { defaultKnownHostsFile, readKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { PidLineReader } from './pid-line-reader.js';
import { RemoteShell } from './remote-shell.js';
import { downloadThroughShell, uploadThroughShell, type ShellFileAccess, type UploadSource } from './shell-transfer.js';
import { authAttempts } from './ssh-auth.js';
import { EarlySocket } from './early-socket.js';
import { describeConnectFailure, type Ssh2Error } from './ssh-connect-failure.js';
import { preferKnownKeyTypes, verifyHostKey, type RecordedHostKey } from './ssh-host-keys.js';
import type { ExecOptions, ExecResult, TransferOptions, TransferResult, Transport } from './types.js';

export type { RecordedHostKey } from './ssh-host-keys.js';

/**
 * ssh2 takes a noticeable part of a second to load: load it on the first connection, so a run that
 * needs no SSH starts faster. Only third-party code is loaded this way; a dynamic import of our own
 * modules would give them a second identity (and break instanceof) under mocha + tsx.
 */
type Ssh2Module = typeof import('ssh2');
let ssh2Loading: Promise<Ssh2Module> | undefined;
function loadSsh2(): Promise<Ssh2Module> {
  // A CommonJS package: its `utils` export is reachable only through the default export.
  ssh2Loading ??= import('ssh2').then((module) => (module as unknown as { default: Ssh2Module }).default);
  return ssh2Loading;
}

export interface SshTransportOptions {
  /** Default `~/.ssh/known_hosts`. */
  knownHostsFile?: string;
  /** Trust and record keys of hosts not in the known hosts file. A changed key is refused regardless. */
  acceptNewHostKeys?: boolean;
  /** TCP connect, handshake and authentication together. Default 10 s. */
  connectTimeoutMs?: number;
  /** Default 5 s; after `keepaliveCountMax` (default 3) unanswered ones the connection counts as lost. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Channels open at once; more wait in a queue. Default 8 (OpenSSH allows 10 sessions). */
  maxChannels?: number;
  /** Per stream; beyond it the middle of the output is dropped. Default 16 MiB. */
  outputCapBytes?: number;
  /** Deadline for each command a transfer runs (hashing, renaming). Default 30 min. */
  transferTimeoutMs?: number;
  /** ssh-agent socket. Default `SSH_AUTH_SOCK`; an empty string disables the agent. */
  agentSocket?: string;
  /** Keys tried when the host has no `ansible_ssh_private_key_file`. Default ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  defaultIdentityFiles?: string[];
}

const closeGraceMs = 2000;
/** How long a timed-out or aborted command may take to end after the kill before it is abandoned. */
const stopBackstopMs = 5000;
/** Retries of a refused channel, with growing pauses (about 15 s in all). */
const maxOpenRetries = 20;

export class SshTransport implements Transport {
  readonly host: string;
  /** Set when this connection recorded a new host key, so the caller can tell the operator. */
  recordedHostKey?: RecordedHostKey;

  private readonly knownHostsFile: string;
  private readonly connectTimeoutMs: number;
  private readonly outputCapBytes: number;
  private readonly transferTimeoutMs: number;
  private readonly channels: ChannelLimiter;
  private client?: SshClient;
  private connecting?: Promise<void>;
  private lost?: UnreachableError;
  private closing = false;
  private readonly onLost = new Set<(error: UnreachableError) => void>();
  private sftpSession?: Promise<SFTPWrapper>;
  /** Transfers using the sftp session now; an unused session gives its channel slot up when asked. */
  private sftpUsers = 0;
  private shell?: RemoteShell;
  private shellOpening?: Promise<void>;
  private shellUnavailable = false;

  constructor(
    readonly spec: ConnectionSpec,
    private readonly options: SshTransportOptions = {},
  ) {
    this.host = spec.host;
    this.knownHostsFile = options.knownHostsFile ?? defaultKnownHostsFile();
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.outputCapBytes = options.outputCapBytes ?? defaultOutputCapBytes;
    this.transferTimeoutMs = options.transferTimeoutMs ?? 30 * 60_000;
    this.channels = new ChannelLimiter(options.maxChannels ?? 8, () => this.yieldIdleChannels());
  }

  connect(): Promise<void> {
    if (this.client && !this.lost) return Promise.resolve();
    this.connecting ??= this.openConnection().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const sudo = needsSudo(this.spec.user, options.become ?? this.spec.become);
    const line = sudo ? wrapWithSudo(command) : `sh -c ${shellQuote(command)}`;
    if (options.signal?.aborted) throw abortReason(options.signal);
    // Most commands run on the host's shell; one with input, or while the shell is busy, gets a channel.
    if (options.stdin === undefined) {
      const shell = await this.idleShell();
      if (shell?.idle) return this.runCommand(this.startOnShell(shell, line), sudo, options);
    }
    for (let attempt = 0; ; attempt += 1) {
      const release = await this.channels.acquire(options.signal);
      try {
        return await this.runCommand(this.startOnChannel(this.requireClient(), line, options), sudo, options);
      } catch (error) {
        if (!(error instanceof ChannelOpenRefusedError) || attempt >= maxOpenRetries) throw error;
        // The server allows fewer sessions than we assumed: keep to the ones it accepted, then retry
        // when a slot frees up.
        if (attempt === 0) this.channels.lowerLimit(this.channels.active - 1);
      } finally {
        release();
      }
      // sshd frees a session only once its process is reaped, a moment after the channel closed.
      try {
        await delay(Math.min(100 * (attempt + 1), 1000), undefined, options.signal ? { signal: options.signal } : undefined);
      } catch {
        throw abortReason(options.signal!);
      }
    }
  }

  upload(source: UploadSource, remotePath: string, options: TransferOptions): Promise<TransferResult> {
    return uploadThroughShell(this.fileAccess(), source, remotePath, {
      mode: options.mode,
      sudo: needsSudo(this.spec.user, options.become ?? this.spec.become),
      ...(options.sha256 !== undefined ? { sha256: options.sha256 } : {}),
    });
  }

  download(remotePath: string, localPath: string, options: TransferOptions): Promise<TransferResult> {
    return downloadThroughShell(this.fileAccess(), remotePath, localPath, {
      mode: options.mode,
      sudo: needsSudo(this.spec.user, options.become ?? this.spec.become),
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

  private where(): string {
    return `${this.spec.address}:${this.spec.port}`;
  }

  private requireClient(): SshClient {
    if (this.lost) throw this.lost;
    if (!this.client) throw new UnreachableError(this.host, 'not connected', 'call connect() before running commands');
    return this.client;
  }

  private async openConnection(): Promise<void> {
    const early = new EarlySocket(this.spec.address, this.spec.port);
    let sock: Socket | undefined;
    let auth: Awaited<ReturnType<typeof authAttempts>>;
    let knownEntries: KnownHostEntry[];
    let Client: Ssh2Module['Client'];
    try {
      const ssh2 = await loadSsh2();
      Client = ssh2.Client;
      auth = await authAttempts(
        this.spec,
        { agentSocket: this.options.agentSocket ?? process.env.SSH_AUTH_SOCK ?? '', defaultIdentityFiles: this.options.defaultIdentityFiles },
        ssh2.utils.parseKey,
      );
      try {
        knownEntries = (await readKnownHosts(this.knownHostsFile)).entries;
      } catch (error) {
        throw new UnreachableError(
          this.host,
          `cannot read known hosts file ${this.knownHostsFile}: ${error instanceof FileReadError ? error.reason : (error as Error).message}`,
        );
      }
      sock = early.take();
    } catch (error) {
      early.discard();
      throw error;
    }
    const tried: string[] = [];
    const errors: Ssh2Error[] = [];
    let hostKeyRefusal: UnreachableError | undefined;
    const client = new Client();

    const config: ConnectConfig = {
      host: this.spec.address,
      port: this.spec.port,
      username: this.spec.user,
      readyTimeout: this.connectTimeoutMs,
      ...(sock ? { sock } : {}),
      keepaliveInterval: this.options.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
      algorithms: { serverHostKey: preferKnownKeyTypes(knownEntries, this.spec.address, this.spec.port) },
      hostVerifier: (key: Buffer, verify: (permitted: boolean) => void) => {
        const check = {
          host: this.host,
          address: this.spec.address,
          port: this.spec.port,
          knownHostsFile: this.knownHostsFile,
          entries: knownEntries,
          acceptNewHostKeys: this.options.acceptNewHostKeys ?? false,
        };
        verifyHostKey(check, key).then(
          (recorded) => {
            if (recorded) this.recordedHostKey = recorded;
            verify(true);
          },
          (error: unknown) => {
            hostKeyRefusal = error instanceof UnreachableError ? error : new UnreachableError(this.host, String(error));
            verify(false);
          },
        );
      },
      authHandler: ((_methodsLeft: AuthenticationType[], _partial: boolean, next: (method: AnyAuthMethod | false) => void) => {
        const attempt = auth.shift();
        if (!attempt) return next(false);
        tried.push(attempt.description);
        next(attempt.method);
      }) as unknown as ConnectConfig['authHandler'],
    };

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(hardDeadline);
        if (error) reject(error);
        else resolve();
      };
      // ssh2 ends every failed attempt with `close`; this is only a backstop should it not.
      const hardDeadline = setTimeout(() => {
        client.destroy();
        settle(new UnreachableError(this.host, `no SSH session with ${this.where()} within ${this.connectTimeoutMs / 1000} s`));
      }, this.connectTimeoutMs + 5000);
      client.on('error', (error: Ssh2Error) => {
        // An unusable agent or key is reported and skipped by ssh2; only the final outcome matters.
        errors.push(error);
      });
      client.once('ready', () => {
        errors.length = 0; // from here on, errors describe a lost connection, not the handshake
        this.client = client;
        this.closing = false;
        this.lost = undefined;
        this.shellUnavailable = false;
        client.on('close', () => this.markLost(errors));
        settle();
        // Started now, the shell is ready by the first task (it takes a session start, ~10 ms).
        void this.idleShell();
      });
      client.once('close', () => {
        if (settled) return;
        settle(hostKeyRefusal ?? describeConnectFailure(this.spec, errors, tried, this.connectTimeoutMs));
      });
      try {
        client.connect(config);
        client.setNoDelay(true); // commands are small request/response exchanges: do not wait for Nagle
      } catch (error) {
        settle(new UnreachableError(this.host, `cannot connect to ${this.where()}: ${(error as Error).message}`));
      }
    });
  }

  private markLost(errors: Ssh2Error[]): void {
    this.sftpSession = undefined;
    if (this.closing) {
      this.lost = new UnreachableError(this.host, 'the connection was closed');
    } else {
      const cause = errors.at(-1)?.message;
      this.lost = new UnreachableError(this.host, `lost the SSH connection to ${this.where()}${cause ? `: ${cause}` : ''}`);
    }
    for (const notify of [...this.onLost]) notify(this.lost);
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
    const session = this.sftpSession;
    if (session && this.sftpUsers === 0) {
      this.sftpSession = undefined; // a transfer starting now opens a new session
      void session.then(
        (sftp) => sftp.end(),
        () => undefined,
      );
    }
  }

  /**
   * One command, started by `start` on a channel of its own or on the shell, with its deadline, abort and
   * kill. The first stdout line of a command's session is the pid of its process group (a channel of its
   * own runs `echo $$; exec sh -c CMD`, the shell printed its pid when it started). OpenSSH refuses the
   * protocol's "signal" request and keeps a closed channel's process running, so a timeout or an abort
   * kills that group through a second channel instead.
   */
  private runCommand(start: (sink: CommandSink) => void, sudo: boolean, options: ExecOptions): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const started = performance.now();
      const stdout = new CappedOutput(this.outputCapBytes);
      const stderr = new CappedOutput(this.outputCapBytes);
      let target: KillTarget | undefined;
      let exitCode: number | null = null;
      let exitSignal: string | undefined;
      let timedOut = false;
      let abortError: unknown;
      let stopping = false;
      let settled = false;
      let deadline: NodeJS.Timeout | undefined;
      let backstop: NodeJS.Timeout | undefined;

      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(backstop);
        options.signal?.removeEventListener('abort', onAbort);
        this.onLost.delete(onConnectionLost);
        if (error !== undefined) return reject(error);
        if (abortError !== undefined) return reject(abortError);
        const result: ExecResult = {
          exitCode,
          stdout: stdout.text(),
          stderr: stderr.text(),
          durationMs: Math.round(performance.now() - started),
        };
        if (exitSignal) result.signal = exitSignal;
        if (timedOut) result.timedOut = true;
        resolve(result);
      };
      const stop = (): void => {
        if (stopping) return;
        stopping = true;
        // Should the kill not end the command, give up on it rather than wait forever.
        backstop = setTimeout(() => {
          target?.abandon();
          finish();
        }, stopBackstopMs);
        if (target) this.killRemote(target, sudo); // else: as soon as it starts
      };
      const onAbort = (): void => {
        abortError = abortReason(options.signal!);
        stop();
      };
      const onConnectionLost = (error: UnreachableError): void => finish(error);

      this.onLost.add(onConnectionLost);
      if (options.signal?.aborted) return finish(abortReason(options.signal));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
        deadline = setTimeout(() => {
          timedOut = true;
          stop();
        }, options.timeoutMs);
      }
      try {
        start({
          started: (killTarget) => {
            target = killTarget;
            if (stopping) this.killRemote(killTarget, sudo);
          },
          stdout: (chunk) => stdout.push(chunk),
          stderr: (chunk) => stderr.push(chunk),
          exited: (code, signalName) => {
            exitCode = code;
            exitSignal = signalName;
          },
          ended: () => finish(this.lost),
          failed: (error) => finish(error),
        });
      } catch (error) {
        finish(this.lost ?? new UnreachableError(this.host, `cannot run a command: ${(error as Error).message}`));
      }
    });
  }

  /** Starts `line` on a session channel of its own. */
  private startOnChannel(client: SshClient, line: string, options: ExecOptions): (sink: CommandSink) => void {
    return (sink) => {
      client.exec(`echo $$; exec ${line}`, (error, opened) => {
        if (error) {
          if (this.lost) return sink.failed(this.lost);
          if (error.message.startsWith('(SSH) Channel open failure')) return sink.failed(new ChannelOpenRefusedError(this.host, error.message));
          return sink.failed(new TaskFailedError(`${this.host}: cannot start the command: ${error.message}`));
        }
        const pidLine = new PidLineReader((chunk) => sink.stdout(chunk));
        opened.on('data', (chunk: Buffer) => pidLine.push(chunk));
        opened.stderr.on('data', (chunk: Buffer) => sink.stderr(chunk));
        opened.on('exit', (code: number | null, signalName?: string) => {
          if (typeof code === 'number') sink.exited(code);
          else if (signalName) sink.exited(null, signalName);
        });
        opened.on('error', () => undefined); // followed by close, which settles
        opened.on('close', () => {
          pidLine.flush();
          sink.ended();
        });
        if (options.stdin !== undefined) opened.end(options.stdin);
        else opened.end();
        sink.started({ pid: pidLine.pid, abandon: () => opened.close() });
      });
    };
  }

  /** Starts `line` on the host's shell. A command stopped there takes the shell with it. */
  private startOnShell(shell: RemoteShell, line: string): (sink: CommandSink) => void {
    return (sink) => {
      shell.run(line, {
        stdout: sink.stdout,
        stderr: sink.stderr,
        exited: sink.exited,
        ended: () => {
          sink.ended();
          this.yieldIdleChannels();
        },
      });
      sink.started({
        pid: shell.pid,
        abandon: () => shell.channel.close(),
        stopping: () => shell.retire(),
      });
    };
  }

  /**
   * TERM the command's process group, KILL it if still there after 2 s; through sudo when it runs as root.
   * On the shell, the group is the shell's: it goes too (retired first, so no next command starts in it).
   */
  private killRemote(target: KillTarget, sudo: boolean): void {
    target.stopping?.();
    void target.pid.then((pid) => {
      if (pid === undefined || this.lost || !this.client) {
        target.abandon();
        return;
      }
      const group = `-${pid}`;
      // `kill -s SIG -- -PGID` is the POSIX form; dash rejects `kill -TERM -- -PGID`.
      const script =
        `kill -s TERM -- ${group} 2>/dev/null || exit 0; i=0; ` +
        `while [ $i -lt 20 ] && kill -s 0 -- ${group} 2>/dev/null; do sleep 0.1; i=$((i+1)); done; ` +
        `kill -s KILL -- ${group} 2>/dev/null; exit 0`;
      // Outside the channel limiter: the slot it would wait for is the one being freed.
      try {
        this.client.exec(sudo ? wrapWithSudo(script) : script, (error, killer) => {
          if (error) {
            target.abandon();
            return;
          }
          killer.resume();
          killer.stderr.resume();
          killer.end();
        });
      } catch {
        target.abandon(); // the connection is going away; its loss settles the command
      }
    });
  }

  private fileAccess(): ShellFileAccess {
    return {
      host: this.host,
      loginUser: this.spec.user,
      run: (command, sudo) => this.exec(command, { become: sudo, timeoutMs: this.transferTimeoutMs }),
      putRaw: (source, farPath) => this.putRaw(source, farPath),
      getRaw: (farPath, localPath) => this.getRaw(farPath, localPath),
    };
  }

  private async putRaw(source: UploadSource, farPath: string): Promise<void> {
    await this.withSftp(
      (sftp) =>
        new Promise<void>((resolve, reject) => {
          const done = (error?: Error | null): void => (error ? reject(this.transferError(`cannot write ${farPath}`, error)) : resolve());
          if ('path' in source) sftp.fastPut(source.path, farPath, { mode: 0o600 }, done);
          else sftp.writeFile(farPath, source.content, { mode: 0o600 }, done);
        }),
    );
  }

  private async getRaw(farPath: string, localPath: string): Promise<void> {
    await this.withSftp(
      (sftp) =>
        new Promise<void>((resolve, reject) => {
          sftp.fastGet(farPath, localPath, { mode: 0o600 }, (error?: Error | null) =>
            error ? reject(this.transferError(`cannot read ${farPath}`, error)) : resolve(),
          );
        }),
    );
  }

  private async withSftp<T>(use: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    this.sftpUsers += 1;
    try {
      return await use(await this.sftp());
    } finally {
      this.sftpUsers -= 1;
      this.yieldIdleChannels();
    }
  }

  private transferError(what: string, error: Error): Error {
    return this.lost ?? new TaskFailedError(`${this.host}: ${what}: ${error.message}`, undefined, 'transfer.failed');
  }

  /** One sftp session, opened on first use and kept; it holds one of the channel slots while open. */
  private sftp(): Promise<SFTPWrapper> {
    if (this.sftpSession) return this.sftpSession;
    const session = (async () => {
      const client = this.requireClient();
      const release = await this.channels.acquire();
      return new Promise<SFTPWrapper>((resolve, reject) => {
        client.sftp((error, sftp) => {
          if (error) {
            release();
            this.sftpSession = undefined;
            return reject(
              this.lost ??
                new TaskFailedError(
                  `${this.host}: cannot start sftp: ${error.message}`,
                  'is the sftp subsystem enabled in sshd_config?',
                  'transfer.failed',
                ),
            );
          }
          sftp.on('close', () => {
            release();
            if (this.sftpSession === session) this.sftpSession = undefined;
          });
          resolve(sftp);
        });
      });
    })();
    this.sftpSession = session;
    return session;
  }
}

/** Where a command's output and end go, whichever way it was started. */
interface CommandSink {
  /** The command runs: a kill goes to this target from now on. */
  started(target: KillTarget): void;
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  exited(code: number | null, signal?: string): void;
  ended(): void;
  failed(error: unknown): void;
}

interface KillTarget {
  /** Process group to kill; undefined when the session printed something else first. */
  pid: Promise<number | undefined>;
  /** Give up on the command without waiting for it any longer. */
  abandon(): void;
  /** Called before the kill is sent. */
  stopping?(): void;
}

/** The server refused to open another session channel (MaxSessions). */
class ChannelOpenRefusedError extends TaskFailedError {
  constructor(host: string, detail: string) {
    super(`${host}: the server refused a new session: ${detail}`, 'sshd limits sessions per connection (MaxSessions)', 'ssh.channel-refused');
  }
}
