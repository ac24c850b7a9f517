// The shell commands that touch a member's data dirs. Each is idempotent, so a re-run after an
// interruption can send it again: it looks at what is on disk and does only what is left.
// Nothing here deletes a data dir that etcd ever ran on; only our own scratch (the snapshot copy,
// a restored dir that was never moved into place) is removed.
import { shellQuote } from '../../shell/quote.js';
import { restoreCommandLine, type RestoreTool } from './identity.js';
import type { EtcdMember } from '../../config/types.js';
import type { MemberRestorePaths, SwapPaths } from './paths.js';

const q = shellQuote;

/** Restore into the new dir (removing a half-written one from an interrupted attempt), owned like the old data dir, mode 0700. */
export function restoreIntoNewDirCommand(
  member: EtcdMember,
  members: readonly EtcdMember[],
  paths: MemberRestorePaths,
  tool: RestoreTool,
  options: { skipHashCheck: boolean; bumpRevision?: number },
): string {
  const restore = restoreCommandLine(member, members, {
    tool,
    snapshotPath: paths.snapshotCopy,
    targetDir: paths.newDir,
    skipHashCheck: options.skipHashCheck,
    ...(paths.wal ? { walDir: paths.wal.fresh } : {}),
    ...(options.bumpRevision ? { bumpRevision: options.bumpRevision } : {}),
  });
  return [
    `rm -rf ${q(paths.newDir)}${paths.wal ? ` ${q(paths.wal.fresh)}` : ''}`,
    restore,
    ownedLike(paths.dataDir, paths.newDir),
    `chmod 700 ${q(paths.newDir)}`,
    ...(paths.wal ? [ownedLike(paths.wal.dir, paths.wal.fresh), `chmod 700 ${q(paths.wal.fresh)}`] : []),
  ].join(' && ');
}

/** The restored files take the owner of the old ones (etcd may run as another user than the login). */
function ownedLike(reference: string, target: string): string {
  return `if [ -e ${q(reference)} ]; then chown -R --reference=${q(reference)} ${q(target)}; fi`;
}

/** Unpack a dir restored on the deploy host (second mode) into the new dir, then drop the archive. */
export function unpackNewDirCommand(paths: MemberRestorePaths): string {
  return [
    `rm -rf ${q(paths.newDir)}`,
    `mkdir -m 700 ${q(paths.newDir)}`,
    `tar -xf ${q(paths.uploadArchive)} -C ${q(paths.newDir)}`,
    ownedLike(paths.dataDir, paths.newDir),
    `rm -f ${q(paths.uploadArchive)}`,
  ].join(' && ');
}

/**
 * The swap of one thing: its live path aside (timestamped, kept), the fresh one in. Both renames run in one
 * remote shell, so the window without it is two rename(2) calls; if the run dies between them the journal
 * holds the paths and this same command, sent again, finishes the job.
 * Prints `swapped`, `swapped-no-old-data` or `already-swapped`.
 */
function swapScript(paths: SwapPaths, hadOldData: boolean): string[] {
  const live = q(paths.live);
  const aside = q(paths.aside);
  const fresh = q(paths.fresh);
  const already = hadOldData ? `[ -e ${live} ] && [ -e ${aside} ]` : `[ -e ${live} ]`;
  return [
    `if [ -e ${fresh} ]; then`,
    `  if [ -e ${live} ]; then`,
    `    if [ -e ${aside} ]; then echo ${q(`${paths.aside} already exists; refusing to overwrite it`)} >&2; exit 3; fi`,
    `    mv ${live} ${aside} && mv ${fresh} ${live} && echo swapped`,
    `  else`,
    `    mv ${fresh} ${live} && echo ${hadOldData ? 'swapped' : 'swapped-no-old-data'}`,
    `  fi`,
    `elif ${already}; then echo already-swapped`,
    `else echo ${q(`restored ${paths.fresh} is missing and the swap was not done`)} >&2; exit 3`,
    `fi || exit 3`,
  ];
}

/** Entries of a mount-point WAL dir, but not our own folders in it. */
function walEntries(dir: string): string {
  const d = q(dir);
  return `for f in ${d}/* ${d}/.[!.]*; do case "$f" in ${d}/.orchestrate-*|${d}/.before-restore-*|${d}/.rolled-back-*) continue ;; esac; [ -e "$f" ] || continue`;
}

/** A WAL dir that is a mount point: its entries go aside into a folder inside it, the restored ones come in. */
function swapContentsScript(wal: SwapPaths): string[] {
  const [aside, fresh] = [q(wal.aside), q(wal.fresh)];
  return [
    `if [ -d ${fresh} ]; then`,
    `  mkdir -p ${aside} && ${walEntries(wal.live)}; mv "$f" ${aside}/ || exit 3; done`,
    `  for f in ${fresh}/* ${fresh}/.[!.]*; do [ -e "$f" ] || continue; mv "$f" ${q(wal.live)}/ || exit 3; done; rmdir ${fresh} && echo swapped`,
    `elif [ -d ${aside} ]; then echo already-swapped`,
    `else echo ${q(`restored ${wal.fresh} is missing and the swap was not done`)} >&2; exit 3`,
    `fi || exit 3`,
  ];
}

/** The member's swap: its data (and a WAL kept apart). Prints the data's outcome first. */
export function swapCommand(paths: MemberRestorePaths, hadOldData: boolean): string {
  const lines = swapScript(paths.data, hadOldData);
  if (paths.wal) lines.push(...(paths.wal.mode === 'rename' ? swapScript(paths.wal, hadOldData) : swapContentsScript(paths.wal)));
  return lines.join('\n');
}

