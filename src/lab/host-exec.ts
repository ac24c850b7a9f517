// Runs a command inside a lab host from the deploy host, without SSH: nsenter joins the host's mount, UTS
// and network namespaces (the latter two are the deploy host's own unless the host has its own hostname or
// lives in the lab's network namespace) and takes its root (the chroot) and working directory from the
// host's holder process.
import { runProgram, cleanEnv, type RunResult } from './run-program.js';

export function runInHost(pid: number, argv: readonly string[], timeoutMs = 30_000, input?: string): Promise<RunResult> {
  return runProgram('nsenter', ['-t', String(pid), '-m', '-u', '-n', '-r', '-w', '--', ...argv], {
    timeoutMs,
    env: cleanEnv(),
    ...(input !== undefined ? { input } : {}),
  });
}

/** The lab's stand-in systemctl inside the host. */
export function hostSystemctl(pid: number, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return runInHost(pid, ['/usr/bin/systemctl', ...args], timeoutMs);
}
