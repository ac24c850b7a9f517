// Runs an etcd tool on the deploy host: argv only (no shell), a deadline, an abort signal, output capped,
// and an environment without the operator's ETCD_* / ETCDCTL_* variables (etcd reads every flag from the
// environment too: an ETCD_PEER_CERT_FILE meant for production must not reach a throwaway member).
import { spawn } from 'node:child_process';

export interface ProgramResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

const OUTPUT_CAP = 256 * 1024;

/** The process environment minus etcd's own variables, plus `extra`. */
export function etcdFreeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^ETCD(CTL)?_/.test(name)) env[name] = value;
  return { ...env, ...extra };
}

export function runLocalProgram(
  program: string,
  args: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv },
): Promise<ProgramResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: options.env ?? etcdFreeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const append = (current: string, chunk: string) => (current.length < OUTPUT_CAP ? current + chunk : current);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout = append(stdout, chunk)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = append(stderr, chunk)));
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      resolve({ code, signal, stdout, stderr, timedOut, durationMs: Date.now() - started });
    });
  });
}

/** The last lines of a tool's output, for an error message. */
export function outputTail(result: ProgramResult, lines = 6): string {
  const text = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-lines).join(' | ');
  return text || (result.timedOut ? 'no output before the deadline' : `exit ${result.code ?? result.signal ?? '?'}`);
}
