// etcd's write-ahead log, read and checked the way etcd's own decoder reads it (server/storage/wal):
// each segment `<seq>-<index>.wal` is a run of frames, an 8-byte little-endian length (record size in the
// low 56 bits; with the top bit set, the low 3 bits of the top byte are padding) followed by a walpb.Record
// {type, crc, data} padded to 8 bytes. The crc is a running CRC-32C over every record's data, chained
// from the first record of the first file; each segment starts with a crc record carrying the value the
// chain had at the cut, so every segment can be checked on its own. A zero length ends a segment (the
// preallocated space), as does the end of the file.
import { crc32cUpdate } from '../crc32c.js';
import { ReadWindow, type ByteReader } from './byte-reader.js';
import { hexField, readFields, uintField, bytesField, ProtobufError } from './protobuf.js';

export const WalRecordType = { metadata: 1, entry: 2, state: 3, crc: 4, snapshot: 5 } as const;
const FRAME_BYTES = 8;
const SECTOR_BYTES = 512;
/** Larger records do not exist in etcd (its request limit is 1.5 MiB by default, 10 MiB at most in practice). */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** A segment as listed on the member. */
export interface WalFile {
  name: string;
  size: number;
  /** mtime, seconds since the epoch. */
  mtime?: number;
}

/**
 * intact: every record verifies to the end. torn-tail: the last record of the last segment is a torn write
 * (one of its 512-byte sectors still all zero, etcd's own test): etcd cuts it off when it starts, and an
 * entry that was never acknowledged is all that goes. truncated: a segment ends inside a record (bytes gone,
 * not zero): acknowledged entries may be lost. corrupt: a crc mismatch that is not a torn write, an
 * undecodable record, entries out of order or segments that do not follow each other. missing: no segment.
 */
export type WalState = 'intact' | 'torn-tail' | 'truncated' | 'corrupt' | 'missing';

export interface WalFacts {
  state: WalState;
  /** What is wrong, with the file and offset (absent when intact). */
  problem?: string;
  /** Segments listed, in order, and the first one read (the one holding the newest snapshot's index). */
  files: WalFile[];
  readFrom?: string;
  records: number;
  bytesRead: number;
  /** From the metadata record (etcdserverpb.Metadata): this member's id and its cluster's, hex. */
  nodeId?: string;
  clusterId?: string;
  /** Last entry that verified. */
  lastIndex: number;
  lastTerm: number;
  /** Last raft HardState that verified: the commit index this member knew of, its term and vote. */
  commitIndex: number;
  term: number;
  vote: string;
  /** Newest snapshot record (a raft snapshot was taken at this index). */
  snapshotIndex: number;
  snapshotTerm: number;
  /** In the last segment read: where the last record that verified starts, and where the verified data ends. */
  lastRecordOffset: number;
  endOffset: number;
}

/** `<seq>-<index>.wal`, both 16 hex digits. */
export function parseWalName(name: string): { seq: bigint; index: bigint } | undefined {
  const match = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/.exec(name);
  if (!match) return undefined;
  return { seq: BigInt(`0x${match[1] ?? '0'}`), index: BigInt(`0x${match[2] ?? '0'}`) };
}

/**
 * The segments etcd reads on start-up: from the last one whose first index is at or before the snapshot's
 * index (etcd's searchIndex), to the end. Older ones are kept by etcd but never read again.
 */
