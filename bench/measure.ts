// What every benchmark measures with: a child process timed from spawn to exit (optionally its peak
// RSS under GNU time), medians, and the row shape bench/run.ts prints.
import { spawn } from 'node:child_process';

export interface BenchRow {
  name: string;
  value: string;
}

export interface Timed {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the child in KiB, when asked for (NaN if GNU time did not say). */
  peakRssKb?: number;
  /** CPU time of the child (user + system, its children included), with `peakRss`. */
  cpuMs?: number;
}

/** Run a program to its end (killed after `timeoutMs`), timing it; with `peakRss`, under /usr/bin/time. */
export function timed(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; peakRss?: boolean } = {},
): Promise<Timed> {
  const [program, argv] = options.peakRss ? ['/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M CPU_S=%U+%S', command, ...args]] : [command, args];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, argv, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const result: Timed = { code, ms: performance.now() - started, stdout, stderr };
      if (options.peakRss) {
        const peak = /PEAK_RSS_KB=(\d+)/.exec(stderr);
        result.peakRssKb = peak ? Number(peak[1]) : Number.NaN;
        const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr);
        result.cpuMs = cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : Number.NaN;
      }
      resolve(result);
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
