// When a Kubernetes object stored in etcd was last modified, where the value says so: the newest
// `metadata.managedFields[].time` (every apply or update records one), else `metadata.creationTimestamp`.
// Values are JSON or Kubernetes protobuf (`k8s\0` + runtime.Unknown whose `raw` is the object, with
// ObjectMeta as field 1); values encrypted at rest (`k8s:enc:...`) say nothing.
import { bytesField, protobufFields, WireType } from './protobuf-fields.js';

export interface ObjectTime {
  /** ISO time, when known. */
  at?: string;
  source?: 'managedFields' | 'creationTimestamp';
  /** Why no time is known. */
  note?: string;
}

const PROTOBUF_MAGIC = Buffer.from('k8s\0', 'latin1');
const ENCRYPTED = Buffer.from('k8s:enc:', 'latin1');

interface JsonMeta {
  creationTimestamp?: unknown;
  managedFields?: { time?: unknown }[];
}

function newest(times: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestMs = -Infinity;
  for (const time of times) {
    const ms = Date.parse(time);
    if (Number.isFinite(ms) && ms > bestMs) {
      bestMs = ms;
      best = new Date(ms).toISOString();
    }
  }
  return best;
}

function fromJson(value: Buffer): ObjectTime | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const meta = (parsed as { metadata?: JsonMeta }).metadata;
  if (!meta) return undefined;
  const managed = Array.isArray(meta.managedFields)
    ? newest(meta.managedFields.flatMap((entry) => (typeof entry.time === 'string' ? [entry.time] : [])))
    : undefined;
  if (managed) return { at: managed, source: 'managedFields' };
  const created = typeof meta.creationTimestamp === 'string' ? newest([meta.creationTimestamp]) : undefined;
  return created ? { at: created, source: 'creationTimestamp' } : undefined;
}

/** meta/v1 Time: seconds = 1 (varint). */
function protobufTime(buffer: Buffer): string | undefined {
  for (const field of protobufFields(buffer))
    if (field.number === 1 && field.wireType === WireType.varint) return new Date(field.value * 1000).toISOString();
  return undefined;
}

function fromProtobuf(value: Buffer): ObjectTime | undefined {
  const raw = bytesField(value.subarray(PROTOBUF_MAGIC.length), 2);
  const meta = raw ? bytesField(raw, 1) : undefined;
  if (!meta) return undefined;
  const managed: string[] = [];
  let created: string | undefined;
  for (const field of protobufFields(meta)) {
    if (!field.bytes) continue;
    if (field.number === 8) created = protobufTime(field.bytes);
    if (field.number === 17) {
      const time = bytesField(field.bytes, 4);
      const iso = time ? protobufTime(time) : undefined;
      if (iso) managed.push(iso);
    }
  }
  const last = newest(managed);
  if (last) return { at: last, source: 'managedFields' };
  return created ? { at: created, source: 'creationTimestamp' } : undefined;
}

export function objectTime(value: Buffer | undefined): ObjectTime {
  if (!value || value.length === 0) return { note: 'the value is empty' };
  if (value.subarray(0, ENCRYPTED.length).equals(ENCRYPTED)) return { note: 'the value is encrypted at rest' };
  const found = value.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC) ? fromProtobuf(value) : fromJson(value);
  return found ?? { note: 'the value records no time' };
}
