// The snapshot a drill restores, checked before anything starts: `latest` is the newest snapshot in
// backup_dir that verifies now; a file is verified with the TypeScript verifier (sha256 trailer, bbolt
// structure). A raw `member/snap/db` (no trailer) is accepted and restored with --skip-hash-check.
// An age-encrypted snapshot (backup_encryption.local, or a `.age` file) and `s3://bucket/key` are read
// by the `opener` the command gives (decrypted or downloaded into an owner-only temporary, checked and
// verified there); the drill removes that temporary when it ends, and backup_dir gets no new file.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BackupLocations } from '../etcd/backup/locations.js';
import { newestGoodSnapshot } from '../etcd/backup/snapshot-inventory.js';
import { describeProblems, hasSha256Trailer, verifiedFacts, verifySnapshotFile } from '../etcd/snapshot-file.js';

export interface DrilledSnapshot {
  path: string;
  sha256: string;
  size: number;
  revision: number;
  totalKey: number;
  hasHash: boolean;
  takenAt: string;
  /** Where `path` (a temporary file) came from: the encrypted file or the s3:// address. */
  from?: string;
  /** Removes the temporary file (`from` set). */
  discard?: () => Promise<void>;
}

/** What the opener hands back: a verified clear snapshot in a temporary place. */
export interface OpenedSnapshot {
  path: string;
  sha256: string;
  size: number;
  revision: number;
  totalKey: number;
  takenAt?: string;
  discard(): Promise<void>;
}

/**
 * Opens what the drill's verifier cannot read itself: an age-encrypted file (its recorded plaintext
 * sha256 when known) or an s3:// address. Throws with a clear message (a missing or wrong identity, a copy
 * that does not match its record). The drill command gives one; without it such snapshots are refused.
 */
export type SnapshotOpener = (request: { encryptedFile: string; sha256?: string } | { url: string }, signal?: AbortSignal) => Promise<OpenedSnapshot>;

export type SnapshotChoice = { ok: true; snapshot: DrilledSnapshot } | { ok: false; path: string; message: string };

export interface DrillSnapshotSource {
  locations: BackupLocations;
  opener?: SnapshotOpener;
}

const isS3Url = (text: string) => text.startsWith('s3://');

export async function chooseDrillSnapshot(source: DrillSnapshotSource, wanted: string | undefined, signal?: AbortSignal): Promise<SnapshotChoice> {
  const { locations } = source;
  try {
    if (wanted !== undefined && isS3Url(wanted)) return await opened(source, { url: wanted }, undefined, signal);
    if (wanted === undefined || wanted === 'latest') {
      const { good, rejected } = await newestGoodSnapshot(locations, signal ? { signal } : {});
      if (!good || good.revision === undefined || good.keys === undefined || !good.sha256) {
        const why = rejected.length ? ` (rejected: ${rejected.map((r) => `${r.path}: ${r.problems ?? 'bad'}`).join('; ')})` : '';
        return { ok: false, path: locations.backupDir, message: `no verified snapshot in ${locations.backupDir}${why}` };
      }
      const takenAt = new Date(good.takenAt).toISOString();
      if (good.encrypted) return await opened(source, { encryptedFile: good.path, sha256: good.sha256 }, takenAt, signal);
      return {
        ok: true,
        snapshot: {
          path: good.path,
          sha256: good.sha256,
          size: good.size,
          revision: good.revision,
          totalKey: good.keys,
          hasHash: hasSha256Trailer(good.size),
          takenAt,
        },
      };
    }
    const path = resolve(wanted);
    const info = await stat(path).catch((error: unknown) => error as NodeJS.ErrnoException);
    if (info instanceof Error) return { ok: false, path, message: `snapshot ${path} cannot be read: ${info.code ?? info.message}` };
    if (!info.isFile()) return { ok: false, path, message: `snapshot ${path} is not a file` };
    if (path.endsWith('.age')) return await opened(source, { encryptedFile: path }, info.mtime.toISOString(), signal);
    const report = await verifySnapshotFile(path, signal ? { signal } : {});
    if (!report.ok) return { ok: false, path, message: `snapshot ${path} failed verification: ${describeProblems(report)}` };
    return {
      ok: true,
      snapshot: {
        path,
        ...verifiedFacts(report),
        hasHash: report.hasHash,
        takenAt: info.mtime.toISOString(),
      },
    };
  } catch (error) {
    // A missing or wrong identity, a remote that cannot be read: refused before anything started.
    const hint = (error as { hint?: string }).hint;
    return { ok: false, path: wanted ?? locations.backupDir, message: `${(error as Error).message}${hint ? ` (fix: ${hint})` : ''}` };
  }
}

async function opened(
  source: DrillSnapshotSource,
  request: Parameters<SnapshotOpener>[0],
  takenAt: string | undefined,
  signal?: AbortSignal,
): Promise<SnapshotChoice> {
  const from = 'url' in request ? request.url : request.encryptedFile;
  if (!source.opener) return { ok: false, path: from, message: `${from} is encrypted or remote, and this drill was given no way to read it` };
  const plain = await source.opener(request, signal);
  return {
    ok: true,
    snapshot: {
      path: plain.path,
      sha256: plain.sha256,
      size: plain.size,
      revision: plain.revision,
      totalKey: plain.totalKey,
      hasHash: hasSha256Trailer(plain.size),
      takenAt: plain.takenAt ?? takenAt ?? new Date().toISOString(),
      from,
      discard: () => plain.discard(),
    },
  };
}
