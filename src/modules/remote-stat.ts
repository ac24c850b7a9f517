// One read-only `stat` of a remote path, parsed; shared by file, copy and stat.
import { shellJoin } from '../shell/quote.js';
import type { Step } from './step.js';
import { check } from './plan-steps.js';

export interface RemoteStat {
  exists: boolean;
  /** `directory`, `file`, `link`, `other`. */
  type?: 'directory' | 'file' | 'link' | 'other';
  mode?: number;
  size?: number;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  mtime?: number;
}

/** GNU stat: raw mode in hex, permission bits in octal, size, ids, names, mtime. */
const statFormat = '%f %a %s %u %g %U %G %Y';

export function statCommand(path: string, follow = false): string {
  return shellJoin(['stat', ...(follow ? ['-L'] : []), '-c', statFormat, '--', path]);
}

/**
 * Stat a path. Returns undefined when the check was not run (dry-run with deferred arguments),
 * or an error message when stat failed for another reason than a missing file.
 */
export async function* statRemote(path: string, follow = false): AsyncGenerator<Step, RemoteStat | string | undefined, unknown> {
  const result = yield* check(statCommand(path, follow));
  if (!result) return undefined;
  if (result.exitCode !== 0) {
    if (/No such file|Not a directory/i.test(result.stderr)) return { exists: false };
    return `cannot stat ${path}: ${result.stderr.trim() || `exit code ${String(result.exitCode)}`}`;
  }
  return parseStat(result.stdout);
}

export function parseStat(stdout: string): RemoteStat {
  const [rawHex = '0', perm = '0', size = '0', uid = '0', gid = '0', owner = '', group = '', mtime = '0'] = stdout.trim().split(/\s+/);
  const raw = Number.parseInt(rawHex, 16);
  const kind = raw & 0o170000;
  const type = kind === 0o040000 ? 'directory' : kind === 0o100000 ? 'file' : kind === 0o120000 ? 'link' : 'other';
  return {
    exists: true,
    type,
    mode: Number.parseInt(perm, 8),
    size: Number(size),
    uid: Number(uid),
    gid: Number(gid),
    owner,
    group,
    mtime: Number(mtime),
  };
}
