// The steps of a backup as plain functions (the etcd modules plan them, commands and tests call them):
// choose a member, stream a snapshot, verify it and give it its final name, record, prune.
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EtcdMember } from '../../config/types.js';
import { streamSnapshot } from '../client.js';
import type { ClusterSurvey } from '../cluster/observe.js';
import { fsyncDirectory } from '../fs-sync.js';
import { partialPathFor, type StreamDigests } from '../partial-file.js';
import { describeProblems, verifySnapshotFile, type SnapshotReport } from '../snapshot-file.js';
import {
  appendCatalogRecord,
  hasVerifiedSnapshot,
  readCatalog,
  CATALOG_FORMAT,
  newAttemptId,
  recordedFileSize,
  type CatalogRecord,
  type CatalogRemoteCopy,
} from './catalog.js';
import type { BackupLocations } from './locations.js';
import { metricsFromRecords, writeMetricsFile, type BackupMetrics, type MetricFamily } from './metrics.js';
import { planRetention, type RetentionPlan, type RetentionPolicy } from './retention.js';
import {
  ENCRYPTED_SUFFIX,
  ensureBackupDir,
  listSnapshotFiles,
  placeSnapshot,
  removeStaleTemporaries,
  updatePointer,
  type SnapshotFileEntry,
} from './snapshot-store.js';

/** One line naming every member and why it cannot be used. */
export function noHealthyMemberMessage(survey: ClusterSurvey): string {
  const reasons = survey.members.map(
    (m) => `${m.name}: ${m.ok ? (m.alarms?.length ? `alarms ${m.alarms.join(',')}` : 'no leader') : (m.error ?? 'no answer')}`,
  );
  return `no healthy etcd member to take a snapshot from (${reasons.join('; ')})`;
}

export interface TakenSnapshot {
  partialPath: string;
  bytes: number;
  sha256: string;
  digests?: StreamDigests;
  member: string;
  host: string;
  method: 'client' | 'etcdctl';
  /** When the snapshot was requested: the time in its final name. */
  takenAt: string;
  durationMs: number;
}

/**
 * Reports of snapshots verified while they were received, by temporary path. Kept in this process
 * only (never passed through task arguments, which a playbook could fake); `acceptSnapshot` uses one
 * when the file is still the size that was verified, and verifies from scratch otherwise.
 */
const verifiedWhileReceiving = new Map<string, SnapshotReport>();

/** Temporary files of runs that died more than a day ago are removed before a new backup. */
const STALE_TEMPORARY_MS = 24 * 3_600_000;

/** The temporary name a snapshot taken now is written under (never a final name). */
export function snapshotTempBase(backupDir: string, takenAt: Date): string {
  return join(
    backupDir,
    `snapshot_${takenAt
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}.db`,
  );
}

/**
 * Stream a snapshot from the first candidate that delivers one; a member that fails (stopped since the
 * survey, timed out, cut off) is skipped for the next. Throws with every member's failure if none works.
 */
