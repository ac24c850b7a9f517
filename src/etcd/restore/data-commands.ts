// The shell commands that touch a member's data dirs. Each is idempotent, so a re-run after an
// interruption can send it again: it looks at what is on disk and does only what is left.
// Nothing here deletes a data dir that etcd ever ran on; only our own scratch (the snapshot copy,
// a restored dir that was never moved into place) is removed.
import { shellQuote } from '../../shell/quote.js';
import { restoreCommandLine, type RestoreTool } from './identity.js';
import type { EtcdMember } from '../../config/types.js';
import type { MemberRestorePaths } from './paths.js';

const q = shellQuote;

/** Prints `<sha256>  <path>`; busybox and coreutils both have sha256sum. */
export function sha256Command(path: string): string {
  return `sha256sum ${q(path)}`;
}

export function parseSha256Output(stdout: string): string | undefined {
  const match = /^([0-9a-f]{64})\b/.exec(stdout.trim());
  return match?.[1];
}

/** Restore into the new dir (removing a half-written one from an interrupted attempt), owned like the old data dir, mode 0700. */
export function restoreIntoNewDirCommand(
  member: EtcdMember,
  members: readonly EtcdMember[],
  paths: MemberRestorePaths,
  tool: RestoreTool,
  skipHashCheck: boolean,
): string {
  const restore = restoreCommandLine(member, members, { tool, snapshotPath: paths.snapshotCopy, targetDir: paths.newDir, skipHashCheck });
  return [
    `rm -rf ${q(paths.newDir)}`,
    restore,
    `if [ -e ${q(paths.dataDir)} ]; then chown -R --reference=${q(paths.dataDir)} ${q(paths.newDir)}; fi`,
    `chmod 700 ${q(paths.newDir)}`,
  ].join(' && ');
}

/** Unpack a dir restored on the deploy host (second mode) into the new dir, then drop the archive. */
export function unpackNewDirCommand(paths: MemberRestorePaths): string {
  return [
    `rm -rf ${q(paths.newDir)}`,
    `mkdir -m 700 ${q(paths.newDir)}`,
    `tar -xf ${q(paths.uploadArchive)} -C ${q(paths.newDir)}`,
    `if [ -e ${q(paths.dataDir)} ]; then chown -R --reference=${q(paths.dataDir)} ${q(paths.newDir)}; fi`,
    `rm -f ${q(paths.uploadArchive)}`,
  ].join(' && ');
}

/**
 * The swap: old data aside (timestamped, kept), restored data in. Both renames run in one remote shell,
 * so the window without a data dir is two rename(2) calls; if the run dies between them the journal
 * holds the paths and this same command, sent again, finishes the job.
 * Prints `swapped`, `swapped-no-old-data` or `already-swapped`.
 */
export function swapCommand(paths: MemberRestorePaths, hadOldData: boolean): string {
  const data = q(paths.dataDir);
  const aside = q(paths.asideDir);
  const fresh = q(paths.newDir);
  const already = hadOldData ? `[ -e ${data} ] && [ -e ${aside} ]` : `[ -e ${data} ]`;
  return [
    `if [ -e ${fresh} ]; then`,
    `  if [ -e ${data} ]; then`,
    `    if [ -e ${aside} ]; then echo ${q(`${paths.asideDir} already exists; refusing to overwrite it`)} >&2; exit 3; fi`,
    `    mv ${data} ${aside} && mv ${fresh} ${data} && echo swapped`,
    `  else`,
    `    mv ${fresh} ${data} && echo ${hadOldData ? 'swapped' : 'swapped-no-old-data'}`,
    `  fi`,
    `elif ${already}; then echo already-swapped`,
    `else echo ${q(`restored dir ${paths.newDir} is missing and the swap was not done`)} >&2; exit 3`,
    `fi`,
  ].join('\n');
}

/**
 * Undo the swap: restored data aside under `rolled-back-<run>`, old data back in place. If the swap never
 * happened the old data is still in place and only our scratch is removed.
 * Prints `reverted`, `not-swapped` or `already-reverted`.
 */
export function revertSwapCommand(paths: MemberRestorePaths, hadOldData: boolean): string {
  const data = q(paths.dataDir);
  const aside = q(paths.asideDir);
  const rolled = q(paths.restoredAsideDir);
  const scratch = `rm -rf ${q(paths.newDir)} ${q(paths.uploadArchive)}; rm -f ${q(paths.snapshotCopy)}`;
  const lines = [
    `if [ -e ${aside} ]; then`,
    `  if [ -e ${data} ]; then`,
    `    if [ -e ${rolled} ]; then echo ${q(`${paths.restoredAsideDir} already exists; refusing to overwrite it`)} >&2; exit 3; fi`,
    `    mv ${data} ${rolled} || exit 3`,
    `  fi`,
    `  mv ${aside} ${data} && echo reverted`,
  ];
  if (hadOldData) {
    lines.push(`elif [ -e ${rolled} ]; then echo already-reverted`, `elif [ -e ${data} ]; then echo not-swapped`);
  } else {
    // The member had no data dir before: the restored one goes aside and the member is as it was.
    lines.push(
      `elif [ -e ${rolled} ]; then echo already-reverted`,
      `elif [ -e ${data} ] && [ ! -e ${q(paths.newDir)} ]; then mv ${data} ${rolled} && echo reverted`,
      `elif [ -e ${q(paths.newDir)} ]; then echo not-swapped`,
    );
  }
  lines.push(`else echo ${q(`neither ${paths.dataDir} nor ${paths.asideDir} exists`)} >&2; exit 3`, `fi || exit 3`, scratch);
  return lines.join('\n');
}

/** After success only the snapshot copy is scratch. */
export function cleanupCommand(paths: MemberRestorePaths): string {
  return `rm -f ${q(paths.snapshotCopy)}`;
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

export function dirExistsCommand(dir: string): string {
  return `if [ -d ${q(dir)} ]; then echo yes; else echo no; fi`;
}
