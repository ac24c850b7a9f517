// Runs a local program with a deadline and collects its output; the lab never goes through a shell here.
import { spawn } from 'node:child_process';
import { LabError } from './lab-error.js';

export interface RunOptions {
  timeoutMs: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A clean environment for helpers (openssl, ssh-keygen, nsenter, etcdctl) so nothing from the caller leaks in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: process.env.HOME ?? '/root', ...extra };
}

/** Run `program args...`; never rejects except when the program cannot be started at all. */
export function runProgram(program: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, {
      env: options.env ?? cleanEnv(),
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new LabError(`${program} is not installed`, 'install it (Debian: etcd-client, openssh-server/-client, openssl, util-linux)', 'lab.missing-program')
          : error,
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, timedOut });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like runProgram, but a non-zero exit or a timeout becomes a LabError naming the command and its stderr. */
export async function runChecked(program: string, args: readonly string[], options: RunOptions & { what: string }): Promise<RunResult> {
  const result = await runProgram(program, args, options);
  if (result.timedOut) throw new LabError(`${options.what}: ${program} did not finish within ${options.timeoutMs} ms`);
  if (result.code !== 0) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n  ');
    throw new LabError(`${options.what}: ${program} exited with ${result.code ?? result.signal}${detail ? `\n  ${detail}` : ''}`);
  }
  return result;
}
