// The etcd binaries a drill runs on the deploy host, found on the PATH: the `etcd` server and a restore
// tool, etcdutl (3.5+) or etcdctl (3.4; 3.6 dropped `snapshot restore` from it), with the flags each
// supports. A missing binary is refused naming the Debian package that provides it.
import { RefusedError } from '../errors.js';
import { findOnPath } from '../util/find-on-path.js';
import { etcdFreeEnv, runLocalProgram } from './local-program.js';

export interface RestoreTool {
  tool: 'etcdutl' | 'etcdctl';
  path: string;
  version: string;
  /** `--bump-revision N --mark-compacted` (etcdutl 3.5.?+). */
  bumpRevision: boolean;
}

export interface EtcdTools {
  etcd: { path: string; version: string };
  restore: RestoreTool;
}

const PROBE_TIMEOUT_MS = 10_000;

/** `3.5.16` from `etcd Version: 3.5.16`, `etcdutl version: 3.5.16`, `etcdctl version: 3.4.23`. */
export function parseVersion(output: string): string | undefined {
  return /version:\s*v?(\d+\.\d+\.\d+)/i.exec(output)?.[1];
}

const minor = (version: string): string => version.split('.').slice(0, 2).join('.');

async function versionOf(path: string, args: string[]): Promise<string | undefined> {
  const result = await runLocalProgram(path, args, { timeoutMs: PROBE_TIMEOUT_MS, env: etcdFreeEnv({ ETCDCTL_API: '3' }) }).catch(() => undefined);
  return result && result.code === 0 ? parseVersion(result.stdout + result.stderr) : undefined;
}

async function restoreHelp(path: string): Promise<string | undefined> {
  const result = await runLocalProgram(path, ['snapshot', 'restore', '--help'], {
    timeoutMs: PROBE_TIMEOUT_MS,
    env: etcdFreeEnv({ ETCDCTL_API: '3' }),
  }).catch(() => undefined);
  const text = result ? result.stdout + result.stderr : '';
  return text.includes('--data-dir') ? text : undefined;
}

async function probeRestoreTool(tool: RestoreTool['tool'], path: string): Promise<RestoreTool | undefined> {
  const [version, help] = await Promise.all([versionOf(path, ['version']), restoreHelp(path)]);
  if (!version || !help) return undefined;
  return { tool, path, version, bumpRevision: help.includes('--bump-revision') && help.includes('--mark-compacted') };
}

function missing(what: string, pkg: string, pathValue: string | undefined, detail: string): RefusedError {
  return new RefusedError(
    `${what} is not on the PATH (${pathValue || 'PATH is empty'}): ${detail}; nothing was started`,
    `install the Debian package ${pkg} (apt-get install ${pkg}), or put etcd's release binaries on the PATH`,
    'drill.missing-tool',
  );
}

/**
 * The binaries to drill with. The restore tool of etcd's own minor version is preferred (a data dir
 * restored by a newer etcdutl may not start on an older etcd), etcdutl before etcdctl.
 */
export async function findEtcdTools(pathValue = process.env.PATH): Promise<EtcdTools> {
  const [servers, utls, ctls] = await Promise.all([
    findOnPath('etcd', pathValue),
    findOnPath('etcdutl', pathValue),
    findOnPath('etcdctl', pathValue),
  ]);
  let etcd: EtcdTools['etcd'] | undefined;
  for (const path of servers) {
    const version = await versionOf(path, ['--version']);
    if (version) {
      etcd = { path, version };
      break;
    }
  }
  if (!etcd) throw missing('the etcd server (etcd)', 'etcd-server', pathValue, 'a drill starts real etcd members on this host');
  const tools: RestoreTool[] = [];
  for (const path of utls) {
    const tool = await probeRestoreTool('etcdutl', path);
    if (tool) tools.push(tool);
  }
  for (const path of ctls) {
    const tool = await probeRestoreTool('etcdctl', path);
    if (tool) tools.push(tool);
  }
  if (tools.length === 0)
    throw missing(
      'no etcdutl or etcdctl that can restore a snapshot',
      'etcd-client',
      pathValue,
      `a drill restores the snapshot with etcdutl (etcd 3.5+) or etcdctl (3.4)${ctls.length > 0 ? `; ${ctls.join(', ')} has no \`snapshot restore\` (etcd 3.6 moved it to etcdutl)` : ''}`,
    );
  const sameMinor = tools.find((t) => minor(t.version) === minor(etcd.version));
  const restore = sameMinor ?? tools[0];
  if (!restore) throw new Error('unreachable: no restore tool');
  return { etcd, restore };
}
