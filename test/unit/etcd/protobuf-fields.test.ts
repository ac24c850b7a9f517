// etcd's mvccpb.KeyValue read without an allocation per entry, against the generic field reader.
import { expect } from 'chai';
import { decodeKeyValue, decodeKeyValueOffsets, protobufFields, type KeyValueOffsets } from '../../../src/etcd/protobuf-fields.js';

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

const bytesField = (number: number, bytes: Buffer) => [...varint(number * 8 + 2), ...varint(bytes.length), ...bytes];
const varintField = (number: number, value: number) => [...varint(number * 8), ...varint(value)];

function keyValue(key: Buffer, create: number, mod: number, version: number, value: Buffer, lease = 0): Buffer {
  return Buffer.from([
    ...bytesField(1, key),
    ...varintField(2, create),
    ...varintField(3, mod),
    ...varintField(4, version),
    ...bytesField(5, value),
    ...(lease ? varintField(6, lease) : []),
  ]);
}

const blank = (): KeyValueOffsets => ({
  keyStart: 9,
  keyEnd: 9,
  valueStart: 9,
  valueEnd: 9,
  createRevision: 9,
  modRevision: 9,
  version: 9,
  lease: 9,
});

describe('decodeKeyValueOffsets: a KeyValue in place', () => {
  it('finds the key and value bytes and every revision, large ones included (2^40, a 300-byte value)', () => {
    const key = Buffer.from('/registry/pods/default/\u00ff', 'latin1');
    const value = Buffer.alloc(300, 7);
    const buffer = keyValue(key, 2 ** 40 + 3, 2 ** 40 + 9, 12, value, 77);
    const at = blank();
    decodeKeyValueOffsets(buffer, at);
    expect(buffer.subarray(at.keyStart, at.keyEnd)).to.deep.equal(key);
    expect(buffer.subarray(at.valueStart, at.valueEnd)).to.deep.equal(value);
    expect([at.createRevision, at.modRevision, at.version, at.lease]).to.deep.equal([2 ** 40 + 3, 2 ** 40 + 9, 12, 77]);
    // The generic reader sees the same fields.
    const fields = [...protobufFields(buffer)];
    expect(fields.map((f) => f.number)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(decodeKeyValue(buffer)).to.deep.include({ createRevision: 2 ** 40 + 3, modRevision: 2 ** 40 + 9, version: 12, lease: 77 });
  });

  it('resets what an earlier entry left and stops at a damaged field, keeping what came before', () => {
    const at = blank();
    const whole = keyValue(Buffer.from('k'), 5, 6, 1, Buffer.from('v'));
    const cut = whole.subarray(0, whole.length - 1); // the value's length runs past the end
    decodeKeyValueOffsets(cut, at);
    expect(cut.subarray(at.keyStart, at.keyEnd).toString()).to.equal('k');
    expect([at.createRevision, at.modRevision, at.version, at.valueEnd - at.valueStart, at.lease]).to.deep.equal([5, 6, 1, 0, 0]);
    decodeKeyValueOffsets(Buffer.from([0x0d, 1, 2, 3, 4]), at); // a fixed32 field: not a KeyValue
    expect([at.keyEnd, at.modRevision]).to.deep.equal([0, 0]);
  });
});
