// What is in a backup folder, for `snapshots list` and `status`: every snapshot file with what the
// catalog says about it, verified on the spot when the catalog has no record (or when asked to).
// A lost catalog is rebuilt from the files, never a reason to fail.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describeProblems, verifySnapshotFile } from '../snapshot-file.js';
import { catalogedSnapshots, type CatalogedSnapshot } from './backup-flow.js';
import {
  appendCatalogRecord,
  hasVerifiedSnapshot,
  readCatalog,
  rebuildCatalog,
  recordedFileSize,
  type CatalogRecord,
  type EncryptedVerifier,
} from './catalog.js';
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
  /** age-encrypted (`.db.age`): size is the encrypted file's, sha256 the snapshot's. */
  encrypted?: boolean;
}

export interface InspectOptions {
  reverify?: boolean;
  signal?: AbortSignal;
  /** Decrypts and verifies an encrypted file (needs the identity); without it, its sha256 is checked against the catalog. */
  verifyEncrypted?: EncryptedVerifier;
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

async function rowFor(snapshot: CatalogedSnapshot, pointerMark: string | undefined, options: InspectOptions): Promise<SnapshotRow> {
  const { reverify = false, signal } = options;
  const isPointer = !snapshot.encrypted && pointerMark !== undefined && (await snapshotMark(snapshot.path)) === pointerMark;
  const base = {
    name: snapshot.name,
    path: snapshot.path,
    takenAt: snapshot.takenAt,
    size: snapshot.size,
    isPointer,
    foreign: !snapshot.ours,
    ...(snapshot.encrypted ? { encrypted: true } : {}),
  };
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
  if (snapshot.encrypted) return encryptedRow(snapshot, base, options);
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

type RowBase = Pick<SnapshotRow, 'name' | 'path' | 'takenAt' | 'size' | 'isPointer' | 'foreign' | 'encrypted'>;

/**
 * An encrypted file checked again: decrypted and verified when the identity is at hand; else its sha256
 * compared with the one recorded when it was written (the same bytes as the snapshot verified then: age
 * authenticates every chunk); an unrecorded one cannot be judged without the identity.
 */
async function encryptedRow(snapshot: CatalogedSnapshot, base: RowBase, options: InspectOptions): Promise<SnapshotRow> {
  const record = snapshot.record && hasVerifiedSnapshot(snapshot.record) ? snapshot.record : undefined;
  const fromRecord = {
    ...(record?.revision !== undefined ? { revision: record.revision } : {}),
    ...(record?.keys !== undefined ? { keys: record.keys } : {}),
    ...(record?.sha256 ? { sha256: record.sha256 } : {}),
    ...(snapshot.record?.member ? { member: snapshot.record.member } : {}),
  };
  if (options.verifyEncrypted) {
    const expect = {
      ...(record?.sha256 ? { sha256: record.sha256 } : {}),
      ...(record?.encrypted ? { ciphertextSha256: record.encrypted.sha256 } : {}),
    };
    const { report } = await options.verifyEncrypted(snapshot.path, expect, options.signal).catch((error: unknown) => ({
      report: { ok: false as const, problems: [{ code: 'file.unreadable' as const, message: (error as Error).message }] },
    }));
    if (!report.ok) return { ...base, ...fromRecord, status: 'bad', checked: 'verified', problems: report.problems.map((p) => p.message).join('; ') };
    return {
      ...base,
      ...fromRecord,
      status: 'ok',
      checked: 'verified',
      revision: report.status.revision,
      keys: report.status.totalKey,
      sha256: report.sha256,
    };
  }
  if (!record?.encrypted) {
    return {
      ...base,
      ...fromRecord,
      status: 'bad',
      checked: 'verified',
      problems: 'encrypted and not in the catalog: give the age identity (ORCHESTRATE_AGE_IDENTITY_FILE) to verify it',
    };
  }
  const sha256 = await fileSha256(snapshot.path, options.signal).catch((error: unknown) => (error as Error).message);
  const ok = sha256 === record.encrypted.sha256;
  return {
    ...base,
    ...fromRecord,
    status: ok ? 'ok' : 'bad',
    checked: 'verified',
    ...(ok ? {} : { problems: `the encrypted file changed since it was written (sha256 ${sha256}, recorded ${record.encrypted.sha256})` }),
  };
}

async function fileSha256(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash, signal ? { signal } : {});
  return hash.digest('hex');
}

/** Every snapshot in the backup folder, newest first. `reverify` checks recorded files again too. */
export async function inspectSnapshots(locations: BackupLocations, options: InspectOptions = {}): Promise<SnapshotInventory> {
  const cataloged = await catalogedSnapshots(locations);
  const { catalogMissing } = cataloged;
  let { snapshots, skippedLines } = cataloged;
  let rebuilt = false;
  if (catalogMissing && snapshots.length > 0) {
    // The catalog was lost: verify the files present and write what they say back, so it exists again.
    const records = await rebuildCatalog(locations.backupDir, locations.cluster, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.verifyEncrypted ? { verifyEncrypted: options.verifyEncrypted } : {}),
    });
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
        return record
          ? { ...s, record, knowledge: hasVerifiedSnapshot(record) && recordedFileSize(record) === s.size ? 'recorded' : 'failed-record' }
          : s;
      });
    }
  }
  const pointerMark = await snapshotMark(join(locations.backupDir, POINTER_NAME));
  const rows: SnapshotRow[] = [];
  for (const snapshot of snapshots) rows.push(await rowFor(snapshot, pointerMark, options));
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
  options: Omit<InspectOptions, 'reverify'> = {},
): Promise<{ good?: SnapshotRow; rejected: SnapshotRow[] }> {
  const { snapshots } = await catalogedSnapshots(locations);
  const pointerMark = await snapshotMark(join(locations.backupDir, POINTER_NAME));
  const rejected: SnapshotRow[] = [];
  for (const snapshot of snapshots) {
    const row = await rowFor(snapshot, pointerMark, { ...options, reverify: true });
    if (row.status === 'ok') return { good: row, rejected };
    rejected.push(row);
  }
  return { rejected };
}
