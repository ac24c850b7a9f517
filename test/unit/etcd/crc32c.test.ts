import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { fnv64a } from '../../../src/etcd/bbolt.js';
import { Crc32c, crc32cUpdate } from '../../../src/etcd/crc32c.js';

/** Bit-by-bit reference (no tables), to check the sliced fast path against. */
function referenceCrc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  const vectors: [string, Buffer, number][] = [
    ['empty', Buffer.alloc(0), 0],
    ['"123456789" (the standard check value)', Buffer.from('123456789'), 0xe3069283],
    ['32 zero bytes (RFC 3720)', Buffer.alloc(32, 0), 0x8a9136aa],
    ['32 0xff bytes (RFC 3720)', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ];
  for (const [name, data, expected] of vectors) {
    it(`matches the known value for ${name}`, () => {
      expect(crc32cUpdate(0, data)).to.equal(expected);
    });
  }

  it('agrees with a bit-by-bit reference at every alignment and length around the fast-path threshold', () => {
    const block = randomBytes(4096 + 16);
    for (const offset of [0, 1, 2, 3, 5]) {
      for (const length of [0, 1, 7, 63, 64, 65, 100, 1000, 4096]) {
        const slice = block.subarray(offset, offset + length);
        expect(crc32cUpdate(0, slice), `offset ${offset} length ${length}`).to.equal(referenceCrc32c(slice));
      }
    }
  });

  it('is incremental: any split gives the one-shot value', () => {
    const data = randomBytes(10_000);
    const whole = crc32cUpdate(0, data);
    for (const cuts of [[1], [63, 64], [4, 9, 5000], [9999]]) {
      const crc = new Crc32c();
      let start = 0;
      for (const cut of [...cuts, data.length]) {
        crc.update(data.subarray(start, cut));
        start = cut;
      }
      expect(crc.digest()).to.equal(whole);
    }
  });
});

describe('fnv64a (bbolt meta checksum)', () => {
  it('matches the published FNV-1a 64 test values', () => {
    expect(fnv64a(Buffer.alloc(0))).to.equal(0xcbf29ce484222325n);
    expect(fnv64a(Buffer.from('a'))).to.equal(0xaf63dc4c8601ec8cn);
    expect(fnv64a(Buffer.from('foobar'))).to.equal(0x85944171f73967e8n);
  });
});
