// A file being received (a snapshot stream, a copy): written under a temporary name that no listing
// takes for a snapshot, hashed on the way in, fsynced, and only renamed by an explicit commit.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { link, open, rm, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDirectory } from './fs-sync.js';

const TRAILER_SIZE = 32;
/** Chunks from gRPC are 32 KiB; writing 1 MiB at a time cuts syscalls and thread-pool round trips 32-fold. */
const WRITE_BUFFER_SIZE = 1024 * 1024;

/** Digests computed while the bytes arrived, so verification need not read the file twice. */
export interface StreamDigests {
  /** sha256 of everything but the last 32 bytes (what etcd's trailer must equal). */
  dataSha256: Buffer;
  /** The last 32 bytes of the file (etcd's trailer, if it has one). */
  tail: Buffer;
  /** sha256 of the whole file, hex. */
  sha256: string;
  bytes: number;
}

/** Name of the temporary file for `dest`: never ends in `.db`, so listings never take it for a snapshot. */
export function partialPathFor(dest: string): string {
  return `${dest}.partial-${randomBytes(6).toString('hex')}`;
}

/** True for temporary files left by an interrupted stream or copy. */
export function isPartialName(name: string): boolean {
  return /\.(partial|tmp)-[0-9a-f]+$/.test(name);
}

export class PartialFile {
  private handle: FileHandle | undefined;
  private readonly hash: Hash = createHash('sha256');
  private tail: Buffer = Buffer.alloc(0);
  private pending: Buffer = Buffer.allocUnsafeSlow(WRITE_BUFFER_SIZE);
  private spare: Buffer = Buffer.allocUnsafeSlow(WRITE_BUFFER_SIZE);
  private pendingBytes = 0;
  private inFlight: Promise<void> | undefined;
  private settled = false;
  /** Bytes handed to `append` so far. */
  bytes = 0;
  /** Bytes actually written to the file (readable by a concurrent verifier). */
  flushedBytes = 0;
  private waiters: { bytes: number; resolve: (reached: boolean) => void }[] = [];
  private ended = false;

  private constructor(
    readonly path: string,
    handle: FileHandle,
  ) {
    this.handle = handle;
  }

  /** Create `<dest>.partial-<random>` exclusively (never follows or reuses an existing file), mode 0600. */
  static async create(dest: string): Promise<PartialFile> {
    const path = partialPathFor(dest);
    const handle = await open(path, 'wx', 0o600);
    return new PartialFile(path, handle);
  }

  /** For a concurrent reader: resolves true once `bytes` bytes are on disk, false if the file ended before. */
  waitFor(bytes: number): Promise<boolean> {
    if (this.flushedBytes >= bytes) return Promise.resolve(true);
    if (this.ended) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  private release(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (this.flushedBytes >= waiter.bytes) waiter.resolve(true);
      else if (this.ended) waiter.resolve(false);
      else this.waiters.push(waiter);
    }
  }

  /** No more bytes will come (finished or failed): wake every reader. */
  private end(): void {
    this.ended = true;
    this.release();
  }

  async append(chunk: Buffer): Promise<void> {
    if (!this.handle) throw new Error(`${this.path} is closed`);
    this.bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, WRITE_BUFFER_SIZE - this.pendingBytes);
      chunk.copy(this.pending, this.pendingBytes, offset, offset + n);
      this.pendingBytes += n;
      offset += n;
      if (this.pendingBytes === WRITE_BUFFER_SIZE) await this.flush();
    }
  }

  /** Hash all but the last 32 bytes seen so far; keep those back in case they are the trailer. */
  private hashWithHoldback(chunk: Buffer): void {
    if (chunk.length >= TRAILER_SIZE) {
      if (this.tail.length > 0) this.hash.update(this.tail);
      this.hash.update(chunk.subarray(0, chunk.length - TRAILER_SIZE));
      this.tail = Buffer.from(chunk.subarray(chunk.length - TRAILER_SIZE));
    } else {
      const joined = Buffer.concat([this.tail, chunk]);
      const keep = Math.min(TRAILER_SIZE, joined.length);
      this.hash.update(joined.subarray(0, joined.length - keep));
      this.tail = Buffer.from(joined.subarray(joined.length - keep));
    }
  }

  /**
   * Hand the full buffer to the disk and keep receiving into the other one: the write runs in the
   * thread pool while the next megabyte arrives (double buffering), so the network is not paused for
   * every write. Waits only when the previous write is still running.
   */
  private async flush(): Promise<void> {
    const handle = this.handle;
    if (!handle || this.pendingBytes === 0) return;
    await this.settleWrite();
    const buffer = this.pending;
    const length = this.pendingBytes;
    this.hashWithHoldback(buffer.subarray(0, length));
    [this.pending, this.spare] = [this.spare, this.pending];
    this.pendingBytes = 0;
    this.inFlight = (async () => {
      let written = 0;
      while (written < length) {
        const { bytesWritten } = await handle.write(buffer, written, length - written);
        written += bytesWritten;
      }
      this.flushedBytes += length;
      this.release();
    })();
    // A failed write surfaces at the next flush or at finish, never as an unhandled rejection.
    this.inFlight.catch(() => undefined);
  }

  private async settleWrite(): Promise<void> {
    const running = this.inFlight;
    this.inFlight = undefined;
    if (running) await running;
  }

  /** Flush, fsync and close; returns the digests. The file keeps its temporary name. */
  async finish(): Promise<StreamDigests> {
    try {
      await this.flush();
      await this.settleWrite();
    } finally {
      this.end();
    }
    const handle = this.handle;
    if (!handle) throw new Error(`${this.path} is closed`);
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    const dataSha256 = this.hash.copy().digest();
    this.hash.update(this.tail);
    return { dataSha256, tail: this.tail, sha256: this.hash.digest('hex'), bytes: this.bytes };
  }

  /** Move to the final name (after verification), never replacing an existing file (link fails with
   *  EEXIST where rename would overwrite), then fsync the directory. */
  async commit(finalPath: string): Promise<string> {
    if (this.settled) throw new Error(`${this.path} was already committed or discarded`);
    if (this.handle) throw new Error(`${this.path} is not finished`);
    await link(this.path, finalPath);
    await unlink(this.path);
    this.settled = true;
    await fsyncDirectory(dirname(finalPath));
    return finalPath;
  }

  /** Close (if open) and delete the temporary file. Safe to call more than once. */
  async discard(): Promise<void> {
    this.settled = true;
    this.end();
    await this.settleWrite().catch(() => undefined);
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}
