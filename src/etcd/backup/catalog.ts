// The catalog: one JSON line per backup attempt, appended with fsync, kept apart from the snapshots
// (see locations.ts). It is a convenience, never a dependency: when it is lost, `rebuildCatalog`
// re-verifies the files present, and a backup never waits on it.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { verifySnapshotFile, type SnapshotReport } from '../snapshot-file.js';
import { describeProblems } from '../snapshot-file.js';
import { fsyncDirectory } from '../fs-sync.js';
import { listSnapshotFiles } from './snapshot-store.js';

export const CATALOG_FORMAT = 1;

export interface CatalogRecord {
  format: typeof CATALOG_FORMAT;
  /** Random id of the attempt. */
  id: string;
  cluster: string;
  /** ISO times and the wall time of the attempt. */
  start: string;
  end: string;
  durationMs: number;
  result: 'ok' | 'failed';
  /** Member the snapshot came from (etcd name) and its inventory host. */
  member?: string;
  host?: string;
  method?: 'client' | 'etcdctl';
  /** Absolute path of the snapshot at the time it was written. */
  file?: string;
  size?: number;
  sha256?: string;
  revision?: number;
  keys?: number;
  /** CRC-32C as `etcdctl snapshot status` prints it. */
  hash?: number;
  hasHash?: boolean;
  etcdVersion?: string;
  clusterId?: string;
  error?: string;
  /** Written by rebuildCatalog from a file, not by the backup that took it. */
  rebuilt?: boolean;
  /**
   * Set when the attempt's snapshot was verified on the deploy host: where verified copies of it live
   * (`local`: only in backup_dir, e.g. when its remote copy failed; `both`: a verified remote copy too).
   * An attempt can fail (its remote copy did) with its local snapshot verified and usable.
   */
  where?: 'local' | 'both';
  /** The remote copy of this attempt's snapshot (backup_remote): where and how it was verified, or why it failed. */
  remote?: CatalogRemoteCopy;
  /**
   * backup_encryption.local: `file` is the age-encrypted snapshot; its size and sha256 here (`size` and
   * `sha256` above stay the snapshot's own, the plaintext's).
   */
  encrypted?: { size: number; sha256: string };
}

/** The size of the file a record names: the encrypted file's when the snapshot was encrypted. */
export function recordedFileSize(record: Pick<CatalogRecord, 'size' | 'encrypted'>): number | undefined {
  return record.encrypted?.size ?? record.size;
}

/** What the catalog keeps of a remote copy (the remote catalog holds the full record). */
export interface CatalogRemoteCopy {
  result: 'ok' | 'failed';
  /** `s3://bucket/key`. */
  url: string;
  encrypted: boolean;
  /** Bytes stored (the age file when encrypted) and their sha256. */
  size?: number;
  sha256?: string;
  verifiedBy?: string;
  durationMs?: number;
  /** A failure's message, its kind (network, credentials, verification, ...) and what to do. */
  error?: string;
  kind?: string;
  hint?: string;
}

/** The attempt's snapshot was verified on the deploy host (a good attempt, or one whose remote copy failed). */
export function hasVerifiedSnapshot(record: Pick<CatalogRecord, 'result' | 'where'>): boolean {
  return record.result === 'ok' || record.where !== undefined;
}

export function newAttemptId(): string {
  return randomBytes(8).toString('hex');
}

/** Append one record durably: O_APPEND (one write per line), fsync; the folder is created 0700. */
export async function appendCatalogRecord(catalogFile: string, record: CatalogRecord): Promise<void> {
  const dir = dirname(catalogFile);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const handle = await open(catalogFile, 'a', 0o600);
  try {
    const info = await handle.stat();
    await handle.write(`${JSON.stringify(record)}\n`);
    await handle.sync();
    if (info.size === 0) await fsyncDirectory(dir);
  } finally {
    await handle.close();
  }
}

export interface CatalogContent {
  records: CatalogRecord[];
  /** Lines that could not be read (a torn last line after a crash, an edit by hand), with their numbers. */
  skipped: { line: number; reason: string }[];
  exists: boolean;
}

function isRecord(value: unknown): value is CatalogRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<CatalogRecord>;
  return typeof r.start === 'string' && typeof r.end === 'string' && (r.result === 'ok' || r.result === 'failed');
}

/** Read the catalog; a missing file is an empty catalog, bad lines are skipped and reported. */
export async function readCatalog(catalogFile: string): Promise<CatalogContent> {
  let text: string;
  try {
    text = await readFile(catalogFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: [], exists: false };
    throw error;
  }
  const records: CatalogRecord[] = [];
  const skipped: { line: number; reason: string }[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isRecord(parsed)) records.push(parsed);
      else skipped.push({ line: index + 1, reason: 'not a catalog record' });
    } catch {
      skipped.push({ line: index + 1, reason: 'not valid JSON (torn write?)' });
    }
  });
  return { records, skipped, exists: true };
}

/**
 * Decrypts an encrypted snapshot file into a temporary place and verifies it there (the remote layer
 * gives one, with the age identity): the plaintext report, and the sha256 of the encrypted file.
 */
export type EncryptedVerifier = (
  path: string,
  expect: { sha256?: string; ciphertextSha256?: string },
  signal?: AbortSignal,
) => Promise<{ report: SnapshotReport; ciphertextSha256?: string }>;

/**
 * Records for the snapshot files present in `backupDir`, each re-verified (the catalog was lost, or
 * files were copied in). Failed verifications come back as `failed` records with the problems. An
 * encrypted file is verified only with `verifyEncrypted` (the identity); without it, it gets no record.
 */
export async function rebuildCatalog(
  backupDir: string,
  cluster: string,
  options: { signal?: AbortSignal; verifyEncrypted?: EncryptedVerifier } = {},
): Promise<CatalogRecord[]> {
  const files = await listSnapshotFiles(backupDir);
  const records: CatalogRecord[] = [];
  for (const file of [...files].reverse()) {
    const started = Date.now();
    if (file.encrypted && !options.verifyEncrypted) continue;
    const checked = file.encrypted && options.verifyEncrypted ? await options.verifyEncrypted(file.path, {}, options.signal) : undefined;
    const report = checked?.report ?? (await verifySnapshotFile(file.path, options.signal ? { signal: options.signal } : {}));
    const takenAt = new Date(file.takenAt).toISOString();
    records.push({
      format: CATALOG_FORMAT,
      id: newAttemptId(),
      cluster,
      start: takenAt,
      end: takenAt,
      durationMs: Date.now() - started,
      result: report.ok ? 'ok' : 'failed',
      file: file.path,
      size: report.fileSize,
      sha256: report.sha256,
      hasHash: report.hasHash,
      ...(report.status ? { revision: report.status.revision, keys: report.status.totalKey, hash: report.status.hash } : {}),
      ...(report.ok ? {} : { error: describeProblems(report) }),
      ...(checked?.ciphertextSha256 ? { encrypted: { size: file.size, sha256: checked.ciphertextSha256 } } : {}),
      rebuilt: true,
    });
  }
  return records;
}
