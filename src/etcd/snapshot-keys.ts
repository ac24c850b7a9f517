// Streams the entries of an etcd snapshot's `key` bucket (the MVCC history: one entry per revision, in
// revision order) with the bbolt walker: one page per tree level in memory at a time, whatever the size.
// Each entry's bytes are views into reused page buffers: copy what you keep.
import { constants, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { BoltWalker, parseMetaPage, type BoltMeta, type ByteSource } from './bbolt.js';
import { decodeKeyValueOffsets, type DecodedKeyValue, type KeyValueOffsets } from './protobuf-fields.js';
import { hasSha256Trailer } from './snapshot-file.js';

export interface KeyBucketEntry extends DecodedKeyValue {
  /** The revision this entry was written at (the bucket key): main and sub revision. */
  main: number;
  sub: number;
  /** A delete: the key does not exist from this revision on. */
  tombstone: boolean;
  /** The entry as stored (bucket key and value bytes), for hashes over the bucket. */
  rawKey: Buffer;
  rawValue: Buffer;
}

/** One entry as `walkKeyRevisions` sees it: one object reused for every entry, valid only during the call. */
export interface KeyRevisionView extends KeyValueOffsets {
  main: number;
  sub: number;
  tombstone: boolean;
  /** The stored mvccpb.KeyValue (offsets above point into it), a view into a reused page buffer. */
  kv: Buffer;
  /** The bucket key (the revision). */
  rawKey: Buffer;
}

export interface KeyBucketSummary {
  /** Entries of the `key` bucket (puts and deletes). */
  entries: number;
  /** Main revision of the last entry: the snapshot's revision. */
  revision: number;
  /** Structural problems met on the way (the walk goes on past them, as verification does). */
  problems: string[];
  pageSize: number;
  /** From the `meta` bucket: the last finished compaction, and one scheduled but maybe not finished
   *  (etcd finishes it when it starts). 0 when the database was never compacted. */
  finishedCompactRevision: number;
  scheduledCompactRevision: number;
}

const TRAILER_SIZE = 32;
/** Revision keys are 8-byte main, '_', 8-byte sub, and a trailing 't' for tombstones. */
const REVISION_KEY_SIZE = 17;

class SyncFileSource implements ByteSource {
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}
  read(position: number, length: number, scratch?: Buffer): Buffer {
    const wanted = Math.max(0, Math.min(length, this.size - position));
    const buffer = scratch && scratch.length >= wanted ? scratch.subarray(0, wanted) : Buffer.allocUnsafe(wanted);
    let done = 0;
    while (done < wanted) {
      const n = readSync(this.fd, buffer, done, wanted - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === wanted ? buffer : buffer.subarray(0, done);
  }
}

function chooseMeta(source: ByteSource): BoltMeta {
  const first = parseMetaPage(source.read(0, 4096) as Buffer, 0);
  const pageSize = 'meta' in first ? first.meta.pageSize : 4096;
  const second = parseMetaPage(source.read(pageSize, pageSize) as Buffer, 1);
  const valid = [first, second].flatMap((m) => ('meta' in m ? [m.meta] : []));
  valid.sort((a, b) => b.txid - a.txid);
  const chosen = valid[0];
  if (!chosen) throw new Error('no valid bbolt meta page: not an etcd snapshot, or corrupted');
  return chosen;
}

/** Parse a `key` bucket key; undefined when it is too short to be a revision. */
export function parseRevisionKey(key: Buffer): { main: number; sub: number; tombstone: boolean } | undefined {
  if (key.length < REVISION_KEY_SIZE) return undefined;
  return { main: Number(key.readBigUInt64BE(0)), sub: Number(key.readBigUInt64BE(9)), tombstone: key.length > REVISION_KEY_SIZE && key[17] === 0x74 };
}

/**
 * Calls `onEntry` for every entry of the `key` bucket, in revision order. Works on a snapshot (with its
 * sha256 trailer) and on a raw `member/snap/db`. Throws when the file is not a bbolt database.
 */
export async function walkKeyBucket(
  path: string,
  onEntry: (entry: KeyBucketEntry) => void,
  options: { signal?: AbortSignal } = {},
): Promise<KeyBucketSummary> {
  return walkKeyRevisions(
    path,
    (view) =>
      onEntry({
        key: view.kv.subarray(view.keyStart, view.keyEnd),
        createRevision: view.createRevision,
        modRevision: view.modRevision,
        version: view.version,
        value: view.kv.subarray(view.valueStart, view.valueEnd),
        lease: view.lease,
        main: view.main,
        sub: view.sub,
        tombstone: view.tombstone,
        rawKey: view.rawKey,
        rawValue: view.kv,
      }),
    options,
  );
}

/** As walkKeyBucket, without an object per entry: for a walk over millions of keys that keeps a few fields. */
export async function walkKeyRevisions(
  path: string,
  onEntry: (view: KeyRevisionView) => void,
  options: { signal?: AbortSignal } = {},
): Promise<KeyBucketSummary> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`${path} is not a regular file`);
    const dataSize = hasSha256Trailer(info.size) ? info.size - TRAILER_SIZE : info.size;
    const source = new SyncFileSource(handle.fd, dataSize);
    const meta = chooseMeta(source);
    let inKeyBucket = false;
    let inMetaBucket = false;
    const compaction = { finished: 0, scheduled: 0 };
    let entries = 0;
    let revision = 0;
    let badKeys = 0;
    const view: KeyRevisionView = {
      main: 0,
      sub: 0,
      tombstone: false,
      kv: EMPTY,
      rawKey: EMPTY,
      keyStart: 0,
      keyEnd: 0,
      valueStart: 0,
      valueEnd: 0,
      createRevision: 0,
      modRevision: 0,
      version: 0,
      lease: 0,
    };
    const walker = new BoltWalker(source, meta, options.signal ? { signal: options.signal } : {});
    const result = await walker.walk({
      bucket(name) {
        const text = name.toString('latin1');
        inKeyBucket = text === 'key';
        inMetaBucket = text === 'meta';
      },
      entry({ key, value }) {
        if (inMetaBucket && value) {
          const name = key.toString('latin1');
          const revision = value.length >= 8 ? Number(value.readBigUInt64BE(0)) : 0;
          if (name === 'finishedCompactRev') compaction.finished = revision;
          if (name === 'scheduledCompactRev') compaction.scheduled = revision;
        }
        if (!inKeyBucket || !value) return;
        if (key.length < REVISION_KEY_SIZE) {
          badKeys++;
          return;
        }
        entries++;
        view.main = revision = readUint64BE(key, 0);
        view.sub = readUint64BE(key, 9);
        view.tombstone = key.length > REVISION_KEY_SIZE && key[17] === 0x74;
        view.kv = value;
        view.rawKey = key;
        decodeKeyValueOffsets(value, view);
        onEntry(view);
      },
      notABucket() {
        // verification reports these; the key bucket is what matters here
      },
    });
    const problems = result.problems.map((p) => `${p.code}: ${p.message}`);
    if (badKeys > 0) problems.push(`${badKeys} key(s) in the key bucket are too short to be revisions`);
    return {
      entries,
      revision,
      problems,
      pageSize: meta.pageSize,
      finishedCompactRevision: compaction.finished,
      scheduledCompactRevision: compaction.scheduled,
    };
  } finally {
    await handle.close();
  }
}

const EMPTY = Buffer.alloc(0);

/** A big-endian u64 as a number without a BigInt per call (exact below 2^53, as revisions are). */
function readUint64BE(buffer: Buffer, offset: number): number {
  return buffer.readUInt32BE(offset) * 0x1_0000_0000 + buffer.readUInt32BE(offset + 4);
}
