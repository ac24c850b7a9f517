// A minimal protobuf wire-format reader: enough to read etcd's mvccpb.KeyValue out of a snapshot and the
// object metadata Kubernetes stores in etcd, without generated code. Unknown fields are skipped; a field
// that runs past its buffer ends the read (the caller sees what was read so far).

export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export interface ProtobufField {
  number: number;
  wireType: number;
  /** For varints: the value (exact up to 2^53; revisions and times fit). */
  value: number;
  /** For length-delimited fields: a view of the bytes (not a copy). */
  bytes?: Buffer;
}

/** Reads a varint at `offset`; returns the value and the offset after it, or undefined when truncated. */
export function readVarint(buffer: Buffer, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  let factor = 1;
  for (let i = offset; i < buffer.length && i < offset + 10; i++) {
    const byte = buffer[i] ?? 0;
    value += (byte & 0x7f) * factor;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    factor *= 128;
  }
  return undefined;
}

/** Every top-level field of one message, in order; stops at the first malformed one. */
export function* protobufFields(buffer: Buffer): Generator<ProtobufField> {
  let offset = 0;
  while (offset < buffer.length) {
    const tag = readVarint(buffer, offset);
    if (!tag) return;
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    offset = tag.next;
    if (wireType === WireType.varint) {
      const v = readVarint(buffer, offset);
      if (!v) return;
      offset = v.next;
      yield { number, wireType, value: v.value };
    } else if (wireType === WireType.bytes) {
      const length = readVarint(buffer, offset);
      if (!length || length.next + length.value > buffer.length) return;
      const bytes = buffer.subarray(length.next, length.next + length.value);
      offset = length.next + length.value;
      yield { number, wireType, value: length.value, bytes };
    } else if (wireType === WireType.fixed64) {
      if (offset + 8 > buffer.length) return;
      offset += 8;
      yield { number, wireType, value: 0 };
    } else if (wireType === WireType.fixed32) {
      if (offset + 4 > buffer.length) return;
      offset += 4;
      yield { number, wireType, value: 0 };
    } else {
      return; // groups (3, 4) are not used by etcd or Kubernetes
    }
  }
}

/** The bytes of the first length-delimited field `number`, if any. */
export function bytesField(buffer: Buffer, number: number): Buffer | undefined {
  for (const field of protobufFields(buffer)) if (field.number === number && field.bytes) return field.bytes;
  return undefined;
}

/** etcd's mvccpb.KeyValue: key = 1, create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6. */
export interface DecodedKeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  lease: number;
}

const EMPTY = Buffer.alloc(0);

/** Decoded with a plain loop rather than protobufFields: a snapshot holds millions of these. */
export function decodeKeyValue(buffer: Buffer): DecodedKeyValue {
  const kv: DecodedKeyValue = { key: EMPTY, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: 0 };
  let offset = 0;
  while (offset < buffer.length) {
    const tag = readVarint(buffer, offset);
    if (!tag) break;
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    const v = readVarint(buffer, tag.next);
    if (!v) break;
    if (wireType === WireType.bytes) {
      const end = v.next + v.value;
      if (end > buffer.length) break;
      if (number === 1) kv.key = buffer.subarray(v.next, end);
      else if (number === 5) kv.value = buffer.subarray(v.next, end);
      offset = end;
    } else if (wireType === WireType.varint) {
      if (number === 2) kv.createRevision = v.value;
      else if (number === 3) kv.modRevision = v.value;
      else if (number === 4) kv.version = v.value;
      else if (number === 6) kv.lease = v.value;
      offset = v.next;
    } else {
      break; // KeyValue has no fixed-width fields: the entry is damaged
    }
  }
  return kv;
}
