// Where a restore puts things on a member: everything sits beside the data dir, so one `df` covers it
// and a `mv` between them is a rename on the same filesystem.
import { posix } from 'node:path';
import { normalizeDataDir } from './identity.js';

export interface MemberRestorePaths {
  dataDir: string;
  /** The parent folder: free space is checked here. */
  parentDir: string;
  /** The snapshot copied to the member (0600). */
  snapshotCopy: string;
  /** The restored data, before it is moved into place. */
  newDir: string;
  /** Where the old data dir goes; never deleted. */
  asideDir: string;
  /** Where a rollback puts the restored data it replaces; never deleted either. */
  restoredAsideDir: string;
  /** Archive of the member's restored data dir when it was restored on the deploy host. */
  uploadArchive: string;
}

/** A run id is a UTC timestamp, so the aside dir names sort by time and say when they were made. */
export function newRunId(now: Date = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export function restorePaths(dataDir: string, runId: string): MemberRestorePaths {
  const dir = normalizeDataDir(dataDir);
  return {
    dataDir: dir,
    parentDir: posix.dirname(dir),
    snapshotCopy: `${dir}.restore-${runId}.snapshot.db`,
    newDir: `${dir}.restore-${runId}`,
    asideDir: `${dir}.before-restore-${runId}`,
    restoredAsideDir: `${dir}.rolled-back-${runId}`,
    uploadArchive: `${dir}.restore-${runId}.tar`,
  };
}
