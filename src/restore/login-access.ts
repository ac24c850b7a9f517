// Part of the restore preflight: do commands on a host run with the rights a restore needs? A restore
// stops and starts etcd and the Kubernetes units and renames dirs beside the data dir, which needs root:
// a root login, or a non-root login with `ansible_become: true` (the transport then wraps every command in
// `sudo -n`). Stopping a unit cannot be tried without doing it, so "root in effect" is what is checked,
// plus write access to each data dir's parent (a read-only mount fails even root).
import { connectionFor, currentUser } from '../config/connection.js';
import { defineModule, type ModuleOutcome } from '../modules/define.js';
import { asExec, checkStep } from '../modules/helpers.js';
import { shellQuote } from '../shell/quote.js';
import type { ExecResult } from '../transport/types.js';
import type { PlannedAction } from './plan-types.js';

export interface LoginAccessArgs {
  /** Folders the restore creates and renames entries in (each member's data dir parent); none on kube-only hosts. */
  dirs?: string[];
}

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
  const [, uid = '', effectiveUser = '?'] = lines[head]!.split(' ');
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

export const loginAccessModule = defineModule<LoginAccessArgs>({
  id: 'restore.login-access',
  schema: {
    type: 'object',
    properties: { dirs: { type: 'array', items: { type: 'string', minLength: 1 } } },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const dirs = args.dirs ?? [];
    const probe = asExec(yield checkStep(loginAccessCommand(dirs)));
    if (!probe) return { changed: false, result: { problems: [] } };
    const spec = connectionFor(ctx.host);
    // A local connection runs as whoever runs orchestrate, whatever ansible_user says.
    const judged = judgeLoginAccess(probe, { user: spec.local ? currentUser() : spec.user, become: spec.become === true }, dirs);
    const failed = judged.problems.length > 0;
    return { changed: false, failed, ...(failed ? { msg: judged.problems.join('; ') } : {}), result: { ...judged } };
  },
});

/** The check as one action of a restore or rollback phase on a host; `dirs` are the folders that run writes in. */
export function loginAccessAction(title: string, dirs: string[]): PlannedAction {
  return { title, module: loginAccessModule, args: { dirs } };
}

/** `who: problem` lines from the check's outcome on one host (none when it passed or did not run). */
export function loginAccessProblems(outcome: ModuleOutcome | undefined, who: string): string[] {
  return ((outcome?.result as LoginAccessResult | undefined)?.problems ?? []).map((problem) => `${who}: ${problem}`);
}

/** How hosts are named in these lines: `etcd1 (10.0.0.1)` for a member, the host alone otherwise. */
export function hostLabels(members: readonly { name: string; host: string }[]): (host: string) => string {
  const labels = new Map(members.map((m) => [m.host, `${m.name} (${m.host})`]));
  return (host) => labels.get(host) ?? host;
}
