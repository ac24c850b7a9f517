// Every drill, good or failed, as one JSON line in the catalog folder: `<catalog dir>/drills/<cluster>.jsonl`.
// A file of its own, beside the backup catalog: the backup catalog's readers (snapshots list, status,
// metrics, retention) take any line with start/end/result for a backup attempt, so a drill line there
// would count as one. Each line carries `kind: "drill"` so the two can share a file one day.
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BackupLocations } from '../etcd/backup/locations.js';
import { clusterFileName } from '../etcd/backup/locations.js';
import { fsyncDirectory } from '../etcd/fs-sync.js';

export const DRILL_RECORD_FORMAT = 1;

export interface DrillRecord {
  format: typeof DRILL_RECORD_FORMAT;
  kind: 'drill';
  id: string;
  cluster: string;
  start: string;
  end: string;
  durationMs: number;
  result: 'ok' | 'failed';
  /** The stage that failed: snapshot, tools, space, restore, start, quorum, checks, interrupted. */
  failedStage?: string;
  error?: string;
  snapshot: {
    file: string;
    sha256?: string;
    size?: number;
    revision?: number;
    /** Live keys in the snapshot (what the cluster must serve). */
    keys?: number;
    hasHash?: boolean;
    /** When the snapshot was taken (catalog or file time), ISO. */
    takenAt?: string;
  };
  members: number;
  /** e.g. `etcd 3.4.23, etcdctl 3.4.23`. */
  tools?: string;
  /** Revision bump given to the restore tool (etcdutl 3.5+). */
  bumpRevision?: number;
  servedRevision?: number;
  timeToQuorumMs?: number;
  timeToLastCheckMs?: number;
  checks: { id: string; ok: boolean; detail: string }[];
}

export function drillCatalogFile(locations: Pick<BackupLocations, 'catalogFile' | 'cluster'>): string {
  return join(dirname(locations.catalogFile), 'drills', `${clusterFileName(locations.cluster)}.jsonl`);
}

/** Append one record durably (O_APPEND, fsync), the folder created 0700, the file 0600. */
export async function appendDrillRecord(file: string, record: DrillRecord): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const handle = await open(file, 'a', 0o600);
  try {
    const info = await handle.stat();
    await handle.write(`${JSON.stringify(record)}\n`);
    await handle.sync();
    if (info.size === 0) await fsyncDirectory(dir);
  } finally {
    await handle.close();
  }
}

function isDrillRecord(value: unknown): value is DrillRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<DrillRecord>;
  return r.kind === 'drill' && typeof r.end === 'string' && (r.result === 'ok' || r.result === 'failed') && typeof r.snapshot === 'object';
}

/** Every drill of the file, oldest first; a missing file is none, a torn or foreign line is skipped. */
export async function readDrillRecords(file: string): Promise<{ records: DrillRecord[]; skipped: number }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: 0 };
    throw error;
  }
  const records: DrillRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isDrillRecord(parsed)) records.push(parsed);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}
