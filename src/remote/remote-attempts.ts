// Every remote-copy attempt, good or failed, one JSON line each in `<catalog dir>/<cluster>.remote.jsonl`
// on the deploy host (beside the backup catalog, fsynced like it): what the metrics and `status` read
// without asking the remote, and the record of failures the remote itself never saw.
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { clusterFileName } from '../etcd/backup/locations.js';
import { fsyncDirectory } from '../etcd/fs-sync.js';
import type { FailureKind } from './remote-errors.js';

export interface RemoteAttempt {
  cluster: string;
  start: string;
  end: string;
  durationMs: number;
  result: 'ok' | 'failed';
  /** The snapshot's name and where it went. */
  name: string;
  key?: string;
  bucket?: string;
  /** Bytes stored on the remote. */
  bytes?: number;
  takenAt?: string;
  encrypted?: boolean;
  verifiedBy?: string;
  retries?: number;
  error?: string;
  kind?: FailureKind;
}

/** `<catalog dir>/<cluster>.remote.jsonl`, beside the backup catalog file. */
export function remoteAttemptsFile(catalogFile: string, cluster: string): string {
  return join(dirname(catalogFile), `${clusterFileName(cluster)}.remote.jsonl`);
}

export async function appendRemoteAttempt(file: string, attempt: RemoteAttempt): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const handle = await open(file, 'a', 0o600);
  try {
    const info = await handle.stat();
    await handle.write(`${JSON.stringify(attempt)}\n`);
    await handle.sync();
    if (info.size === 0) await fsyncDirectory(dir);
  } finally {
    await handle.close();
  }
}

/** Attempts oldest first; a missing file is none, torn or foreign lines are skipped. */
export async function readRemoteAttempts(file: string): Promise<RemoteAttempt[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const attempts: RemoteAttempt[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as Partial<RemoteAttempt>;
      if ((value.result === 'ok' || value.result === 'failed') && typeof value.end === 'string' && typeof value.cluster === 'string')
        attempts.push(value as RemoteAttempt);
    } catch {
      // A torn last line after a crash.
    }
  }
  return attempts;
}
