// The commands etcd.snapshot-on-member runs on a member, built only with shellJoin: member names, paths and
// the etcdctl path come from the inventory and never become shell syntax.
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { memberTlsFiles } from '../../config/etcd-vars.js';
import type { EtcdMember } from '../../config/types.js';
import type { MemberClientCerts } from '../../etcd/cluster/observe-over-ssh.js';
import { shellJoin } from '../../shell/quote.js';

/** Every temporary snapshot on a member starts with this (tests and operators look for it). */
export const remoteSnapshotPrefix = 'orchestrate-snapshot-';

/** Copies older than this were left by runs that died (kill -9, a lost connection): the next save removes them. */
export const staleRemoteMinutes = 24 * 60;

/** A new temporary path on the member: beside the data dir by default (same disk, not a tmpfs). */
export function remoteSnapshotPath(member: EtcdMember, remoteDir?: string): string {
  return join(remoteDir ?? dirname(member.dataDir), `${remoteSnapshotPrefix}${randomBytes(6).toString('hex')}.db`);
}

/**
 * Remove stale copies, then `etcdctl snapshot save` with umask 077 (etcdctl 3.4 creates its file 0600, but
 * a wrapper or another version need not, and the file holds every Secret of the cluster) under `timeout`
 * (against a stopped member etcdctl hangs forever). Each command runs in its own `sh -c`, so the umask
 * ends with it.
 *
 * `--foreground` keeps timeout and etcdctl in the command's process group: without it timeout makes a
 * group of its own, so when the run is interrupted and the transport kills the command's group, etcdctl
 * goes on and renames its finished `.part` after the cleanup has run, leaving a full copy on the member.
 */
export function saveOnMemberCommand(
  member: EtcdMember,
  remotePath: string,
  options: { etcdctl?: string; timeoutSeconds: number; certs?: MemberClientCerts },
): string {
  const sweep = shellJoin([
    'find',
    dirname(remotePath),
    '-maxdepth',
    '1',
    '-type',
    'f',
    '-name',
    `${remoteSnapshotPrefix}*`,
    '-mmin',
    `+${staleRemoteMinutes}`,
    '-exec',
    'rm',
    '-f',
    '--',
    '{}',
    '+',
  ]);
  const seconds = options.timeoutSeconds;
  const argv = [
    'timeout',
    '--foreground',
    '-k',
    '5',
    String(seconds),
    options.etcdctl ?? 'etcdctl',
    `--endpoints=${member.clientUrl}`,
    '--dial-timeout=5s',
    `--command-timeout=${seconds}s`,
  ];
  // The member's own client certificate when known (nothing copied to the deploy host), else the inventory's
  // paths as the member sees them (kubeasz keeps its copies in ca_dir).
  const tls = memberTlsFiles(member);
  const certs = options.certs ?? { ca: tls.caFile, cert: tls.certFile, key: tls.keyFile };
  if (certs.ca) argv.push(`--cacert=${certs.ca}`);
  if (certs.cert) argv.push(`--cert=${certs.cert}`);
  if (certs.key) argv.push(`--key=${certs.key}`);
  argv.push('snapshot', 'save', remotePath);
  // An assignment word cannot be quoted, so ETCDCTL_API goes through env(1).
  return `${sweep} 2>/dev/null; umask 077 && ${shellJoin(['env', 'ETCDCTL_API=3', ...argv])}`;
}

/** etcdctl writes `<path>.part` and renames it: both go, whatever happened. */
export function removeOnMemberCommand(remotePath: string): string {
  return shellJoin(['rm', '-f', '--', remotePath, `${remotePath}.part`]);
}
