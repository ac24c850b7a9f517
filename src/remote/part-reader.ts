// Cuts a byte stream into parts of a fixed size, in a small pool of reused buffers (memory stays at
// (parts in flight + 1) x part size whatever the object's size), hashing as it goes: each part's MD5 and
// SHA-256 (sent with the part, checked by the server) and the SHA-256 of the whole object.
import { createHash, type Hash } from 'node:crypto';

export interface Part {
  number: number;
  /** A view of a pooled buffer: release it with PartReader.release once the part is stored. */
  data: Buffer;
  md5: Buffer;
  sha256: Buffer;
}

export class PartReader {
  private readonly iterator: AsyncIterator<Buffer | Uint8Array>;
  private readonly pool: Buffer[] = [];
  private readonly whole: Hash = createHash('sha256');
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
    return { number: this.count, data, md5: createHash('md5').update(data).digest(), sha256: createHash('sha256').update(data).digest() };
  }

  /** Give a part's buffer back to the pool. */
  release(part: Part): void {
    this.pool.push(Buffer.from(part.data.buffer, part.data.byteOffset, this.partSize));
  }

  /** After the last part: the SHA-256 (hex) and size of everything read. */
  finish(): { sha256: string; size: number; parts: number } {
    return { sha256: this.whole.digest('hex'), size: this.total, parts: this.count };
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