/**
 * Undo a swap: restored data aside under `rolled-back-<run>`, old data back in place. If the swap never
 * happened the old data is still in place and only our scratch is removed.
 * Prints `reverted`, `not-swapped` or `already-reverted`.
 */
function revertScript(paths: SwapPaths, hadOldData: boolean): string[] {
  const [live, aside, rolled, fresh] = [q(paths.live), q(paths.aside), q(paths.rolledBack), q(paths.fresh)];
  const lines = [
    `if [ -e ${aside} ]; then`,
    `  if [ -e ${live} ]; then`,
    `    if [ -e ${rolled} ]; then echo ${q(`${paths.rolledBack} already exists; refusing to overwrite it`)} >&2; exit 3; fi`,
    `    mv ${live} ${rolled} || exit 3`,
    `  fi`,
    `  mv ${aside} ${live} && echo reverted`,
  ];
  if (hadOldData) {
    lines.push(`elif [ -e ${rolled} ]; then echo already-reverted`, `elif [ -e ${live} ]; then echo not-swapped`);
  } else {
    // The member had no data before: the restored data goes aside and the member is as it was.
    lines.push(
      `elif [ -e ${rolled} ]; then echo already-reverted`,
      `elif [ -e ${live} ] && [ ! -e ${fresh} ]; then mv ${live} ${rolled} && echo reverted`,
      `elif [ -e ${fresh} ]; then echo not-swapped`,
    );
  }
  lines.push(`else echo ${q(`neither ${paths.live} nor ${paths.aside} exists`)} >&2; exit 3`, `fi || exit 3`);
  return lines;
}

/** A mount-point WAL dir: the restored entries aside into `.rolled-back-<run>`, the old ones back. */
function revertContentsScript(wal: SwapPaths): string[] {
  const [aside, rolled] = [q(wal.aside), q(wal.rolledBack)];
  return [
    `if [ -d ${aside} ]; then`,
    `  mkdir -p ${rolled} && ${walEntries(wal.live)}; mv "$f" ${rolled}/ || exit 3; done`,
    `  for f in ${aside}/* ${aside}/.[!.]*; do [ -e "$f" ] || continue; mv "$f" ${q(wal.live)}/ || exit 3; done; rmdir ${aside} && echo reverted`,
    `else echo not-swapped`,
    `fi || exit 3`,
  ];
}

export function revertSwapCommand(paths: MemberRestorePaths, hadOldData: boolean): string {
  const lines = revertScript(paths.data, hadOldData);
  if (paths.wal) lines.push(...(paths.wal.mode === 'rename' ? revertScript(paths.wal, hadOldData) : revertContentsScript(paths.wal)));
  const scratch = [paths.newDir, paths.uploadArchive, ...(paths.wal ? [paths.wal.fresh] : [])].map(q).join(' ');
  lines.push(`rm -rf ${scratch}; rm -f ${q(paths.snapshotCopy)}`);
  return lines.join('\n');
}

/** After success only the snapshot copy is scratch (and, inside a mount, the emptied restore folder). */
export function cleanupCommand(paths: MemberRestorePaths): string {
  const emptied = paths.mode === 'inside' ? `; rmdir ${q(paths.newDir)} 2>/dev/null; true` : '';
  return `rm -f ${q(paths.snapshotCopy)}${emptied}`;
}

/** `df -P` in KiB: the 4th field of the 2nd line is what is available to non-root users. */
export function freeDiskCommand(dir: string): string {
  return `df -Pk ${q(dir)}`;
}

export function parseDfAvailableKiB(stdout: string): number | undefined {
  const line = stdout.trim().split('\n')[1];
  const field = line?.trim().split(/\s+/)[3];
  const value = field === undefined ? NaN : Number(field);
  return Number.isFinite(value) ? value : undefined;
}

export function toolCommand(): string {
  return 'command -v etcdutl || command -v etcdctl';
}

export function parseTool(stdout: string): RestoreTool | undefined {
  const found = stdout.trim().split('\n')[0]?.trim() ?? '';
  if (/(^|\/)etcdutl$/.test(found)) return 'etcdutl';
  if (/(^|\/)etcdctl$/.test(found)) return 'etcdctl';
  return undefined;
}

/** `mount` when the dir is a mount point (a dedicated disk: it cannot be renamed), `dir` otherwise. */
export function mountPointCommand(dir: string): string {
  return `if mountpoint -q ${q(dir)} 2>/dev/null || { [ -d ${q(dir)} ] && [ "$(stat -c %d ${q(dir)})" != "$(stat -c %d ${q(`${dir}/..`)})" ]; }; then echo mount; else echo dir; fi`;
}

/** `yes` when etcdutl's restore knows --bump-revision (etcd 3.5.10 and later), `no` otherwise. */
export function bumpRevisionCommand(): string {
  return 'if etcdutl snapshot restore --help 2>&1 | grep -q -- --bump-revision; then echo yes; else echo no; fi';
}

/** On a kubeadm host: whether kubelet is active and crictl answers. */
export function kubeletProbeCommand(): string {
  return 'if systemctl is-active --quiet kubelet; then echo kubelet active; fi; if crictl ps -q >/dev/null 2>&1; then echo crictl ok; fi; true';
}

export function dirExistsCommand(dir: string): string {
  return `if [ -d ${q(dir)} ]; then echo yes; else echo no; fi`;
}
