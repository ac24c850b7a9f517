// Cuts a byte stream into parts of a fixed size, in a small pool of reused buffers (memory stays at
// (parts in flight + 1) x part size whatever the object's size), hashing as it goes: the SHA-256 of the
// whole object always; per part, the hashes the server checks (SHA-256 for a server that keeps checksums,
// MD5 for one that checks Content-MD5 and builds its ETag from it); and, until the server has shown it
// keeps SHA-256 checksums, the MD5 of the whole object (what some servers give as a multipart ETag).
// Hashing is most of the CPU an upload costs, so nothing is hashed that the server cannot check.
import { createHash, type Hash } from 'node:crypto';

export interface Part {
  number: number;
  /** A view of a pooled buffer: release it with PartReader.release once the part is stored. */
  data: Buffer;
  md5?: Buffer;
  sha256?: Buffer;
}

/** Which per-part hashes to compute: both until the first answer tells what the server checks. */
export type PartHashes = 'both' | 'sha256' | 'md5';

export class PartReader {
  private readonly iterator: AsyncIterator<Buffer | Uint8Array>;
  private readonly pool: Buffer[] = [];
  private readonly whole: Hash = createHash('sha256');
  private wholeMd5: Hash | undefined = createHash('md5');
  private hashes: PartHashes = 'both';
  private carry: Buffer | undefined;
  private ended = false;
  private count = 0;
  private total = 0;

  constructor(
    private readonly source: AsyncIterable<Buffer | Uint8Array>,
    readonly partSize: number,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** The next part, or undefined at the end. The first call on an empty stream gives one empty part. */
  async next(): Promise<Part | undefined> {
    if (this.ended && !this.carry) return undefined;
    const buffer = this.pool.pop() ?? Buffer.allocUnsafe(this.partSize);
    let filled = 0;
    while (filled < this.partSize) {
      let chunk = this.carry;
      this.carry = undefined;
      if (!chunk) {
        if (this.ended) break;
        const step = await this.iterator.next();
        if (step.done) {
          this.ended = true;
          break;
        }
        chunk = Buffer.isBuffer(step.value) ? step.value : Buffer.from(step.value.buffer, step.value.byteOffset, step.value.byteLength);
      }
      const take = Math.min(chunk.length, this.partSize - filled);
      chunk.copy(buffer, filled, 0, take);
      filled += take;
      if (take < chunk.length) this.carry = chunk.subarray(take);
    }
    if (filled === 0 && this.count > 0) {
      this.pool.push(buffer);
      return undefined;
    }
    const data = buffer.subarray(0, filled);
    this.whole.update(data);
    this.total += filled;
    this.count += 1;
    this.wholeMd5?.update(data);
    return {
      number: this.count,
      data,
      ...(this.hashes !== 'sha256' ? { md5: createHash('md5').update(data).digest() } : {}),
      ...(this.hashes !== 'md5' ? { sha256: createHash('sha256').update(data).digest() } : {}),
    };
  }

  /** From now on compute only these per-part hashes; a server keeping SHA-256 checksums needs no whole-object MD5. */
  useHashes(hashes: PartHashes): void {
    this.hashes = hashes;
    if (hashes === 'sha256') this.wholeMd5 = undefined;
  }

  /** Give a part's buffer back to the pool. */
  release(part: Part): void {
    this.pool.push(Buffer.from(part.data.buffer, part.data.byteOffset, this.partSize));
  }

  /** After the last part: the SHA-256 (hex) and size of everything read. */
  finish(): { sha256: string; md5?: string; size: number; parts: number } {
    return { sha256: this.whole.digest('hex'), ...(this.wholeMd5 ? { md5: this.wholeMd5.digest('hex') } : {}), size: this.total, parts: this.count };
  }

  /** Stop reading the source (after a failure). */
  async cancel(): Promise<void> {
    this.ended = true;
    this.carry = undefined;
    await this.iterator.return?.();
    // A stream not yet iterated has no iterator state to end: destroy it directly.
    const stream = this.source as { destroy?: () => void };
    if (typeof stream.destroy === 'function') stream.destroy();
  }
}
