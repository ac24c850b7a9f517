// Where a restore puts things on a member. A data dir that is an ordinary folder is swapped whole, by
// renames beside it; a data dir that is its own mount point (a dedicated etcd disk) cannot be renamed, so
// the restore writes inside the mount and swaps its `member/` folder instead. Either way every rename
// stays on one filesystem and nothing is deleted. A WAL kept apart (`--wal-dir`) is swapped the same way.
import { posix } from 'node:path';
import { normalizeDataDir } from './identity.js';

/** `rename`: the dir itself is renamed; `inside`: it is a mount point and what is inside it is swapped. */
export type SwapMode = 'rename' | 'inside';

/** One thing the swap moves: the live path, where it goes aside, what replaces it, where a rollback puts that. */
export interface SwapPaths {
  live: string;
  aside: string;
  fresh: string;
  rolledBack: string;
}

export interface MemberRestorePaths {
  dataDir: string;
  /** The parent folder: the snapshot copy goes here. */
  parentDir: string;
  mode: SwapMode;
  /** The snapshot copied to the member (0600). */
  snapshotCopy: string;
  /** The restore's --data-dir: a new dir beside the data dir, or inside it when it is a mount point. */
  newDir: string;
  /** Where the old data goes; never deleted. */
  asideDir: string;
  /** Where a rollback puts the restored data it replaces; never deleted either. */
  restoredAsideDir: string;
  /** The data swap: the data dir itself (rename) or its `member/` folder (inside). */
  data: SwapPaths;
  /** A WAL kept apart from the data dir, and how it is swapped. */
  wal?: SwapPaths & { dir: string; mode: SwapMode };
  /** Archive of the member's restored data dir when it was restored on the deploy host. */
  uploadArchive: string;
}

export interface PathOptions {
  mode?: SwapMode;
  walDir?: string;
  walMode?: SwapMode;
}

/** A run id is a UTC timestamp, so the aside dir names sort by time and say when they were made. */
export function newRunId(now: Date = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export function restorePaths(dataDir: string, runId: string, options: PathOptions = {}): MemberRestorePaths {
  const dir = normalizeDataDir(dataDir);
  const mode = options.mode ?? 'rename';
  const parentDir = posix.dirname(dir);
  const newDir = mode === 'rename' ? `${dir}.restore-${runId}` : `${dir}/.orchestrate-restore-${runId}`;
  const data: SwapPaths =
    mode === 'rename'
      ? { live: dir, aside: `${dir}.before-restore-${runId}`, fresh: newDir, rolledBack: `${dir}.rolled-back-${runId}` }
      : {
          live: `${dir}/member`,
          aside: `${dir}/member.before-restore-${runId}`,
          fresh: `${newDir}/member`,
          rolledBack: `${dir}/member.rolled-back-${runId}`,
        };
  const paths: MemberRestorePaths = {
    dataDir: dir,
    parentDir,
    mode,
    snapshotCopy: `${dir}.restore-${runId}.snapshot.db`,
    newDir,
    asideDir: data.aside,
    restoredAsideDir: data.rolledBack,
    data,
    uploadArchive: `${dir}.restore-${runId}.tar`,
  };
  if (options.walDir !== undefined) {
    const wal = normalizeDataDir(options.walDir);
    const walMode = options.walMode ?? 'rename';
    paths.wal =
      walMode === 'rename'
        ? {
            dir: wal,
            mode: walMode,
            live: wal,
            aside: `${wal}.before-restore-${runId}`,
            fresh: `${wal}.restore-${runId}`,
            rolledBack: `${wal}.rolled-back-${runId}`,
          }
        : {
            dir: wal,
            mode: walMode,
            live: wal,
            aside: `${wal}/.before-restore-${runId}`,
            fresh: `${wal}/.orchestrate-restore-${runId}`,
            rolledBack: `${wal}/.rolled-back-${runId}`,
          };
  }
  return paths;
}
