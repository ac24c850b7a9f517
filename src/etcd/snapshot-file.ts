// Verifies an etcd snapshot file without etcdctl: the sha256 trailer, the bbolt structure, and the
// numbers `etcdctl snapshot status -w json` prints (hash, revision, totalKey, totalSize).
// Streaming: the file is read with positioned reads, a page (or a 4 MiB chunk) at a time, so memory
// stays flat whatever the snapshot size.
import { createHash } from 'node:crypto';
import { constants, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { BoltWalker, parseMetaPage, type BoltMeta, type BoltProblemCode, type ByteSource } from './bbolt.js';
import { Crc32c } from './crc32c.js';
import type { StreamDigests } from './partial-file.js';

/** What `etcdctl snapshot status -w json` prints (etcd 3.4/3.5 semantics). */
export interface EtcdSnapshotStatus {
  /** CRC-32C over each top-level bucket name followed by its keys and values, in key order. */
  hash: number;
  /** Main revision of the last key in the `key` bucket. */
  revision: number;
  /** Count of entries in all top-level buckets (3.4/3.5 count every bucket, not just `key`). */
  totalKey: number;
  /** bbolt high water mark times page size: the database size without the trailer. */
  totalSize: number;
}

export type SnapshotProblemCode =
  | BoltProblemCode
  | 'file.unreadable'
  | 'file.size'
  | 'file.truncated'
  | 'trailer.mismatch'
  | 'trailer.missing'
  | 'meta.bad'
  | 'etcd.not-a-bucket'
  | 'etcd.no-key-bucket'
  | 'etcd.bad-revision-key'
  | 'expected.mismatch'
  | 'aborted';

export interface SnapshotProblem {
  code: SnapshotProblemCode;
  message: string;
}

interface SnapshotReportBase {
  path: string;
  fileSize: number;
  /** The file ends with etcd's sha256 trailer (size % 512 == 32): a file from `snapshot save` or the Snapshot RPC.
   *  false for a raw `member/snap/db` copied out of a data dir (restore then needs --skip-hash-check). */
  hasHash: boolean;
  /** sha256 of the whole file in hex, as `sha256sum` prints it (recorded in the catalog, checked after copies). */
  sha256: string;
  /** Top-level bucket names, in order. */
  buckets: string[];
  meta?: { pageSize: number; txid: number; pgid: number };
  durationMs: number;
}

export interface SnapshotReportOk extends SnapshotReportBase {
  ok: true;
  status: EtcdSnapshotStatus;
  problems: [];
}

export interface SnapshotReportFailed extends SnapshotReportBase {
  ok: false;
  /** Never empty. */
  problems: SnapshotProblem[];
  /** Present when the tree could be walked despite the problems (e.g. only the trailer is wrong). */
  status?: EtcdSnapshotStatus;
}

export type SnapshotReport = SnapshotReportOk | SnapshotReportFailed;

/** What a verified snapshot is, as restore, drill and pull describe it. */
export function verifiedFacts(report: SnapshotReportOk): { sha256: string; size: number; revision: number; totalKey: number } {
  return { sha256: report.sha256, size: report.fileSize, revision: report.status.revision, totalKey: report.status.totalKey };
}

export interface VerifyOptions {
  /** Treat a file without the sha256 trailer as a failure (backups taken through etcd always have one). */
  requireHash?: boolean;
  /** Values recorded when the snapshot was taken (catalog): a file whose trailer was rewritten after
   *  damage passes the sha256 check but not these. */
  expect?: { sha256?: string; hash?: number; revision?: number; totalKey?: number };
  /** Digests computed while the file was received (PartialFile): skips re-reading the file to hash it. */
  digests?: StreamDigests;
  signal?: AbortSignal;
}

const TRAILER_SIZE = 32;
const CHUNK_SIZE = 4 * 1024 * 1024;

/** etcd's own rule (snapshot restore): a trailer is present when size % 512 == 32. */
export function hasSha256Trailer(fileSize: number): boolean {
  return fileSize % 512 === TRAILER_SIZE;
}

/** Reads a file with synchronous positioned reads: one syscall per page from the page cache is several
 *  times faster than a thread-pool round trip per page; the walker yields to the event loop regularly. */
function readInto(fd: number, position: number, length: number, scratch?: Buffer): Buffer {
  const buffer = scratch && scratch.length >= length ? scratch.subarray(0, length) : Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

class FileSource implements ByteSource {
  constructor(
    private readonly fd: number,
    public size: number,
  ) {}
  read(position: number, length: number, scratch?: Buffer): Buffer {
    return readInto(this.fd, position, Math.max(0, Math.min(length, this.size - position)), scratch);
  }
}

/** A file still being written: a read waits until the writer has flushed that far (or finished). */
export interface GrowingFile {
  readonly path: string;
  /** Resolves true once `bytes` bytes are on disk, false if the file ended (or failed) before. */
  waitFor(bytes: number): Promise<boolean>;
}

class GrowingSource implements ByteSource {
  /** Set from the meta page once known: the database size the walker may read up to. */
  size = Number.MAX_SAFE_INTEGER;
  constructor(
    private readonly fd: number,
    private readonly file: GrowingFile,
  ) {}
  async read(position: number, length: number, scratch?: Buffer): Promise<Buffer> {
    const end = Math.min(position + length, this.size);
    await this.file.waitFor(end);
    return readInto(this.fd, position, Math.max(0, end - position), scratch);
  }
}

/** sha256 of the data part and of the whole file in one sequential pass. */
async function hashFile(
  handle: FileHandle,
  fileSize: number,
  dataSize: number,
  signal?: AbortSignal,
): Promise<{ data: Buffer; whole: string; trailer: Buffer }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  let position = 0;
  let dataDigest: Buffer | undefined;
  const trailer = Buffer.alloc(fileSize - dataSize);
  while (position < fileSize) {
    signal?.throwIfAborted();
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_SIZE, fileSize - position), position);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    if (!dataDigest && position + bytesRead >= dataSize) {
      const split = dataSize - position;
      hash.update(chunk.subarray(0, split));
      dataDigest = hash.copy().digest();
      chunk.copy(trailer, 0, split);
      hash.update(chunk.subarray(split));
    } else {
      hash.update(chunk);
    }
    position += bytesRead;
  }
  return { data: dataDigest ?? hash.copy().digest(), whole: hash.digest('hex'), trailer };
}

