// Sorted runs for an external merge sort of key records: a snapshot's `key` bucket is in revision order, a
// diff needs key order, and holding every key of a 1 M-key cluster in memory is what we avoid. A run is
// built in a RunBuffer (the keys as strings, every number in typed arrays: no object per record, so the
// garbage collector has little to trace), sorted, and written to a file that is read back with one
// fixed-size buffer. Everything here is synchronous: files in a private temporary folder, read and written
// in blocks of 1 MiB, cost less than a promise per record.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/** The latest state of one key, as much as a diff or a content check needs (no value bytes). */
export interface KeyRecord {
  /** The key as a latin1 string: one char per byte, so string order is etcd's byte order. */
  key: string;
  /** Revision of the entry (main, sub). */
  main: number;
  sub: number;
  tombstone: boolean;
  createRevision: number;
  modRevision: number;
  version: number;
  valueSize: number;
  /** CRC-32C of the value (0 when not computed). */
  valueCrc: number;
}

const FIXED_SIZE = 4 + 8 + 4 + 1 + 8 + 8 + 8 + 4 + 4;
const BLOCK = 1 << 20;
/** Float64 fields per record: main, createRevision, modRevision, version. */
const F = 4;
/** Uint32 fields per record: sub, valueSize, valueCrc. */
const U = 3;

/** Key records in arrival (revision) order, until sorted and written out. */
export class RunBuffer {
  private keys: string[] = [];
  private floats = new Float64Array(F * 1024);
  private uints = new Uint32Array(U * 1024);
  private tombstones = new Uint8Array(1024);
  /** Rough memory held: the key strings, their slots and the typed arrays. */
  bytes = 0;

  get length(): number {
    return this.keys.length;
  }

  add(
    key: string,
    main: number,
    sub: number,
    tombstone: boolean,
    createRevision: number,
    modRevision: number,
    version: number,
    valueSize: number,
    valueCrc: number,
  ): void {
    const i = this.keys.length;
    if (i === this.tombstones.length) this.grow();
    this.keys.push(key);
    const f = i * F;
    this.floats[f] = main;
    this.floats[f + 1] = createRevision;
    this.floats[f + 2] = modRevision;
    this.floats[f + 3] = version;
    const u = i * U;
    this.uints[u] = sub;
    this.uints[u + 1] = valueSize;
    this.uints[u + 2] = valueCrc;
    this.tombstones[i] = tombstone ? 1 : 0;
    this.bytes += 72 + key.length;
  }

  private grow(): void {
    const size = this.tombstones.length * 2;
    const floats = new Float64Array(F * size);
    floats.set(this.floats);
    const uints = new Uint32Array(U * size);
    uints.set(this.uints);
    const tombstones = new Uint8Array(size);
    tombstones.set(this.tombstones);
    [this.floats, this.uints, this.tombstones] = [floats, uints, tombstones];
  }

  /** Indexes in key order, only the newest entry of each key (equal keys arrive in revision order). */
  latestInKeyOrder(): number[] {
    const keys = this.keys;
    const order = Array.from({ length: keys.length }, (_, i) => i);
    order.sort((a, b) => {
      const x = keys[a] ?? '';
      const y = keys[b] ?? '';
      return x < y ? -1 : x > y ? 1 : a - b;
    });
    const latest: number[] = [];
    for (let i = 0; i < order.length; i++) {
      const at = order[i] ?? 0;
      const next = order[i + 1];
      if (next === undefined || keys[next] !== keys[at]) latest.push(at);
    }
    return latest;
  }

  record(i: number): KeyRecord {
    const f = i * F;
    const u = i * U;
    return {
      key: this.keys[i] ?? '',
      main: this.floats[f] ?? 0,
      sub: this.uints[u] ?? 0,
      tombstone: this.tombstones[i] === 1,
      createRevision: this.floats[f + 1] ?? 0,
      modRevision: this.floats[f + 2] ?? 0,
      version: this.floats[f + 3] ?? 0,
      valueSize: this.uints[u + 1] ?? 0,
      valueCrc: this.uints[u + 2] ?? 0,
    };
  }

  /** The newest entry of every key, in key order. */
  *sorted(): Generator<KeyRecord> {
    for (const i of this.latestInKeyOrder()) yield this.record(i);
  }

