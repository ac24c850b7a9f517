// The snapshot a drill restores, checked before anything starts: `latest` is the newest snapshot in
// backup_dir that verifies now; a file is verified with the TypeScript verifier (sha256 trailer, bbolt
// structure). A raw `member/snap/db` (no trailer) is accepted and restored with --skip-hash-check.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BackupLocations } from '../etcd/backup/locations.js';
import { newestGoodSnapshot } from '../etcd/backup/snapshot-inventory.js';
import { describeProblems, hasSha256Trailer, verifySnapshotFile } from '../etcd/snapshot-file.js';

export interface DrilledSnapshot {
  path: string;
  sha256: string;
  size: number;
  revision: number;
  totalKey: number;
  hasHash: boolean;
  takenAt: string;
}

export type SnapshotChoice = { ok: true; snapshot: DrilledSnapshot } | { ok: false; path: string; message: string };

export async function chooseDrillSnapshot(locations: BackupLocations, wanted: string | undefined, signal?: AbortSignal): Promise<SnapshotChoice> {
  if (wanted === undefined || wanted === 'latest') {
    const { good, rejected } = await newestGoodSnapshot(locations, signal ? { signal } : {});
    if (!good || good.revision === undefined || good.keys === undefined || !good.sha256) {
      const why = rejected.length ? ` (rejected: ${rejected.map((r) => `${r.path}: ${r.problems ?? 'bad'}`).join('; ')})` : '';
      return { ok: false, path: locations.backupDir, message: `no verified snapshot in ${locations.backupDir}${why}` };
    }
    return {
      ok: true,
      snapshot: {
        path: good.path,
        sha256: good.sha256,
        size: good.size,
        revision: good.revision,
        totalKey: good.keys,
        hasHash: hasSha256Trailer(good.size),
        takenAt: new Date(good.takenAt).toISOString(),
      },
    };
  }
  const path = resolve(wanted);
  const info = await stat(path).catch((error: unknown) => error as NodeJS.ErrnoException);
  if (info instanceof Error) return { ok: false, path, message: `snapshot ${path} cannot be read: ${info.code ?? info.message}` };
  if (!info.isFile()) return { ok: false, path, message: `snapshot ${path} is not a file` };
  const report = await verifySnapshotFile(path, signal ? { signal } : {});
  if (!report.ok) return { ok: false, path, message: `snapshot ${path} failed verification: ${describeProblems(report)}` };
  return {
    ok: true,
    snapshot: {
      path,
      sha256: report.sha256,
      size: report.fileSize,
      revision: report.status.revision,
      totalKey: report.status.totalKey,
      hasHash: report.hasHash,
      takenAt: info.mtime.toISOString(),
    },
  };
}
