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

/** Where the parts of one mvccpb.KeyValue lie in its buffer: filled in place, no allocation per entry. */
export interface KeyValueOffsets {
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
}

/** Where the last `varintAt` ended; -1 when the varint was truncated. A module variable, so reading one
 *  allocates nothing (readVarint returns an object per call). */
let varintEnd = 0;

function varintAt(buffer: Buffer, offset: number): number {
  let value = 0;
  let factor = 1;
  const stop = Math.min(buffer.length, offset + 10);
  for (let i = offset; i < stop; i++) {
    const byte = buffer[i] ?? 0;
    value += (byte & 0x7f) * factor;
    if ((byte & 0x80) === 0) {
      varintEnd = i + 1;
      return value;
    }
    factor *= 128;
  }
  varintEnd = -1;
  return 0;
}

/**
 * Fills `out` from one mvccpb.KeyValue: the hot loop of reading a snapshot's million keys allocates
 * nothing here. Stops at a damaged field (what was read so far stays).
 */
export function decodeKeyValueOffsets(buffer: Buffer, out: KeyValueOffsets): void {
  out.keyStart = out.keyEnd = out.valueStart = out.valueEnd = 0;
  out.createRevision = out.modRevision = out.version = out.lease = 0;
  let offset = 0;
  while (offset < buffer.length) {
    const tag = varintAt(buffer, offset);
    if (varintEnd < 0) return;
    const value = varintAt(buffer, varintEnd);
    if (varintEnd < 0) return;
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (wireType === WireType.bytes) {
      const end = varintEnd + value;
      if (end > buffer.length) return;
      if (number === 1) {
        out.keyStart = varintEnd;
        out.keyEnd = end;
      } else if (number === 5) {
        out.valueStart = varintEnd;
        out.valueEnd = end;
      }
      offset = end;
    } else if (wireType === WireType.varint) {
      if (number === 2) out.createRevision = value;
      else if (number === 3) out.modRevision = value;
      else if (number === 4) out.version = value;
      else if (number === 6) out.lease = value;
      offset = varintEnd;
    } else {
      return; // KeyValue has no fixed-width fields: the entry is damaged
    }
  }
}

export function decodeKeyValue(buffer: Buffer): DecodedKeyValue {
  const at: KeyValueOffsets = { keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0, createRevision: 0, modRevision: 0, version: 0, lease: 0 };
  decodeKeyValueOffsets(buffer, at);
  return {
    key: buffer.subarray(at.keyStart, at.keyEnd),
    createRevision: at.createRevision,
    modRevision: at.modRevision,
    version: at.version,
    value: buffer.subarray(at.valueStart, at.valueEnd),
    lease: at.lease,
  };
}