  /** Sorts and writes the run to a new owner-only file, then empties the buffer. */
  writeRun(path: string): void {
    const fd = openSync(path, 'wx', 0o600);
    try {
      let block = Buffer.allocUnsafe(BLOCK);
      let used = 0;
      for (const i of this.latestInKeyOrder()) {
        const key = this.keys[i] ?? '';
        const size = FIXED_SIZE + key.length;
        if (used + size > block.length) {
          if (used > 0) writeAll(fd, block, used);
          used = 0;
          if (size > block.length) block = Buffer.allocUnsafe(size);
        }
        const f = i * F;
        const u = i * U;
        let at = block.writeUInt32LE(key.length, used);
        at += block.write(key, at, 'latin1');
        at = block.writeDoubleLE(this.floats[f] ?? 0, at);
        at = block.writeUInt32LE(this.uints[u] ?? 0, at);
        at = block.writeUInt8(this.tombstones[i] ?? 0, at);
        at = block.writeDoubleLE(this.floats[f + 1] ?? 0, at);
        at = block.writeDoubleLE(this.floats[f + 2] ?? 0, at);
        at = block.writeDoubleLE(this.floats[f + 3] ?? 0, at);
        at = block.writeUInt32LE(this.uints[u + 1] ?? 0, at);
        used = block.writeUInt32LE(this.uints[u + 2] ?? 0, at);
      }
      if (used > 0) writeAll(fd, block, used);
    } finally {
      closeSync(fd);
    }
    this.keys = [];
    this.bytes = 0;
  }
}

function writeAll(fd: number, buffer: Buffer, length: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, buffer, done, length - done);
}

/** Reads a run file record by record with one buffer (grown only for a record larger than it). */
export class RunReader {
  private buffer = Buffer.allocUnsafe(BLOCK);
  private start = 0;
  private end = 0;
  private position = 0;
  private eof = false;

  private constructor(private readonly fd: number) {}

  static open(path: string): RunReader {
    return new RunReader(openSync(path, 'r'));
  }

  private fill(needed: number): boolean {
    while (this.end - this.start < needed) {
      if (this.eof) return false;
      if (this.start > 0) {
        this.buffer.copy(this.buffer, 0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      if (needed > this.buffer.length) {
        const bigger = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
        this.buffer.copy(bigger, 0, 0, this.end);
        this.buffer = bigger;
      }
      const bytesRead = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, this.position);
      if (bytesRead === 0) this.eof = true;
      this.position += bytesRead;
      this.end += bytesRead;
    }
    return true;
  }

  /** The next record, or undefined at the end of the run. */
  next(): KeyRecord | undefined {
    if (!this.fill(4)) return undefined;
    const keyLength = this.buffer.readUInt32LE(this.start);
    if (!this.fill(FIXED_SIZE + keyLength)) throw new Error('a sorted run ended in the middle of a record');
    const b = this.buffer;
    let at = this.start + 4;
    const key = b.toString('latin1', at, at + keyLength);
    at += keyLength;
    const record: KeyRecord = {
      key,
      main: b.readDoubleLE(at),
      sub: b.readUInt32LE(at + 8),
      tombstone: b[at + 12] === 1,
      createRevision: b.readDoubleLE(at + 13),
      modRevision: b.readDoubleLE(at + 21),
      version: b.readDoubleLE(at + 29),
      valueSize: b.readUInt32LE(at + 37),
      valueCrc: b.readUInt32LE(at + 41),
    };
    this.start = at + 45;
    return record;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** k-way merge of key-sorted runs; for a key in several runs, the later run (newer revisions) wins. */
export function* mergeRuns(files: readonly string[]): Generator<KeyRecord> {
  const readers: RunReader[] = [];
  try {
    for (const file of files) readers.push(RunReader.open(file));
    const heap = new RunHeap();
    for (const [run, reader] of readers.entries()) {
      const record = reader.next();
      if (record) heap.push({ record, run });
    }
    let pending: KeyRecord | undefined;
    while (heap.size > 0) {
      const top = heap.pop();
      if (!top) break;
      const next = readers[top.run]?.next();
      if (next) heap.push({ record: next, run: top.run });
      if (pending && pending.key !== top.record.key) yield pending;
      pending = top.record;
    }
    if (pending) yield pending;
  } finally {
    for (const reader of readers) reader.close();
  }
}

/** A binary min-heap of run heads by key; among equal keys the later run (newer revisions) comes last. */
export class RunHeap {
  private readonly items: { record: KeyRecord; run: number }[] = [];

  get size(): number {
    return this.items.length;
  }

  private less(a: { record: KeyRecord; run: number }, b: { record: KeyRecord; run: number }): boolean {
    return a.record.key < b.record.key || (a.record.key === b.record.key && a.run < b.run);
  }

  push(item: { record: KeyRecord; run: number }): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent];
      if (!p || !this.less(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): { record: KeyRecord; run: number } | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (!top || !last || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = last;
      let at = -1;
      const l = items[left];
      const r = items[right];
      if (l && this.less(l, smallest)) {
        smallest = l;
        at = left;
      }
      if (r && this.less(r, smallest)) {
        smallest = r;
        at = right;
      }
      if (at < 0) break;
      items[i] = smallest;
      i = at;
    }
    items[i] = last;
    return top;
  }
}
