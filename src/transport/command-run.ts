// One command's life on an SSH connection: its output (capped), its deadline, an abort, the kill that a
// timeout or an abort sends, and the loss of the connection, settled exactly once.
import { performance } from 'node:perf_hooks';
import { UnreachableError } from '../errors.js';
import { CappedOutput } from './capped-output.js';
import { abortReason } from './channel-limiter.js';
import type { CommandSink, CommandStarter, KillTarget } from './command-sink.js';
import type { ExecOptions, ExecResult } from './types.js';

/** How long a timed-out or aborted command may take to end after the kill before it is abandoned. */
const stopBackstopMs = 5000;

/** What a command run needs from its connection. */
export interface CommandConnection {
  readonly host: string;
  /** Why the connection is gone, while it is. */
  lostReason(): UnreachableError | undefined;
  /** Calls `listener` when the connection is lost; returns the unsubscribe function. */
  onLost(listener: (error: UnreachableError) => void): () => void;
  /** Ends the command's process group (TERM, then KILL), through sudo when it runs as root. */
  kill(target: KillTarget, sudo: boolean): void;
}

export interface CommandRunOptions extends Pick<ExecOptions, 'timeoutMs' | 'signal'> {
  sudo: boolean;
  outputCapBytes: number;
}

/**
 * Runs one command started by `start` and resolves with its result. A timeout or an abort kills its
 * process group through a second channel (OpenSSH refuses the protocol's "signal" request and keeps a
 * closed channel's process running); a lost connection rejects with the UnreachableError.
 */
export function runCommand(connection: CommandConnection, start: CommandStarter, options: CommandRunOptions): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    new CommandRun(connection, options, resolve, reject).start(start);
  });
}

class CommandRun {
  private readonly startedAt = performance.now();
  private readonly stdout: CappedOutput;
  private readonly stderr: CappedOutput;
  private target?: KillTarget;
  private exitCode: number | null = null;
  private exitSignal?: string;
  private timedOut = false;
  private abortError: unknown;
  private stopping = false;
  private settled = false;
  private deadline?: NodeJS.Timeout;
  private backstop?: NodeJS.Timeout;
  private unsubscribeLost: () => void = () => undefined;

  constructor(
    private readonly connection: CommandConnection,
    private readonly options: CommandRunOptions,
    private readonly resolve: (result: ExecResult) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.stdout = new CappedOutput(options.outputCapBytes);
    this.stderr = new CappedOutput(options.outputCapBytes);
  }

  start(start: CommandStarter): void {
    const { signal, timeoutMs } = this.options;
    this.unsubscribeLost = this.connection.onLost((error) => {
      this.finish(error);
    });
    if (signal?.aborted) {
      this.finish(abortReason(signal));
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (timeoutMs !== undefined && timeoutMs > 0) {
      this.deadline = setTimeout(() => {
        this.timedOut = true;
        this.stop();
      }, timeoutMs);
    }
    try {
      start(this.sink());
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.finish(this.connection.lostReason() ?? new UnreachableError(this.connection.host, `cannot run a command: ${reason}`));
    }
  }

  private sink(): CommandSink {
    return {
      started: (target) => {
        this.target = target;
        if (this.stopping) this.connection.kill(target, this.options.sudo);
      },
      stdout: (chunk) => {
        this.stdout.push(chunk);
      },
      stderr: (chunk) => {
        this.stderr.push(chunk);
      },
      exited: (code, signalName) => {
        this.exitCode = code;
        this.exitSignal = signalName;
      },
      ended: () => {
        this.finish(this.connection.lostReason());
      },
      failed: (error) => {
        this.finish(error);
      },
    };
  }

  private readonly onAbort = (): void => {
    if (this.options.signal) this.abortError = abortReason(this.options.signal);
    this.stop();
  };

  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    // Should the kill not end the command, give up on it rather than wait forever.
    this.backstop = setTimeout(() => {
      this.target?.abandon();
      this.finish();
    }, stopBackstopMs);
    if (this.target) this.connection.kill(this.target, this.options.sudo); // else: as soon as it starts
  }

  private finish(error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.deadline);
    clearTimeout(this.backstop);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.unsubscribeLost();
    if (error !== undefined) this.reject(error);
    else if (this.abortError !== undefined) this.reject(this.abortError);
    else this.resolve(this.result());
  }

  private result(): ExecResult {
    const result: ExecResult = {
      exitCode: this.exitCode,
      stdout: this.stdout.text(),
      stderr: this.stderr.text(),
      durationMs: Math.round(performance.now() - this.startedAt),
    };
    if (this.exitSignal) result.signal = this.exitSignal;
    if (this.timedOut) result.timedOut = true;
    return result;
  }
}