export async function streamFromCandidates(
  candidates: readonly EtcdMember[],
  backupDir: string,
  options: { idleTimeoutMs?: number; totalTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<TakenSnapshot> {
  if (candidates.length === 0) throw new Error('no member to take a snapshot from');
  await ensureBackupDir(backupDir);
  await removeStaleTemporaries(backupDir, STALE_TEMPORARY_MS);
  const failures: string[] = [];
  for (const member of candidates) {
    const takenAt = new Date();
    const result = await streamSnapshot(member, snapshotTempBase(backupDir, takenAt), { ...options, verify: { requireHash: true } });
    if (result.ok) {
      const s = result.snapshot;
      if (s.report) verifiedWhileReceiving.set(s.partialPath, s.report);
      return {
        partialPath: s.partialPath,
        bytes: s.bytes,
        sha256: s.sha256,
        digests: s.digests,
        member: member.name,
        host: member.host,
        method: 'client',
        takenAt: takenAt.toISOString(),
        durationMs: s.durationMs,
      };
    }
    failures.push(result.error);
    if (options.signal?.aborted) break;
  }
  throw new Error(failures.join('; '));
}

export interface AcceptedSnapshot {
  file: string;
  /** `snapshot.db`, a copy of the newest snapshot for kubeasz; never made of an encrypted one (it would be a clear copy). */
  pointer?: string;
  report: SnapshotReport & { ok: true };
  /** backup_encryption.local: `file` is the encrypted snapshot, of this size and sha256. */
  encrypted?: { size: number; sha256: string };
}

/**
 * Encrypts a verified plaintext snapshot into `dest` (created exclusively, 0600, fsynced), checking that
 * the bytes read have `sha256` (remote/local-encryption gives one, with the recipients).
 */
export type SnapshotSealer = (plainPath: string, sha256: string, dest: string) => Promise<{ size: number; sha256: string }>;

/**
 * Verify a freshly written temporary snapshot and, only if it passes, give it its final name and point
 * `snapshot.db` at it. A file that fails is deleted and never gets a final name. With `seal` the
 * verified plaintext is encrypted into `<final name>.age` and removed, whatever happens: no clear copy
 * stays in backup_dir, and no pointer is made.
 */
export async function acceptSnapshot(
  taken: Pick<TakenSnapshot, 'partialPath' | 'digests' | 'takenAt'>,
  backupDir: string,
  options: { signal?: AbortSignal; seal?: SnapshotSealer } = {},
): Promise<AcceptedSnapshot> {
  const early = verifiedWhileReceiving.get(taken.partialPath);
  verifiedWhileReceiving.delete(taken.partialPath);
  const size = await stat(taken.partialPath).then(
    (info) => info.size,
    () => -1,
  );
  const report =
    early && early.fileSize === size
      ? early
      : await verifySnapshotFile(taken.partialPath, {
          requireHash: true,
          ...(taken.digests ? { digests: taken.digests } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
  if (!report.ok) {
    await rm(taken.partialPath, { force: true });
    throw new Error(`the snapshot failed verification and was deleted: ${describeProblems(report)}`);
  }
  if (options.seal) return sealSnapshot(taken, backupDir, report, options.seal);
  const file = await placeSnapshot(taken.partialPath, backupDir, new Date(taken.takenAt), report.status.revision);
  const pointer = await updatePointer(backupDir, file);
  return { file, pointer, report };
}

async function sealSnapshot(
  taken: Pick<TakenSnapshot, 'partialPath' | 'takenAt'>,
  backupDir: string,
  report: SnapshotReport & { ok: true },
  seal: SnapshotSealer,
): Promise<AcceptedSnapshot> {
  const sealedTemp = partialPathFor(`${taken.partialPath}${ENCRYPTED_SUFFIX}`);
  try {
    const { size, sha256 } = await seal(taken.partialPath, report.sha256, sealedTemp);
    const file = await placeSnapshot(sealedTemp, backupDir, new Date(taken.takenAt), report.status.revision, ENCRYPTED_SUFFIX);
    return { file, report, encrypted: { size, sha256 } };
  } finally {
    await rm(taken.partialPath, { force: true });
    await rm(sealedTemp, { force: true });
    await fsyncDirectory(backupDir);
  }
}

/** Append to the catalog; a catalog that cannot be written is a warning, never a failed backup. */
export async function recordAttempt(locations: BackupLocations, record: CatalogRecord): Promise<{ written: boolean; warning?: string }> {
  try {
    await appendCatalogRecord(locations.catalogFile, record);
    return { written: true };
  } catch (error) {
    return { written: false, warning: `could not write the catalog ${locations.catalogFile}: ${(error as Error).message}` };
  }
}

/**
 * Metrics after the catalog (plus `latest` if it could not be written there). `extra`: more gauges for this
 * cluster in the same file (the remote copy's), whose other clusters' samples are kept too.
 */
export async function updateMetrics(
  locations: BackupLocations,
  latest?: CatalogRecord,
  extra: readonly MetricFamily[] = [],
): Promise<{ metrics: BackupMetrics; text: string }> {
  const { records } = await readCatalog(locations.catalogFile).catch(() => ({ records: [] as CatalogRecord[] }));
  const all = latest && !records.some((r) => r.id === latest.id) ? [...records, latest] : records;
  const metrics = metricsFromRecords(locations.cluster, all);
  const text = await writeMetricsFile(locations.metricsFile, metrics, extra);
  return { metrics, text };
}

export interface AttemptParts {
  cluster: string;
  start: string;
  survey?: ClusterSurvey;
  taken?: TakenSnapshot;
  accepted?: { file: string; report: SnapshotReport & { ok: true }; encrypted?: { size: number; sha256: string } };
  /** The remote copy of the accepted snapshot, when one was attempted. */
  remote?: CatalogRemoteCopy;
  error?: string;
}

/** The catalog record of an attempt, from whatever parts it got to. */
export function buildRecord(parts: AttemptParts, end = new Date()): CatalogRecord {
  const ok = parts.accepted !== undefined && parts.error === undefined;
  const taken = parts.taken;
  const source = taken ? parts.survey?.members.find((m) => m.name === taken.member) : undefined;
  const report = parts.accepted?.report;
  return {
    format: CATALOG_FORMAT,
    id: newAttemptId(),
    cluster: parts.cluster,
    start: parts.start,
    end: end.toISOString(),
    durationMs: end.getTime() - Date.parse(parts.start),
    result: ok ? 'ok' : 'failed',
    ...(parts.taken ? { member: parts.taken.member, host: parts.taken.host, method: parts.taken.method } : {}),
    ...(parts.accepted && report
      ? {
          file: parts.accepted.file,
          size: report.fileSize,
          sha256: report.sha256,
          revision: report.status.revision,
          keys: report.status.totalKey,
          hash: report.status.hash,
          hasHash: report.hasHash,
          ...(parts.accepted.encrypted ? { encrypted: parts.accepted.encrypted } : {}),
        }
      : {}),
    ...((source?.version ?? parts.survey?.version) ? { etcdVersion: source?.version ?? parts.survey?.version } : {}),
    ...((source?.clusterId ?? parts.survey?.clusterId) ? { clusterId: source?.clusterId ?? parts.survey?.clusterId } : {}),
    ...(ok ? {} : { error: parts.error ?? 'the backup did not complete' }),
    // A verified local snapshot stays usable whatever happened to its remote copy.
    ...(parts.accepted ? { where: parts.remote?.result === 'ok' ? ('both' as const) : ('local' as const) } : {}),
    ...(parts.remote ? { remote: parts.remote } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The snapshots in a backup folder, with what the catalog knows about them.

export interface CatalogedSnapshot extends SnapshotFileEntry {
  record?: CatalogRecord;
  /** `recorded`: an ok record matches the file (name and size); `unrecorded`: no record (verify to know). */
  knowledge: 'recorded' | 'unrecorded' | 'failed-record';
}

export async function catalogedSnapshots(
  locations: BackupLocations,
): Promise<{ snapshots: CatalogedSnapshot[]; catalogMissing: boolean; skippedLines: number }> {
  const [files, catalog] = await Promise.all([
    listSnapshotFiles(locations.backupDir),
    readCatalog(locations.catalogFile).catch(() => ({ records: [], skipped: [], exists: false })),
  ]);
  const byName = new Map<string, CatalogRecord>();
  for (const record of catalog.records) {
    if (!record.file) continue;
    const name = record.file.split('/').pop() ?? record.file;
    byName.set(name, record);
  }
  const snapshots = files.map((file): CatalogedSnapshot => {
    const record = byName.get(file.name);
    if (!record) return { ...file, knowledge: 'unrecorded' };
    if (!hasVerifiedSnapshot(record) || recordedFileSize(record) !== file.size) return { ...file, record, knowledge: 'failed-record' };
    return { ...file, record, knowledge: 'recorded' };
  });
  return { snapshots, catalogMissing: !catalog.exists, skippedLines: catalog.skipped.length };
}

export interface PruneResult {
  plan: RetentionPlan<CatalogedSnapshot & { verified: boolean }>;
  deleted: string[];
  dryRun: boolean;
}

/**
 * Plan retention over the snapshots orchestrate named (files put there by hand are never touched).
 * A snapshot counts as verified when the catalog recorded it as good with the same size, or when it
 * verifies now (no record).
 */
export async function planPrune(
  locations: BackupLocations,
  policy: RetentionPolicy,
  now = Date.now(),
): Promise<RetentionPlan<CatalogedSnapshot & { verified: boolean }>> {
  const { snapshots } = await catalogedSnapshots(locations);
  const ours = snapshots.filter((s) => s.ours);
  const entries = [];
  for (const snapshot of ours) {
    let verified = snapshot.knowledge === 'recorded';
    // An encrypted file without a record cannot be checked without the identity: kept, never counted.
    if (snapshot.knowledge === 'unrecorded' && !snapshot.encrypted) verified = (await verifySnapshotFile(snapshot.path)).ok;
    entries.push({ ...snapshot, verified });
  }
  return planRetention(entries, policy, now);
}

export async function deleteSnapshots(backupDir: string, paths: readonly string[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const path of paths) {
    await rm(path, { force: true });
    deleted.push(path);
  }
  if (deleted.length > 0) await fsyncDirectory(backupDir);
  return deleted;
}
