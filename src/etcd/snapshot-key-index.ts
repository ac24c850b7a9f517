// The latest state of every key in a snapshot, in key order, with bounded memory: the `key` bucket is read
// once (revision order), cut into sorted runs of at most `memoryBytes`, and the runs are merged. A snapshot
// whose keys fit in one run never touches the disk. Run files live in an owner-only folder the caller
// gives and are removed by `dispose()` (a key's name can say what a cluster holds, never its value).
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32cUpdate } from './crc32c.js';
import { compareKeys, latestPerKey, recordFootprint, RunHeap, RunReader, writeRun, type KeyRecord } from './key-runs.js';
import { walkKeyBucket, type KeyBucketSummary } from './snapshot-keys.js';

export interface SnapshotKeyIndexOptions {
  /** Folder for run files (a private subfolder is made in it). Default: no spilling allowed beyond memory. */
  workDir: string;
  /** Memory for one run before it goes to disk. Default 64 MiB. */
  memoryBytes?: number;
  /** Compute a CRC-32C of every value (for content checks); a diff needs only revisions. */
  valueDigests?: boolean;
  /** Only keys starting with this (latin1) prefix. */
  prefix?: string;
  signal?: AbortSignal;
}

export interface SnapshotKeyIndex extends AsyncIterable<KeyRecord> {
  summary: KeyBucketSummary;
  /** Runs written to disk (0 when everything fit in memory). */
  runs: number;
  /** Keys whose latest entry is a delete are skipped by the iterator; counted here while iterating. */
  readonly deletedKeys: number;
  dispose(): Promise<void>;
}

const DEFAULT_MEMORY = 64 * 1024 * 1024;

/** Read the snapshot's `key` bucket into sorted runs; iterate the result for live keys in key order. */
export async function indexSnapshotKeys(path: string, options: SnapshotKeyIndexOptions): Promise<SnapshotKeyIndex> {
  const budget = options.memoryBytes ?? DEFAULT_MEMORY;
  const prefix = options.prefix ?? '';
  const folder = await mkdtemp(join(options.workDir, 'keys-'));
  const runFiles: string[] = [];
  let chunk: KeyRecord[] = [];
  let chunkBytes = 0;
  let pendingWrite: Promise<void> = Promise.resolve();
  const flush = (): void => {
    // Stable sort: equal keys keep revision order, so the last of each is the newest.
    const sorted = latestPerKey(chunk.sort(compareKeys));
    const file = join(folder, `run-${runFiles.length}`);
    runFiles.push(file);
    pendingWrite = pendingWrite.then(() => writeRun(file, sorted));
    chunk = [];
    chunkBytes = 0;
  };
  try {
    const summary = await walkKeyBucket(
      path,
      (entry) => {
        const key = entry.key.toString('latin1');
        if (prefix && !key.startsWith(prefix)) return;
        const record: KeyRecord = {
          key,
          main: entry.main,
          sub: entry.sub,
          tombstone: entry.tombstone,
          createRevision: entry.createRevision,
          modRevision: entry.tombstone ? entry.main : entry.modRevision,
          version: entry.version,
          valueSize: entry.value.length,
          valueCrc: options.valueDigests && entry.value.length > 0 ? crc32cUpdate(0, entry.value) : 0,
        };
        chunk.push(record);
        chunkBytes += recordFootprint(record);
        if (chunkBytes >= budget) flush();
      },
      options.signal ? { signal: options.signal } : {},
    );
    if (runFiles.length > 0 && chunk.length > 0) flush();
    await pendingWrite;
    const inMemory = runFiles.length === 0 ? latestPerKey(chunk.sort(compareKeys)) : undefined;
    chunk = [];
    return makeIndex(summary, folder, runFiles, inMemory);
  } catch (error) {
    await pendingWrite.catch(() => undefined);
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

function makeIndex(summary: KeyBucketSummary, folder: string, runFiles: string[], inMemory: KeyRecord[] | undefined): SnapshotKeyIndex {
  let deletedKeys = 0;
  const index: SnapshotKeyIndex = {
    summary,
    runs: runFiles.length,
    get deletedKeys() {
      return deletedKeys;
    },
    async dispose() {
      await rm(folder, { recursive: true, force: true });
    },
    async *[Symbol.asyncIterator]() {
      const source = inMemory ? inMemory : mergeRuns(runFiles);
      for await (const record of source) {
        if (record.tombstone) deletedKeys++;
        else yield record;
      }
    },
  };
  return index;
}

/** k-way merge of key-sorted runs; for a key in several runs, the later run (newer revision) wins. */
async function* mergeRuns(files: readonly string[]): AsyncGenerator<KeyRecord> {
  const readers = await Promise.all(files.map((file) => RunReader.open(file)));
  try {
    const heap = new RunHeap();
    for (const [run, reader] of readers.entries()) {
      const record = await reader.next();
      if (record) heap.push({ record, run });
    }
    let pending: KeyRecord | undefined;
    while (heap.size > 0) {
      const top = heap.pop();
      if (!top) break;
      const next = await readers[top.run]?.next();
      if (next) heap.push({ record: next, run: top.run });
      if (pending && pending.key !== top.record.key) yield pending;
      pending = top.record;
    }
    if (pending) yield pending;
  } finally {
    await Promise.all(readers.map((reader) => reader.close()));
  }
}
