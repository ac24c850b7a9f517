// The latest state of every key in a snapshot, in key order, with bounded memory: the `key` bucket is read
// once (revision order), cut into sorted runs of at most `memoryBytes`, and the runs are merged. A snapshot
// whose keys fit in one run never touches the disk. Run files live in an owner-only folder the caller
// gives and are removed by `dispose()` (a key's name can say what a cluster holds, never its value).
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32cUpdate } from './crc32c.js';
import { mergeRuns, RunBuffer, type KeyRecord } from './key-runs.js';
import { walkKeyRevisions, type KeyBucketSummary } from './snapshot-keys.js';

export interface SnapshotKeyIndexOptions {
  /** Folder for run files (a private subfolder is made in it). */
  workDir: string;
  /** Memory for one run before it goes to disk. Default 16 MiB. */
  memoryBytes?: number;
  /** Compute a CRC-32C of every value (for content checks); a diff needs only revisions. */
  valueDigests?: boolean;
  /** Only keys starting with this (latin1) prefix. */
  prefix?: string;
  signal?: AbortSignal;
}

/** Iterate it (synchronously, or with for await) for the live keys in key order. */
export interface SnapshotKeyIndex extends AsyncIterable<KeyRecord>, Iterable<KeyRecord> {
  summary: KeyBucketSummary;
  /** Runs written to disk (0 when everything fit in memory). */
  runs: number;
  /** Keys whose latest entry is a delete are skipped by the iterator; counted here while iterating. */
  readonly deletedKeys: number;
  dispose(): Promise<void>;
}

const DEFAULT_MEMORY = 16 * 1024 * 1024;

/** Read the snapshot's `key` bucket into sorted runs; iterate the result for live keys in key order. */
export async function indexSnapshotKeys(path: string, options: SnapshotKeyIndexOptions): Promise<SnapshotKeyIndex> {
  const budget = options.memoryBytes ?? DEFAULT_MEMORY;
  const prefix = Buffer.from(options.prefix ?? '', 'latin1');
  const digests = options.valueDigests === true;
  const folder = await mkdtemp(join(options.workDir, 'keys-'));
  const runFiles: string[] = [];
  const run = new RunBuffer();
  try {
    const summary = await walkKeyRevisions(
      path,
      (entry) => {
        const { kv, keyStart, keyEnd } = entry;
        if (
          prefix.length > 0 &&
          (keyEnd - keyStart < prefix.length || kv.compare(prefix, 0, prefix.length, keyStart, keyStart + prefix.length) !== 0)
        )
          return;
        const valueSize = entry.valueEnd - entry.valueStart;
        run.add(
          kv.toString('latin1', keyStart, keyEnd),
          entry.main,
          entry.sub,
          entry.tombstone,
          entry.createRevision,
          entry.tombstone ? entry.main : entry.modRevision,
          entry.version,
          valueSize,
          digests && valueSize > 0 ? crc32cUpdate(0, kv.subarray(entry.valueStart, entry.valueEnd)) : 0,
        );
        // Written synchronously: memory holds one run at a time, never a queue of them.
        if (run.bytes >= budget) {
          const file = join(folder, `run-${runFiles.length}`);
          runFiles.push(file);
          run.writeRun(file);
        }
      },
      options.signal ? { signal: options.signal } : {},
    );
    if (runFiles.length > 0 && run.length > 0) {
      const file = join(folder, `run-${runFiles.length}`);
      runFiles.push(file);
      run.writeRun(file);
    }
    return makeIndex(summary, folder, runFiles, runFiles.length === 0 ? run : undefined);
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

function makeIndex(summary: KeyBucketSummary, folder: string, runFiles: string[], inMemory: RunBuffer | undefined): SnapshotKeyIndex {
  let deletedKeys = 0;
  function* live(): Generator<KeyRecord> {
    for (const record of inMemory ? inMemory.sorted() : mergeRuns(runFiles)) {
      if (record.tombstone) deletedKeys++;
      else yield record;
    }
  }
  return {
    summary,
    runs: runFiles.length,
    get deletedKeys() {
      return deletedKeys;
    },
    async dispose() {
      await rm(folder, { recursive: true, force: true });
    },
    [Symbol.iterator]: live,
    async *[Symbol.asyncIterator]() {
      let count = 0;
      for (const record of live()) {
        yield record;
        // Let timers and signals run now and then during a long synchronous merge.
        if (++count % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}
