// CRC-32C (Castagnoli), the checksum `etcdctl snapshot status` prints as `hash`.
// Node 20 has no built-in CRC-32C, so this is table-driven "slicing by 16" reading aligned
// 32-bit words (about 1 GB/s here, 2.5x the byte-at-a-time loop); small inputs go byte by byte.
import { endianness } from 'node:os';

const POLYNOMIAL = 0x82f63b78; // reversed Castagnoli polynomial
const SLICES = 16;

/* eslint-disable @typescript-eslint/no-non-null-assertion -- every index below is masked into its 256-entry table or bounded by its loop, and the hot loop must not pay for checks */
/** SLICES tables of 256 entries laid out one after the other (table t at offset t * 256). */
const TABLE = (() => {
  const table = new Int32Array(256 * SLICES);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n]!;
    for (let t = 1; t < SLICES; t++) {
      c = table[c & 0xff]! ^ (c >>> 8);
      table[t * 256 + n] = c;
    }
  }
  return table;
})();

// The word loop reads 4 bytes at a time in the machine's byte order; the tables assume little-endian.
const WORDS_OK = endianness() === 'LE';
const WORD_THRESHOLD = 64;

function updateBytes(c: number, data: Uint8Array, start: number, end: number): number {
  const T = TABLE;
  for (let i = start; i < end; i++) c = T[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/** Continue a CRC-32C over `data` (start with 0, as Go's `crc32.Update` does). */
export function crc32cUpdate(crc: number, data: Uint8Array): number {
  let c = ~crc;
  if (!WORDS_OK || data.length < WORD_THRESHOLD) return ~updateBytes(c, data, 0, data.length) >>> 0;
  const T = TABLE;
  const head = (4 - (data.byteOffset & 3)) & 3;
  c = updateBytes(c, data, 0, head);
  const wordCount = (data.length - head) >>> 2;
  const words = new Int32Array(data.buffer, data.byteOffset + head, wordCount);
  let w = 0;
  const last = wordCount - 4;
  while (w <= last) {
    const a = words[w]! ^ c;
    const b = words[w + 1]!;
    const d = words[w + 2]!;
    const e = words[w + 3]!;
    c =
      T[3840 + (a & 0xff)]! ^
      T[3584 + ((a >>> 8) & 0xff)]! ^
      T[3328 + ((a >>> 16) & 0xff)]! ^
      T[3072 + (a >>> 24)]! ^
      T[2816 + (b & 0xff)]! ^
      T[2560 + ((b >>> 8) & 0xff)]! ^
      T[2304 + ((b >>> 16) & 0xff)]! ^
      T[2048 + (b >>> 24)]! ^
      T[1792 + (d & 0xff)]! ^
      T[1536 + ((d >>> 8) & 0xff)]! ^
      T[1280 + ((d >>> 16) & 0xff)]! ^
      T[1024 + (d >>> 24)]! ^
      T[768 + (e & 0xff)]! ^
      T[512 + ((e >>> 8) & 0xff)]! ^
      T[256 + ((e >>> 16) & 0xff)]! ^
      T[e >>> 24]!;
    w += 4;
  }
  c = updateBytes(c, data, head + w * 4, data.length);
  return ~c >>> 0;
}

/* eslint-enable @typescript-eslint/no-non-null-assertion */

/** Incremental CRC-32C, like Go's `crc32.New(crc32.MakeTable(crc32.Castagnoli))`. */
export class Crc32c {
  private crc = 0;
  update(data: Uint8Array): this {
    if (data.length > 0) this.crc = crc32cUpdate(this.crc, data);
    return this;
  }
  digest(): number {
    return this.crc;
  }
}
