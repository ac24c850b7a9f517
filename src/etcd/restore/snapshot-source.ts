// Which snapshot to restore, checked on the deploy host before any host is touched: the structure and
// sha256 trailer verified, its revision, key count and age known.
import { formatAge } from '../backup/format.js';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { backupLocations } from '../backup/locations.js';
import { newestGoodSnapshot } from '../backup/snapshot-inventory.js';
import type { Inventory } from '../../config/types.js';
import { RefusedError } from '../../errors.js';
import { describeProblems, hasSha256Trailer, verifiedFacts, verifySnapshotFile } from '../snapshot-file.js';
import type { JournalSnapshot } from './journal.js';

export interface ChosenSnapshot extends JournalSnapshot {
  /** How the time was found; for a snapshot pulled from backup_remote, `remote copy s3://bucket/key`. */
  takenAtSource: 'catalog' | 'backup folder' | 'file time' | `remote copy ${string}`;
}

/** Verify a given file; a missing, truncated or corrupted file is refused here. */
export async function checkSnapshotFile(path: string, expect?: { sha256?: string; revision?: number }): Promise<ChosenSnapshot> {
  const absolute = resolve(path);
  let mtime: Date;
  try {
    const info = await stat(absolute);
    if (!info.isFile())
      throw new RefusedError(
        `snapshot ${absolute} is not a file`,
        'give the path of a snapshot taken with orchestrate backup or etcdctl snapshot save',
        'restore.snapshot-missing',
      );
    mtime = info.mtime;
  } catch (error) {
    if (error instanceof RefusedError) throw error;
    throw new RefusedError(
      `snapshot ${absolute} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      'check the path given with --snapshot',
      'restore.snapshot-missing',
    );
  }
  const report = await verifySnapshotFile(absolute, expect ? { expect } : {});
  if (!report.ok) {
    throw new RefusedError(
      `snapshot ${absolute} failed verification, no host was touched: ${describeProblems(report)}`,
      'pick another snapshot (orchestrate snapshots list INVENTORY) or take a new one with orchestrate backup',
      'restore.snapshot-invalid',
    );
  }
  return {
    path: absolute,
    ...verifiedFacts(report),
    hasHash: report.hasHash,
    takenAt: mtime.toISOString(),
    takenAtSource: 'file time',
  };
}

/**
 * The newest snapshot in the backup folder that verifies now (the backup catalog says which is newest and
 * what it should contain; the file itself is verified again before it is used).
 */
export async function newestVerifiedSnapshot(inventory: Inventory): Promise<ChosenSnapshot> {
  const locations = backupLocations(inventory);
  const { good, rejected } = await newestGoodSnapshot(locations);
  if (!good) {
    throw new RefusedError(
      `no verified snapshot in ${locations.backupDir}${rejected.length ? ` (rejected: ${rejected.map((r) => `${r.path}: ${r.problems ?? 'bad'}`).join('; ')})` : ''}; nothing was touched`,
      'take one with `orchestrate backup INVENTORY`, or name a file with --snapshot FILE',
      'restore.no-snapshot',
    );
  }
  if (good.revision === undefined || good.keys === undefined || !good.sha256) return checkSnapshotFile(good.path);
  return {
    path: good.path,
    sha256: good.sha256,
    size: good.size,
    revision: good.revision,
    totalKey: good.keys,
    hasHash: hasSha256Trailer(good.size),
    takenAt: new Date(good.takenAt).toISOString(),
    takenAtSource: good.checked === 'catalog' ? 'catalog' : 'backup folder',
  };
}

export async function chooseSnapshot(inventory: Inventory, wanted: string | undefined): Promise<ChosenSnapshot> {
  if (wanted === undefined || wanted === 'latest') return newestVerifiedSnapshot(inventory);
  return checkSnapshotFile(wanted);
}

/** `24h`, `90m`, `2d`, `3600s`, or plain seconds. */
/** Restore reports show short durations to a tenth of a second. */
export function formatDuration(ms: number): string {
  return formatAge(ms, { tenths: true });
}
