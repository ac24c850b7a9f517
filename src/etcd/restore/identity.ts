// Per-member identity for `snapshot restore`: each member gets its own --name and peer URL inside one
// shared --initial-cluster and token. Restoring one dir and copying it everywhere is kubeasz's mistake:
// N single-member clusters, N leaders, all with member id 8e9e05c52164694d.
import { posix } from 'node:path';
import type { ConfigProblem } from '../../errors.js';
import type { EtcdMember } from '../../config/types.js';
import { shellJoin } from '../../shell/quote.js';

/** `etcdutl` (3.5+, preferred) or `etcdctl` with ETCDCTL_API=3 (Debian's 3.4 has only this). */
export type RestoreTool = 'etcdutl' | 'etcdctl';

export interface RestoreCommandOptions {
  tool: RestoreTool;
  /** The snapshot file where the command runs (on the member, or on the deploy host). */
  snapshotPath: string;
  /** The new, not yet existing, directory the member's data is restored into. */
  targetDir: string;
  /** Only for a raw `member/snap/db` copy, which has no sha256 trailer. */
  skipHashCheck?: boolean;
  /** A WAL kept apart from the data dir. */
  walDir?: string;
  /** etcd 3.5.10+: raise every revision by this much and mark the old ones compacted, so watchers see a compaction, not time going back. */
  bumpRevision?: number;
}

/** `name1=peer1,name2=peer2,...` in inventory order. */
export function initialClusterFlag(members: readonly EtcdMember[]): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

/** The argv of one member's restore; every member of the cluster is needed for --initial-cluster. */
export function restoreArgv(member: EtcdMember, members: readonly EtcdMember[], options: RestoreCommandOptions): string[] {
  const argv = [
    options.tool,
    'snapshot',
    'restore',
    options.snapshotPath,
    '--name',
    member.name,
    '--initial-cluster',
    initialClusterFlag(members),
    '--initial-cluster-token',
    member.token,
    '--initial-advertise-peer-urls',
    member.peerUrl,
    '--data-dir',
    options.targetDir,
  ];
  if (options.walDir !== undefined) argv.push('--wal-dir', options.walDir);
  if (options.skipHashCheck) argv.push('--skip-hash-check');
  if (options.bumpRevision) argv.push('--bump-revision', String(options.bumpRevision), '--mark-compacted');
  return argv;
}

/** The command line, quoted. etcdctl 3.4 needs ETCDCTL_API=3 (a literal, never a value from the inventory). */
export function restoreCommandLine(member: EtcdMember, members: readonly EtcdMember[], options: RestoreCommandOptions): string {
  const line = shellJoin(restoreArgv(member, members, options));
  return options.tool === 'etcdctl' ? `ETCDCTL_API=3 ${line}` : line;
}

/** The deterministic id etcd gives a member restored with no flags at all (name `default`, http://localhost:2380, token `etcd-cluster`). */
export const DEFAULT_MEMBER_ID = '8e9e05c52164694d';

export interface IdentityCheck {
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** Checks the inventory's etcd identities before anything is touched: unique names and peer URLs, one token, usable data dirs. */
export function checkIdentities(members: readonly EtcdMember[]): IdentityCheck {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const error = (code: string, message: string, hint: string): void => {
    errors.push({ severity: 'error', code, message, hint });
  };
  if (members.length === 0) {
    error('restore.no-etcd-members', 'the inventory has no etcd members', 'list the etcd hosts in the `etcd` group of the inventory');
    return { errors, warnings };
  }
  const duplicates = (key: (m: EtcdMember) => string): Map<string, string[]> => {
    const seen = new Map<string, string[]>();
    for (const m of members) seen.set(key(m), [...(seen.get(key(m)) ?? []), m.host]);
    return new Map([...seen].filter(([, hosts]) => hosts.length > 1));
  };
  for (const [name, hosts] of duplicates((m) => m.name)) {
    error(
      'restore.duplicate-etcd-name',
      `etcd member name "${name}" is used by ${hosts.join(', ')}`,
      'give every etcd host its own NODE_NAME (etcd --name)',
    );
  }
  for (const [url, hosts] of duplicates((m) => m.peerUrl)) {
    error('restore.duplicate-peer-url', `peer URL ${url} is used by ${hosts.join(', ')}`, 'each etcd member needs its own peer URL');
  }
  const tokens = [...new Set(members.map((m) => m.token))];
  if (tokens.length > 1) {
    error(
      'restore.several-tokens',
      `the etcd members disagree on the cluster token (${tokens.join(', ')})`,
      'set one initial cluster token for the whole etcd group',
    );
  }
  for (const m of members) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m.name)) {
      error(
        'restore.bad-etcd-name',
        `${m.host}: etcd member name "${m.name}" cannot be used in --initial-cluster`,
        'use letters, digits, ".", "_" and "-" only',
      );
    }
    if (!/^https?:\/\/[^\s,=]+$/.test(m.peerUrl)) {
      error(
        'restore.bad-peer-url',
        `${m.host}: peer URL "${m.peerUrl}" is not an http(s) URL usable in --initial-cluster`,
        'e.g. https://10.0.0.1:2380',
      );
    }
    const dir = normalizeDataDir(m.dataDir);
    if (!posix.isAbsolute(m.dataDir) || dir === '/') {
      error(
        'restore.bad-data-dir',
        `${m.host}: etcd data dir "${m.dataDir}" must be an absolute path other than / (e.g. /var/lib/etcd)`,
        'set ETCD_DATA_DIR to the data dir the etcd unit uses',
      );
    }
  }
  if (members.length % 2 === 0) {
    warnings.push({
      severity: 'warning',
      code: 'restore.even-member-count',
      message: `${members.length} etcd members: an even count tolerates no more failures than ${members.length - 1}`,
      hint: 'prefer an odd number of members (1, 3, 5, 7)',
    });
  }
  return { errors, warnings };
}

/** `/var/lib/etcd/` and `/var/lib//etcd` both become `/var/lib/etcd`, so sibling names are predictable. */
export function normalizeDataDir(dataDir: string): string {
  const normalized = posix.normalize(dataDir);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}