/** Read the two meta pages and pick the valid one with the higher txid, as bbolt does on open. */
async function chooseMeta(source: ByteSource): Promise<{ meta: BoltMeta } | { problem: string }> {
  const first = parseMetaPage(await source.read(0, 4096), 0);
  // bbolt reads the page size from meta 0; if meta 0 is damaged it assumes the OS page size (4096).
  const pageSize = 'meta' in first ? first.meta.pageSize : 4096;
  const second = parseMetaPage(await source.read(pageSize, pageSize), 1);
  const candidates = [first, second].filter((m): m is { meta: BoltMeta } => 'meta' in m).map((m) => m.meta);
  candidates.sort((a, b) => b.txid - a.txid);
  const chosen = candidates[0];
  if (!chosen) {
    const reason = (m: typeof first) => ('reason' in m ? m.reason : 'ok');
    return { problem: `no valid bbolt meta page (meta 0: ${reason(first)}; meta 1: ${reason(second)}): not an etcd snapshot, or corrupted` };
  }
  return { meta: chosen };
}

interface TreeFindings {
  meta?: BoltMeta;
  status?: EtcdSnapshotStatus;
  buckets: string[];
  problems: SnapshotProblem[];
}

/** The structure part: meta pages, the tree walk, and the numbers etcdctl prints. */
async function examineTree(source: ByteSource, signal: AbortSignal | undefined, onMeta?: (meta: BoltMeta) => void): Promise<TreeFindings> {
  const problems: SnapshotProblem[] = [];
  const buckets: string[] = [];
  const chosen = await chooseMeta(source);
  if ('problem' in chosen) return { buckets, problems: [{ code: 'meta.bad', message: chosen.problem }] };
  const { meta } = chosen;
  onMeta?.(meta);
  const crc = new Crc32c();
  let totalKey = 0;
  let revision = 0;
  let inKeyBucket = false;
  let badRevisionKeys = 0;
  const walker = new BoltWalker(source, meta, signal ? { signal } : {});
  // The order below is etcdctl's (snapshot status): for each top-level bucket in key order, its name,
  // then each key and value in key order; a nested bucket's entry contributes its key only.
  const walk = await walker.walk({
    bucket(name) {
      crc.update(name);
      const text = name.toString('utf8');
      buckets.push(text);
      inKeyBucket = text === 'key';
    },
    entry({ key, value }) {
      crc.update(key);
      if (value) crc.update(value);
      totalKey++;
      if (inKeyBucket) {
        // Keys of the `key` bucket are revisions: 8-byte big-endian main, '_', 8-byte sub (+ 't' for tombstones).
        if (key.length >= 17) revision = Number(key.readBigUInt64BE(0));
        else badRevisionKeys++;
      }
    },
    notABucket(key) {
      problems.push({
        code: 'etcd.not-a-bucket',
        message: `top-level key ${JSON.stringify(key.toString('latin1'))} is not a bucket (etcdctl: cannot get hash of bucket)`,
      });
    },
  });
  for (const p of walk.problems) problems.push(p);
  if (walk.droppedProblems > 0)
    problems.push({ code: walk.problems[0]?.code ?? 'page.bad-element', message: `... and ${walk.droppedProblems} more structural problems` });
  if (!buckets.includes('key')) problems.push({ code: 'etcd.no-key-bucket', message: 'no `key` bucket: this bbolt file is not an etcd database' });
  if (badRevisionKeys > 0)
    problems.push({ code: 'etcd.bad-revision-key', message: `${badRevisionKeys} key(s) in the \`key\` bucket are too short to be revisions` });
  return { meta, buckets, problems, status: { hash: crc.digest(), revision, totalKey, totalSize: meta.pgid * meta.pageSize } };
}

