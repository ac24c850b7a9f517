// The deploy-host end of every transfer: a finished temporary file is flushed, checked and
// only then renamed into place, so `dest` never holds bytes that were not verified.
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TaskFailedError } from '../errors.js';
import { sha256File } from './sha256.js';
import type { TransferResult } from './types.js';

export interface CommitOptions {
  expectedSha256: string;
  mode: number;
  /** Names the transfer in messages, e.g. `etcd1:/var/lib/etcd/snap.db`. */
  source: string;
}

/** fsync, verify, chmod and rename `tmpPath` to `destPath`; the temporary file is removed on any failure. */
export async function commitLocalFile(tmpPath: string, destPath: string, options: CommitOptions): Promise<TransferResult> {
  try {
    const handle = await open(tmpPath, 'r+');
    let bytes: number;
    try {
      await handle.chmod(options.mode);
      await handle.sync();
      bytes = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    const actual = await sha256File(tmpPath);
    if (actual !== options.expectedSha256) {
      throw new TaskFailedError(
        `copy of ${options.source} to ${destPath} failed verification: sha256 ${actual} here, ${options.expectedSha256} at the source`,
        'the file changed during the copy or the transfer was corrupted; run again',
        'transfer.checksum',
      );
    }
    await rename(tmpPath, destPath);
    await syncDirectory(dirname(destPath));
    return { bytes, sha256: actual };
  } catch (error) {
    await rm(tmpPath, { force: true });
    throw error;
  }
}

/** Makes the rename itself durable; some file systems refuse to fsync a directory, which is harmless here. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
