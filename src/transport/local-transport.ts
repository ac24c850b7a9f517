// `delegate_to: localhost` and `ansible_connection: local`: commands run on the deploy host through execa,
// files are copied with the same temporary-name, sha256 and rename steps as over SSH.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { TaskFailedError } from '../errors.js';
import { needsSudo, wrapWithSudo } from './become.js';
import { CappedOutput, defaultOutputCapBytes } from './capped-output.js';
import { abortReason } from './channel-limiter.js';
import { commitLocalFile } from './local-commit.js';
import { sha256File, sha256Hex } from './sha256.js';
import { downloadThroughShell, uploadThroughShell, type ShellFileAccess, type UploadSource } from './shell-transfer.js';
import { tempPathFor } from './temp-path.js';
import type { ExecOptions, ExecResult, TransferOptions, TransferResult, Transport } from './types.js';

export interface LocalTransportOptions {
  /** Per stream; beyond it the middle of the output is dropped. Default 16 MiB. */
  outputCapBytes?: number;
  /** Deadline for each command a sudo transfer runs. Default 30 min. */
  transferTimeoutMs?: number;
  /** The deploy-host user, which decides whether `become` needs sudo. Default: the user running orchestrate. */
  user?: string;
}

/** After SIGTERM, a command has this long before its process group gets SIGKILL. */
const killGraceMs = 2000;

/** Linux's MAX_ARG_STRLEN (32 pages): the longest single argument `sh -c` can be given. */
const maxArgumentBytes = 128 * 1024;

export class LocalTransport implements Transport {
  readonly host: string;
  private readonly become: boolean;
  private readonly user: string;
  private readonly outputCapBytes: number;
  private readonly transferTimeoutMs: number;

  constructor(spec: { host: string; become?: boolean } = { host: 'localhost' }, options: LocalTransportOptions = {}) {
    this.host = spec.host;
    this.become = spec.become ?? false;
    this.user = options.user ?? userInfo().username;
    this.outputCapBytes = options.outputCapBytes ?? defaultOutputCapBytes;
    this.transferTimeoutMs = options.transferTimeoutMs ?? 30 * 60_000;
  }

  async connect(): Promise<void> {
    // nothing to open
  }