interface FileFacts {
  fileSize: number;
  sha256: string;
  dataSha256: Buffer;
  trailer: Buffer;
}

/** Put the size/trailer facts and the tree findings together into one report. */
function compose(path: string, facts: FileFacts, tree: TreeFindings, options: VerifyOptions, started: number): SnapshotReport {
  const problems: SnapshotProblem[] = [];
  const hasHash = hasSha256Trailer(facts.fileSize);
  const dataSize = hasHash ? facts.fileSize - TRAILER_SIZE : facts.fileSize;
  if (!hasHash && facts.fileSize % 512 !== 0) {
    problems.push({
      code: 'file.size',
      message: `size ${facts.fileSize} is neither a multiple of 512 (a raw bbolt db) nor 512n+32 (a snapshot with its sha256 trailer): the file is truncated or has bytes appended`,
    });
  } else if (!hasHash && options.requireHash) {
    problems.push({
      code: 'trailer.missing',
      message: 'no sha256 trailer: this is a raw bbolt db, not a file from etcd snapshot save (or its last 32 bytes were cut off)',
    });
  }
  if (hasHash && !facts.dataSha256.equals(facts.trailer)) {
    problems.push({
      code: 'trailer.mismatch',
      message: 'the sha256 trailer does not match the content: the file was changed or damaged after etcd wrote it',
    });
  }
  if (tree.status && tree.status.totalSize > dataSize) {
    problems.push({
      code: 'file.truncated',
      message: `the database needs ${tree.status.totalSize} bytes (${tree.meta?.pgid ?? 0} pages of ${tree.meta?.pageSize ?? 0}) but the file holds ${dataSize}: it is truncated`,
    });
  }
  problems.push(...tree.problems);
  if (tree.status) {
    const expected = options.expect ?? {};
    const compare = (what: string, recorded: string | number | undefined, actual: string | number) => {
      if (recorded !== undefined && recorded !== actual)
        problems.push({ code: 'expected.mismatch', message: `${what} is ${actual} but ${recorded} was recorded when the snapshot was taken` });
    };
    compare('sha256', expected.sha256, facts.sha256);
    compare('hash', expected.hash, tree.status.hash);
    compare('revision', expected.revision, tree.status.revision);
    compare('totalKey', expected.totalKey, tree.status.totalKey);
  }
  const base: SnapshotReportBase = {
    path,
    fileSize: facts.fileSize,
    hasHash,
    sha256: facts.sha256,
    buckets: tree.buckets,
    ...(tree.meta ? { meta: { pageSize: tree.meta.pageSize, txid: tree.meta.txid, pgid: tree.meta.pgid } } : {}),
    durationMs: Date.now() - started,
  };
  if (problems.length === 0 && tree.status) return { ...base, ok: true, status: tree.status, problems: [] };
  return { ...base, ok: false, problems, ...(tree.status ? { status: tree.status } : {}) };
}

