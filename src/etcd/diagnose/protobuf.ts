// A minimal protobuf wire reader for the few etcd messages diagnosis needs (walpb.Record, raftpb.Entry,
// raftpb.HardState, walpb.Snapshot, etcdserverpb.Metadata): varint and length-delimited fields only, with
// every read bounded so a damaged record gives an error, never an exception from out of range.

export class ProtobufError extends Error {}

/** Field number -> its last value (varints as bigint, length-delimited fields as Buffer). */
export type Fields = Map<number, bigint | Buffer>;

function readVarint(data: Buffer, start: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = start; i < data.length && i < start + 10; i++) {
    const byte = data[i] ?? 0;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    shift += 7n;
  }
  throw new ProtobufError(`varint at byte ${start} runs past the end of the message`);
}

/** Every field of a message (repeated fields keep their last value, which is all these messages need). */
export function readFields(data: Buffer): Fields {
  const fields: Fields = new Map();
  let offset = 0;
  while (offset < data.length) {
    const key = readVarint(data, offset);
    const number = Number(key.value >> 3n);
    const wire = Number(key.value & 7n);
    offset = key.next;
    if (number === 0) throw new ProtobufError(`field number 0 at byte ${offset}`);
    if (wire === 0) {
      const value = readVarint(data, offset);
      fields.set(number, value.value);
      offset = value.next;
    } else if (wire === 2) {
      const length = readVarint(data, offset);
      const end = length.next + Number(length.value);
      if (length.value > BigInt(data.length) || end > data.length) throw new ProtobufError(`field ${number} is longer than the message`);
      fields.set(number, data.subarray(length.next, end));
      offset = end;
    } else if (wire === 1) {
      if (offset + 8 > data.length) throw new ProtobufError(`fixed64 field ${number} runs past the end`);
      offset += 8;
    } else if (wire === 5) {
      if (offset + 4 > data.length) throw new ProtobufError(`fixed32 field ${number} runs past the end`);
      offset += 4;
    } else {
      throw new ProtobufError(`unsupported wire type ${wire} for field ${number}`);
    }
  }
  return fields;
}

/** A varint field as a number (0 when absent, as proto2 defaults); ids beyond 2^53 come back as hex via `hexField`. */
export function uintField(fields: Fields, number: number): number {
  const value = fields.get(number);
  if (value === undefined) return 0;
  if (typeof value !== 'bigint') throw new ProtobufError(`field ${number} is not a varint`);
  return Number(BigInt.asUintN(64, value));
}

/** A 64-bit id field in hex, as etcdctl prints member and cluster ids. */
export function hexField(fields: Fields, number: number): string {
  const value = fields.get(number);
  if (value === undefined) return '0';
  if (typeof value !== 'bigint') throw new ProtobufError(`field ${number} is not a varint`);
  return BigInt.asUintN(64, value).toString(16);
}

export function bytesField(fields: Fields, number: number): Buffer {
  const value = fields.get(number);
  if (value === undefined) return Buffer.alloc(0);
  if (typeof value === 'bigint') throw new ProtobufError(`field ${number} is not length-delimited`);
  return value;
}
