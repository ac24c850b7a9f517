// Part of the restore preflight: do commands on a host run with the rights a restore needs? A restore
// stops and starts etcd and the Kubernetes units and renames dirs beside the data dir, which needs root:
// a root login, or a non-root login with `ansible_become: true` (the transport then wraps every command in
// `sudo -n`). Stopping a unit cannot be tried without doing it, so "root in effect" is what is checked,
// plus write access to each data dir's parent (a read-only mount fails even root).
import { shellQuote } from '../../shell/quote.js';
import type { ExecResult } from '../../transport/types.js';

export interface LoginAccessResult {
  /** Who the commands ran as (root under become), when the probe ran. */
  effectiveUser?: string;
  problems: string[];
}

const marker = 'orchestrate-access';

/** One line `orchestrate-access <uid> <user>`, then `yes` or `no` per dir, in order (dirs never appear in the output). */
export function loginAccessCommand(dirs: readonly string[]): string {
  return [
    `printf '${marker} %s %s\\n' "$(id -u)" "$(id -un)"`,
    ...dirs.map((dir) => `if [ -d ${shellQuote(dir)} ] && [ -w ${shellQuote(dir)} ]; then echo yes; else echo no; fi`),
  ].join('; ');
}

export type AccessProbe = Pick<ExecResult, 'exitCode' | 'stdout' | 'stderr' | 'timedOut'>;

/** What the probe's output means for a restore, as problems naming the user and the fix. */
export function judgeLoginAccess(probe: AccessProbe, login: { user: string; become: boolean }, dirs: readonly string[]): LoginAccessResult {
  const lines = probe.stdout.split('\n');
  const head = lines.findIndex((line) => line.startsWith(`${marker} `));
  const viaSudo = login.become && login.user !== 'root';
  if (head < 0) {
    const why = probe.timedOut ? 'timed out' : probe.stderr.trim() || `exit ${probe.exitCode ?? 'by a signal'}`;
    const fix = viaSudo
      ? `become needs passwordless sudo for ${login.user} (a NOPASSWD rule in sudoers), or log in as root`
      : 'check that the login user has a working shell';
    return { problems: [`commands cannot run as ${login.user}${viaSudo ? ' through sudo -n (ansible_become)' : ''}: ${why}; ${fix}`] };
  }
  const [, uid = '', effectiveUser = '?'] = (lines[head] ?? '').split(' ');
  const problems: string[] = [];
  const answers = lines.slice(head + 1);
  const unwritable = dirs.filter((_, i) => answers[i]?.trim() !== 'yes');
  if (uid !== '0') {
    const blocked = unwritable.length > 0 ? `, and cannot write ${unwritable.join(', ')}` : '';
    const fix = viaSudo
      ? `sudo for ${login.user} must give root (sudo -n id -u prints 0)`
      : `set ansible_become: true for this host (${login.user} needs passwordless sudo) or log in as root`;
    problems.push(
      `commands run as ${effectiveUser} (uid ${uid}), not root: a restore stops and starts etcd and the Kubernetes units and swaps the data dir${blocked}; ${fix}`,
    );
  } else if (unwritable.length > 0) {
    problems.push(
      `${unwritable.join(', ')} ${unwritable.length === 1 ? 'is' : 'are'} missing or not writable even by root (a read-only mount?); the restore creates and renames dirs there`,
    );
  }
  return { effectiveUser, problems };
}