  async close(): Promise<void> {
    // nothing to close
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const line = needsSudo(this.user, options.become ?? this.become) ? wrapWithSudo(command) : command;
    if (options.signal?.aborted) throw abortReason(options.signal);
    // Linux refuses one argument over 128 KiB (MAX_ARG_STRLEN) with a bare E2BIG; say what to do instead.
    const bytes = Buffer.byteLength(line);
    if (bytes > maxArgumentBytes) {
      throw new TaskFailedError(
        `${this.host}: the command is ${(bytes / 1024).toFixed(0)} KiB; one argument on this system holds at most 128 KiB (MAX_ARG_STRLEN), so it cannot run as sh -c; put the script in a file (copy it, then shell: sh FILE)`,
        'put the script in a file (copy it, then shell: sh FILE)',
        'command.too-long',
      );
    }
    const { execa } = await import('execa'); // loaded on first use: it is not needed to start the CLI
    const started = performance.now();
    // Its own process group, so a timeout also kills what the shell started (a pipe held open by a
    // leftover child would otherwise keep the command "running").
    const subprocess = execa('sh', ['-c', line], {
      reject: false,
      buffer: false,
      detached: true,
      stdout: 'pipe',
      stderr: 'pipe',
      ...(options.stdin !== undefined ? { input: options.stdin } : { stdin: 'ignore' as const }),
    });
    const stdout = new CappedOutput(this.outputCapBytes);
    const stderr = new CappedOutput(this.outputCapBytes);
    subprocess.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
    });
    subprocess.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
    });
    const stopper = new GroupStopper(subprocess.pid, options);
    const result = await subprocess;
    stopper.dispose();
    if (stopper.abortError !== undefined) throw stopper.abortError;
    if (result.exitCode === undefined && result.signal === undefined && !stopper.timedOut) {
      throw new TaskFailedError(`${this.host}: cannot run sh: ${result.shortMessage}`);
    }
    const execResult: ExecResult = {
      exitCode: result.exitCode ?? null,
      stdout: stdout.text(),
      stderr: stderr.text(),
      durationMs: Math.round(performance.now() - started),
    };
    if (result.signal) execResult.signal = result.signal;
    if (stopper.timedOut) execResult.timedOut = true;
    return execResult;
  }

  async upload(source: UploadSource, destPath: string, options: TransferOptions): Promise<TransferResult> {
    if (needsSudo(this.user, options.become ?? this.become)) {
      return uploadThroughShell(this.fileAccess(), source, destPath, {
        mode: options.mode,
        sudo: true,
        ...(options.sha256 !== undefined ? { sha256: options.sha256 } : {}),
      });
    }
    return this.copyIntoPlace(source, destPath, options.mode, options.sha256);
  }

  async download(srcPath: string, localPath: string, options: TransferOptions): Promise<TransferResult> {
    if (needsSudo(this.user, options.become ?? this.become)) {
      return downloadThroughShell(this.fileAccess(), srcPath, localPath, { mode: options.mode, sudo: true });
    }
    await mkdir(dirname(localPath), { recursive: true, mode: 0o700 });
    return this.copyIntoPlace({ path: srcPath }, localPath, options.mode);
  }

  /** Hash the source, copy it to a 0600 temporary sibling of `dest`, then verify and rename. */
  private async copyIntoPlace(source: UploadSource, dest: string, mode: number, knownSha256?: string): Promise<TransferResult> {
    const from = 'path' in source ? source.path : '(content)';
    const tmp = tempPathFor(dest);
    let expectedSha256: string;
    try {
      expectedSha256 = knownSha256 ?? ('path' in source ? await sha256File(source.path) : sha256Hex(source.content));
      await writeNewFile(source, tmp);
    } catch (error) {
      await rm(tmp, { force: true });
      throw new TaskFailedError(`${this.host}: cannot copy ${from} to ${dest}: ${(error as Error).message}`, undefined, 'transfer.failed');
    }
    return commitLocalFile(tmp, dest, { expectedSha256, mode, source: `${this.host}:${from}` });
  }

  private fileAccess(): ShellFileAccess {
    return {
      host: this.host,
      loginUser: this.user,
      run: (command, sudo) => this.exec(command, { become: sudo, timeoutMs: this.transferTimeoutMs }),
      putRaw: (source, farPath) => writeNewFile(source, farPath),
      getRaw: (farPath, localPath) => writeNewFile({ path: farPath }, localPath),
    };
  }
}

/** A local command's deadline and abort: SIGTERM to its process group, SIGKILL after a grace period. */
class GroupStopper {
  timedOut = false;
  abortError?: Error;
  private escalation?: NodeJS.Timeout;
  private readonly deadline?: NodeJS.Timeout;

  constructor(
    private readonly pid: number | undefined,
    private readonly options: Pick<ExecOptions, 'timeoutMs' | 'signal'>,
  ) {
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      this.deadline = setTimeout(() => {
        this.timedOut = true;
        this.stop();
      }, options.timeoutMs);
    }
  }

  dispose(): void {
    clearTimeout(this.deadline);
    clearTimeout(this.escalation);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  private readonly onAbort = (): void => {
    if (this.options.signal) this.abortError = abortReason(this.options.signal);
    this.stop();
  };

  private stop(): void {
    if (this.escalation) return;
    this.killGroup('SIGTERM');
    this.escalation = setTimeout(() => {
      this.killGroup('SIGKILL');
    }, killGraceMs);
  }

  private killGroup(signal: NodeJS.Signals): void {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Create `path` (it must not exist yet) with mode 0600 and the source's bytes. */
async function writeNewFile(source: UploadSource, path: string): Promise<void> {
  if ('path' in source) {
    await pipeline(createReadStream(source.path), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } else {
    await writeFile(path, source.content, { flag: 'wx', mode: 0o600 });
  }
}
