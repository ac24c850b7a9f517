// Runs a command inside a lab host from the deploy host, without SSH: nsenter joins the host's mount
// namespace and takes its root (the chroot) and working directory from the host's sshd.
import { runProgram, cleanEnv, type RunResult } from './run-program.js';

export function runInHost(pid: number, argv: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return runProgram('nsenter', ['-t', String(pid), '-m', '-r', '-w', '--', ...argv], { timeoutMs, env: cleanEnv() });
}

/** The lab's stand-in systemctl inside the host. */
export function hostSystemctl(pid: number, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return runInHost(pid, ['/usr/bin/systemctl', ...args], timeoutMs);
}
