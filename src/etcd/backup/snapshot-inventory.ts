// What is in a backup folder, for `snapshots list` and `status`: every snapshot file with what the
// catalog says about it, verified on the spot when the catalog has no record (or when asked to).
// A lost catalog is rebuilt from the files, never a reason to fail.
import { join } from 'node:path';
import { describeProblems, verifySnapshotFile } from '../snapshot-file.js';
import { catalogedSnapshots, type CatalogedSnapshot } from './backup-flow.js';
import { appendCatalogRecord, hasVerifiedSnapshot, readCatalog, rebuildCatalog, type CatalogRecord } from './catalog.js';
import type { BackupLocations } from './locations.js';
import { POINTER_NAME, snapshotMark } from './snapshot-store.js';

export interface SnapshotRow {
  name: string;
  path: string;
  takenAt: number;
  size: number;
  revision?: number;
  keys?: number;
  member?: string;
  sha256?: string;
  status: 'ok' | 'bad';
  /** `catalog`: recorded as good when it was taken (same size); `verified`: checked just now. */
  checked: 'catalog' | 'verified';
  problems?: string;
  /** `snapshot.db` is this file. */
  isPointer: boolean;
  /** Not named by orchestrate (put there by hand): listed, never pruned. */
  foreign: boolean;
}

export interface SnapshotInventory {
  rows: SnapshotRow[];
  catalogFile: string;
  /** The catalog was missing and has been rebuilt from the verified files. */
  rebuilt: boolean;
  skippedCatalogLines: number;
  lastAttempt?: CatalogRecord;
  lastSuccess?: CatalogRecord;
}

async function rowFor(snapshot: CatalogedSnapshot, reverify: boolean, pointerMark: string | undefined, signal?: AbortSignal): Promise<SnapshotRow> {
  const isPointer = pointerMark !== undefined && (await snapshotMark(snapshot.path)) === pointerMark;
  const base = { name: snapshot.name, path: snapshot.path, takenAt: snapshot.takenAt, size: snapshot.size, isPointer, foreign: !snapshot.ours };
  const record = snapshot.record;
  if (snapshot.knowledge === 'recorded' && record && !reverify) {
    return {
      ...base,
      status: 'ok',
      checked: 'catalog',
      ...(record.revision !== undefined ? { revision: record.revision } : {}),
      ...(record.keys !== undefined ? { keys: record.keys } : {}),
      ...(record.member ? { member: record.member } : {}),
      ...(record.sha256 ? { sha256: record.sha256 } : {}),
    };
  }
  const expect = record && hasVerifiedSnapshot(record) && record.sha256 ? { expect: { sha256: record.sha256 } } : {};
  const report = await verifySnapshotFile(snapshot.path, { ...expect, ...(signal ? { signal } : {}) });
  return {
    ...base,
    status: report.ok ? 'ok' : 'bad',
    checked: 'verified',
    ...(report.status ? { revision: report.status.revision, keys: report.status.totalKey } : {}),
    ...(record?.member ? { member: record.member } : {}),
    sha256: report.sha256,
    ...(report.ok ? {} : { problems: describeProblems(report) }),
  };
}

/** Every snapshot in the backup folder, newest first. `reverify` checks recorded files again too. */
export async function inspectSnapshots(
  locations: BackupLocations,
  options: { reverify?: boolean; signal?: AbortSignal } = {},
): Promise<SnapshotInventory> {
  const cataloged = await catalogedSnapshots(locations);
  const { catalogMissing } = cataloged;
  let { snapshots, skippedLines } = cataloged;
  let rebuilt = false;
  if (catalogMissing && snapshots.length > 0) {
    // The catalog was lost: verify the files present and write what they say back, so it exists again.
    const records = await rebuildCatalog(locations.backupDir, locations.cluster, options.signal ? { signal: options.signal } : {});
    try {
      for (const record of records) await appendCatalogRecord(locations.catalogFile, record);
      rebuilt = true;
    } catch {
      // Read-only or missing folder: listing still works from the verification just done.
    }
    ({ snapshots, skippedLines } = await catalogedSnapshots(locations));
    if (!rebuilt) {
      const byPath = new Map(records.map((r) => [r.file, r]));
      snapshots = snapshots.map((s) => {
        const record = byPath.get(s.path);
        return record ? { ...s, record, knowledge: hasVerifiedSnapshot(record) && record.size === s.size ? 'recorded' : 'failed-record' } : s;
      });
    }
  }
  const pointerMark = await snapshotMark(join(locations.backupDir, POINTER_NAME));
  const rows: SnapshotRow[] = [];
  for (const snapshot of snapshots) rows.push(await rowFor(snapshot, options.reverify ?? false, pointerMark, options.signal));
  const { records } = await readCatalog(locations.catalogFile).catch(() => ({ records: [] as CatalogRecord[] }));
  const attempts = records.filter((r) => !r.rebuilt && r.cluster === locations.cluster);
  const lastAttempt = attempts.at(-1);
  const lastSuccess = [...attempts].reverse().find((r) => r.result === 'ok');
  return {
    rows,
    catalogFile: locations.catalogFile,
    rebuilt,
    skippedCatalogLines: skippedLines,
    ...(lastAttempt ? { lastAttempt } : {}),
    ...(lastSuccess ? { lastSuccess } : {}),
  };
}

/**
 * The newest snapshot that verifies now (checked against its catalog record when there is one).
 * Older files are only opened if newer ones fail, so this costs one verification in the usual case.
 */
export async function newestGoodSnapshot(
  locations: BackupLocations,
  options: { signal?: AbortSignal } = {},
): Promise<{ good?: SnapshotRow; rejected: SnapshotRow[] }> {
  const { snapshots } = await catalogedSnapshots(locations);
  const pointerMark = await snapshotMark(join(locations.backupDir, POINTER_NAME));
  const rejected: SnapshotRow[] = [];
  for (const snapshot of snapshots) {
    const row = await rowFor(snapshot, true, pointerMark, options.signal);
    if (row.status === 'ok') return { good: row, rejected };
    rejected.push(row);
  }
  return { rejected };
}
