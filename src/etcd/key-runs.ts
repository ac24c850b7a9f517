// Sorted runs on disk for an external merge sort of key records: a snapshot's `key` bucket is in revision
// order, a diff needs key order, and holding every key of a 1 M-key cluster in memory is what we avoid.
// A run is a file of records sorted by key; runs are read back with a fixed-size buffer each.
import { open, type FileHandle } from 'node:fs/promises';

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
const READ_BLOCK = 1 << 20;

export function compareKeys(a: KeyRecord, b: KeyRecord): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Rough memory of one record held in an array (object, fields, one-byte string). */
export function recordFootprint(record: KeyRecord): number {
  return 120 + record.key.length;
}

function encodeRecord(record: KeyRecord, target: Buffer, offset: number): number {
  const keyLength = Buffer.byteLength(record.key, 'latin1');
  let at = target.writeUInt32LE(keyLength, offset);
  at += target.write(record.key, at, 'latin1');
  at = target.writeDoubleLE(record.main, at);
  at = target.writeUInt32LE(record.sub >>> 0, at);
  at = target.writeUInt8(record.tombstone ? 1 : 0, at);
  at = target.writeDoubleLE(record.createRevision, at);
  at = target.writeDoubleLE(record.modRevision, at);
  at = target.writeDoubleLE(record.version, at);
  at = target.writeUInt32LE(record.valueSize >>> 0, at);
  return target.writeUInt32LE(record.valueCrc >>> 0, at);
}

/** Write `records` (already sorted) to a new file, owner-only. */
export async function writeRun(path: string, records: readonly KeyRecord[]): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    let buffer = Buffer.allocUnsafe(READ_BLOCK);
    let used = 0;
    for (const record of records) {
      const size = FIXED_SIZE + record.key.length;
      if (used + size > buffer.length) {
        if (used > 0) await handle.write(buffer, 0, used);
        used = 0;
        if (size > buffer.length) buffer = Buffer.allocUnsafe(size);
      }
      used = encodeRecord(record, buffer, used);
    }
    if (used > 0) await handle.write(buffer, 0, used);
  } finally {
    await handle.close();
  }
}

/** Reads a run file record by record with one buffer (grown only for a record larger than it). */
export class RunReader {
  private buffer = Buffer.allocUnsafe(READ_BLOCK);
  private start = 0;
  private end = 0;
  private position = 0;
  private eof = false;

  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<RunReader> {
    return new RunReader(await open(path, 'r'));
  }

  private async fill(needed: number): Promise<boolean> {
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
      const { bytesRead } = await this.handle.read(this.buffer, this.end, this.buffer.length - this.end, this.position);
      if (bytesRead === 0) this.eof = true;
      this.position += bytesRead;
      this.end += bytesRead;
    }
    return true;
  }

  /** The next record, or undefined at the end of the run. */
  async next(): Promise<KeyRecord | undefined> {
    if (!(await this.fill(4))) return undefined;
    const keyLength = this.buffer.readUInt32LE(this.start);
    if (!(await this.fill(FIXED_SIZE + keyLength))) throw new Error('a sorted run ended in the middle of a record');
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

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Keeps the last record of each key of a key-sorted array whose equal keys are in revision order. */
export function latestPerKey(sorted: readonly KeyRecord[]): KeyRecord[] {
  const out: KeyRecord[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const record = sorted[i];
    const next = sorted[i + 1];
    if (record && (!next || next.key !== record.key)) out.push(record);
  }
  return out;
}

/** A binary min-heap of run heads by key; among equal keys the later run (newer revisions) comes last. */
export class RunHeap {
  private readonly items: { record: KeyRecord; run: number }[] = [];

  get size(): number {
    return this.items.length;
  }

  private less(a: { record: KeyRecord; run: number }, b: { record: KeyRecord; run: number }): boolean {
    const order = compareKeys(a.record, b.record);
    return order < 0 || (order === 0 && a.run < b.run);
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
