// Readers of files that live on a member, written as generators that ask for byte ranges: the same reader
// runs over SSH (each request is one read-only `dd` on the member, see read-commands.ts), over a local
// file, or over a buffer in a unit test. Only the ranges a reader asks for cross the network.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';

/** Up to `length` bytes of `file` from `offset` (fewer at the end of the file). */
export interface ByteRequest {
  file: string;
  offset: number;
  length: number;
}

/** A reader: yields byte requests, receives the bytes, returns what it found. */
export type ByteReader<T> = Generator<ByteRequest, T, Buffer>;

/** Run a reader against bytes kept in memory (unit tests), by file name. */
export function runOverBuffers<T>(reader: ByteReader<T>, files: ReadonlyMap<string, Buffer>): T {
  let step = reader.next();
  while (!step.done) {
    const { file, offset, length } = step.value;
    const data = files.get(file) ?? Buffer.alloc(0);
    step = reader.next(data.subarray(Math.min(offset, data.length), Math.min(offset + length, data.length)));
  }
  return step.value;
}

/** Run a reader against local files (the deploy host, a test's data dir). */
export function runOverLocalFiles<T>(reader: ByteReader<T>): T {
  let step = reader.next();
  while (!step.done) {
    const { file, offset, length } = step.value;
    let data = Buffer.alloc(0);
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      const size = fstatSync(fd).size;
      const wanted = Math.max(0, Math.min(length, size - offset));
      data = Buffer.alloc(wanted);
      let done = 0;
      while (done < wanted) {
        const n = readSync(fd, data, done, wanted - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      data = data.subarray(0, done);
    } catch {
      data = Buffer.alloc(0);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    step = reader.next(data);
  }
  return step.value;
}

/**
 * A window over one file that asks for more than it needs, growing as it goes (1 MiB, 2, 4 ... up to
 * `maxChunk`): a sequential reader then costs a few requests per file instead of one per record.
 */
export class ReadWindow {
  private start = 0;
  private data: Buffer = Buffer.alloc(0);
  private chunk: number;

  constructor(
    readonly file: string,
    readonly size: number,
    private readonly options: { firstChunk?: number; maxChunk?: number; align?: number } = {},
  ) {
    this.chunk = options.firstChunk ?? 1024 * 1024;
  }

  /** `length` bytes at `offset`, or fewer when the file ends first. */
  *bytes(offset: number, length: number): ByteReader<Buffer> {
    const end = Math.min(offset + length, this.size);
    if (offset >= this.start && end <= this.start + this.data.length) return this.data.subarray(offset - this.start, end - this.start);
    if (offset >= this.size) return Buffer.alloc(0);
    const align = this.options.align ?? 4096;
    const from = offset - (offset % align);
    const wanted = Math.max(end - from, this.chunk);
    this.chunk = Math.min(this.chunk * 2, this.options.maxChunk ?? 16 * 1024 * 1024);
    const got = yield { file: this.file, offset: from, length: Math.min(wanted, this.size - from) };
    this.start = from;
    this.data = got;
    return got.subarray(Math.min(offset - from, got.length), Math.min(end - from, got.length));
  }
}