export function segmentsToRead(files: readonly WalFile[], snapshotIndex: number): WalFile[] {
  const named = files.filter((f) => parseWalName(f.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
  let start = 0;
  for (let i = named.length - 1; i >= 0; i--) {
    if ((parseWalName(named[i]?.name ?? '')?.index ?? 0n) <= BigInt(snapshotIndex)) {
      start = i;
      break;
    }
  }
  return named.slice(start);
}

interface Running {
  facts: WalFacts;
  crc: number;
  metadata?: Buffer;
}

class WalDamage extends Error {
  constructor(
    readonly state: 'truncated' | 'corrupt' | 'torn-tail',
    message: string,
  ) {
    super(message);
  }
}

/** etcd's torn-write test: some 512-byte sector of the record's bytes (as placed in the file) is all zero. */
export function isTornWrite(data: Buffer, fileOffset: number): boolean {
  let position = fileOffset;
  let at = 0;
  while (at < data.length) {
    const length = Math.min(SECTOR_BYTES - (position % SECTOR_BYTES), data.length - at);
    if (data.subarray(at, at + length).every((byte) => byte === 0)) return true;
    position += length;
    at += length;
  }
  return false;
}

function applyRecord(run: Running, type: number, data: Buffer, where: string): void {
  const { facts } = run;
  if (type === WalRecordType.entry) {
    const entry = readFields(data);
    const index = uintField(entry, 3);
    if (facts.lastIndex > 0 && index > facts.lastIndex + 1) {
      throw new WalDamage('corrupt', `${where}: entry ${index} follows entry ${facts.lastIndex} (entries are missing)`);
    }
    facts.lastIndex = index;
    facts.lastTerm = uintField(entry, 2);
  } else if (type === WalRecordType.state) {
    const state = readFields(data);
    facts.term = uintField(state, 1);
    facts.vote = hexField(state, 2);
    facts.commitIndex = uintField(state, 3);
  } else if (type === WalRecordType.metadata) {
    if (run.metadata && !run.metadata.equals(data)) throw new WalDamage('corrupt', `${where}: metadata differs from the previous segment's`);
    run.metadata = Buffer.from(data);
    const metadata = readFields(data);
    facts.nodeId = hexField(metadata, 1);
    facts.clusterId = hexField(metadata, 2);
  } else if (type === WalRecordType.snapshot) {
    const snapshot = readFields(data);
    facts.snapshotIndex = uintField(snapshot, 1);
    facts.snapshotTerm = uintField(snapshot, 2);
    // Entries after a snapshot record continue from its index.
    if (facts.lastIndex < facts.snapshotIndex) facts.lastIndex = facts.snapshotIndex;
  } else if (type !== WalRecordType.crc) {
    throw new WalDamage('corrupt', `${where}: unknown record type ${type}`);
  }
}

/** Preallocated space is zeros to the end: data after a zero frame or a torn record is a hole in the middle. */
const LOOK_AHEAD = 64 * 1024;

function* dataFollows(window: ReadWindow, from: number): ByteReader<boolean> {
  const after = yield* window.bytes(from, LOOK_AHEAD);
  return after.some((byte) => byte !== 0);
}

/** One record at `offset`: its type and data once its crc is checked, or the end of the segment. */
function* readRecord(run: Running, window: ReadWindow, file: WalFile, offset: number, last: boolean): ByteReader<number | undefined> {
  const frame = yield* window.bytes(offset, FRAME_BYTES);
  if (frame.length === 0) return undefined; // end of file at a record boundary
  if (frame.length < FRAME_BYTES) throw new WalDamage('truncated', `${file.name} ends inside a frame header at offset ${offset}`);
  const lengthField = frame.readBigUInt64LE(0);
  if (lengthField === 0n) {
    // etcd reads a zero length as the end of the segment; records after it mean a zeroed hole, not the end.
    if (yield* dataFollows(window, offset + FRAME_BYTES))
      throw new WalDamage('corrupt', `${file.name} at offset ${offset}: zeros where a record should be, and records after them`);
    return undefined;
  }
  const recordBytes = Number(lengthField & 0x00ffffffffffffffn);
  const padBytes = lengthField >> 63n === 1n ? Number((lengthField >> 56n) & 7n) : 0;
  const where = `${file.name} at offset ${offset}`;
  if (recordBytes > MAX_RECORD_BYTES) throw new WalDamage('corrupt', `${where}: a record of ${recordBytes} bytes cannot be`);
  const end = offset + FRAME_BYTES + recordBytes + padBytes;
  if (end > file.size)
    throw new WalDamage('truncated', `${where}: the record needs ${recordBytes + padBytes} bytes but the file ends at ${file.size}`);
  const body = yield* window.bytes(offset + FRAME_BYTES, recordBytes + padBytes);
  if (body.length < recordBytes + padBytes) throw new WalDamage('truncated', `${where}: the file ends inside the record`);
  // A torn write is the last thing etcd wrote before the power went: nothing may follow it.
  const torn = function* (): ByteReader<boolean> {
    return last && isTornWrite(body, offset + FRAME_BYTES) && !(yield* dataFollows(window, end));
  };
  let record;
  try {
    record = readFields(body.subarray(0, recordBytes));
  } catch (error) {
    if (yield* torn()) throw new WalDamage('torn-tail', `${where}: torn write (the last record was cut short by the power loss)`);
    throw new WalDamage('corrupt', `${where}: undecodable record (${error instanceof ProtobufError ? error.message : String(error)})`);
  }
  const type = uintField(record, 1);
  const storedCrc = uintField(record, 2);
  const data = bytesField(record, 3);
  if (type === WalRecordType.crc) {
    if (run.crc !== 0 && storedCrc !== run.crc) {
      throw new WalDamage(
        'corrupt',
        `${where}: the segment starts from crc ${storedCrc.toString(16)}, the previous one ended at ${run.crc.toString(16)}`,
      );
    }
    run.crc = storedCrc;
    return end;
  }
  const crc = crc32cUpdate(run.crc, data);
  if (crc !== storedCrc) {
    if (yield* torn()) throw new WalDamage('torn-tail', `${where}: torn write (the last record was cut short by the power loss)`);
    throw new WalDamage(
      'corrupt',
      `${where}: crc mismatch (stored ${storedCrc.toString(16)}, computed ${crc.toString(16)}): the record was changed after it was written`,
    );
  }
  run.crc = crc;
  try {
    applyRecord(run, type, data, where);
  } catch (error) {
    if (error instanceof WalDamage) throw error;
    throw new WalDamage('corrupt', `${where}: undecodable record of type ${type} (${(error as Error).message})`);
  }
  return end;
}

/** Decode one segment; throws WalDamage at the first record that does not verify. */
function* readSegment(run: Running, file: WalFile, last: boolean): ByteReader<void> {
  const window = new ReadWindow(file.name, file.size);
  let offset = 0;
  run.facts.endOffset = 0;
  try {
    for (;;) {
      const next = yield* readRecord(run, window, file, offset, last);
      if (next === undefined) return;
      run.facts.records++;
      run.facts.lastRecordOffset = offset;
      run.facts.endOffset = next;
      offset = next;
    }
  } finally {
    run.facts.bytesRead += offset;
  }
}

/** Checks that segment numbers follow each other, as etcd does before reading them. */
function sequenceProblem(files: readonly WalFile[]): string | undefined {
  for (const [i, file] of files.entries()) {
    const before = files[i - 1];
    if (!before) continue;
    const previous = parseWalName(before.name);
    const current = parseWalName(file.name);
    if (previous && current && current.seq !== previous.seq + 1n) return `${file.name} does not follow ${before.name} (a segment is missing)`;
  }
  return undefined;
}

/** Read the WAL as etcd would on start-up, from the segment holding `snapshotIndex` to the end. */
export function* readWal(dir: string, listed: readonly WalFile[], snapshotIndex: number): ByteReader<WalFacts> {
  const facts: WalFacts = {
    state: 'intact',
    files: [...listed],
    records: 0,
    bytesRead: 0,
    lastIndex: 0,
    lastTerm: 0,
    commitIndex: 0,
    term: 0,
    vote: '0',
    snapshotIndex: 0,
    snapshotTerm: 0,
    lastRecordOffset: 0,
    endOffset: 0,
  };
  const segments = segmentsToRead(listed, snapshotIndex);
  if (segments.length === 0) return { ...facts, state: 'missing', problem: `no WAL segment in ${dir}` };
  facts.readFrom = segments[0]?.name ?? '';
  const gap = sequenceProblem(segments);
  if (gap) return { ...facts, state: 'corrupt', problem: gap };
  const run: Running = { facts, crc: 0 };
  for (const [i, file] of segments.entries()) {
    try {
      yield* readSegment(run, { ...file, name: `${dir}/${file.name}` }, i === segments.length - 1);
    } catch (error) {
      if (!(error instanceof WalDamage)) throw error;
      return { ...facts, state: error.state, problem: error.message.replace(`${dir}/`, '') };
    }
  }
  return facts;
}