function failedReport(path: string, started: number, problem: SnapshotProblem, fileSize = 0): SnapshotReportFailed {
  return { path, fileSize, hasHash: false, sha256: '', buckets: [], durationMs: Date.now() - started, ok: false, problems: [problem] };
}

/** Verify one snapshot file. Never throws for a bad file: problems come back in the report. */
export async function verifySnapshotFile(path: string, options: VerifyOptions = {}): Promise<SnapshotReport> {
  const started = Date.now();
  let handle: FileHandle;
  try {
    // Non-blocking, so a FIFO given as a snapshot is refused below instead of waiting for a writer.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return failedReport(path, started, { code: 'file.unreadable', message: `cannot open ${path}: ${(error as Error).message}` });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return failedReport(path, started, { code: 'file.unreadable', message: `${path} is not a regular file` });
    const dataSize = hasSha256Trailer(stat.size) ? stat.size - TRAILER_SIZE : stat.size;
    const known = options.digests;
    const digests =
      known && known.bytes === stat.size && known.tail.length >= stat.size - dataSize
        ? { data: known.dataSha256, whole: known.sha256, trailer: known.tail.subarray(known.tail.length - (stat.size - dataSize)) }
        : await hashFile(handle, stat.size, dataSize, options.signal);
    const tree = await examineTree(new FileSource(handle.fd, dataSize), options.signal);
    return compose(path, { fileSize: stat.size, sha256: digests.whole, dataSha256: digests.data, trailer: digests.trailer }, tree, options, started);
  } catch (error) {
    const code = options.signal?.aborted ? 'aborted' : 'file.unreadable';
    return failedReport(path, started, {
      code,
      message: options.signal?.aborted ? `verification of ${path} was interrupted` : `cannot read ${path}: ${(error as Error).message}`,
    });
  } finally {
    await handle.close();
  }
}

/**
 * Verify a snapshot while it is being received: the tree walk follows the writer (a page is read as
 * soon as it is on disk), so most of the verification is done when the last byte arrives. `finished`
 * resolves with the digests once the writer is done (or rejects if the transfer failed).
 */
export async function verifyWhileReceiving(
  file: GrowingFile,
  finished: Promise<StreamDigests>,
  options: VerifyOptions = {},
): Promise<SnapshotReport> {
  const started = Date.now();
  const handle = await open(file.path, 'r');
  try {
    const source = new GrowingSource(handle.fd, file);
    // The walk may stop early on a damaged tree; the digests still need the end of the stream.
    const tree = await examineTree(source, options.signal, (meta) => {
      source.size = meta.pgid * meta.pageSize;
    });
    const digests = await finished;
    const dataSize = hasSha256Trailer(digests.bytes) ? digests.bytes - TRAILER_SIZE : digests.bytes;
    return compose(
      file.path,
      {
        fileSize: digests.bytes,
        sha256: digests.sha256,
        dataSha256: digests.dataSha256,
        trailer: digests.tail.subarray(digests.tail.length - (digests.bytes - dataSize)),
      },
      tree,
      options,
      started,
    );
  } finally {
    await handle.close();
  }
}

/** One line per problem, for CLI output and catalog records. */
export function describeProblems(report: SnapshotReport): string {
  return report.problems.map((p) => `${p.code}: ${p.message}`).join('; ');
}
