// What a member's backend (member/snap/db, a bbolt file) says, read page by page without copying it:
// both meta pages (checksums, the newer one chosen as bbolt does), the path from the root to the `meta`
// bucket (consistent_index, and term since 3.5) and down the right edge of the `key` bucket (its last key
// is the revision). A handful of page reads whatever the size of the db; every page read is checked (id,
// type, element bounds, key order) and the file's length against the high water mark. The full check of
// every page is the snapshot verifier's job (snapshot-file.ts), run on the copy path 2 restores from.
import { PAGE_HEADER_SIZE, PageFlag, parseMetaPage, type BoltMeta } from '../bbolt.js';
import type { ByteReader } from './byte-reader.js';

const ELEMENT_SIZE = 16;
const BUCKET_HEADER_SIZE = 16;
const BUCKET_LEAF_FLAG = 0x01;
const MAX_DEPTH = 16;

export interface DbFacts {
  /** The meta page in use and the tree paths read were sound. */
  ok: boolean;
  problems: string[];
  /** Warnings that leave the db usable (one meta page damaged: bbolt uses the other). */
  warnings: string[];
  size: number;
  /** Seconds since the epoch: the time of the last commit. */
  mtime?: number;
  pageSize?: number;
  txid?: number;
  /** Pages in use (bbolt's high water mark): the db needs pageSize * highWater bytes. */
  highWater?: number;
  /** Main revision of the last key in the `key` bucket (0 for an empty store). */
  revision: number;
  /** Raft index of the last entry applied to this db. */
  consistentIndex: number;
  /** Raft term of that entry (written since etcd 3.5; 0 before). */
  term: number;
  pagesRead: number;
}

interface Page {
  id: number;
  data: Buffer;
  label: string;
}

class DbDamage extends Error {}

class PageReader {
  pagesRead = 0;
  constructor(
    private readonly file: string,
    private readonly size: number,
    private readonly meta: BoltMeta,
  ) {}

  *page(pgid: number): ByteReader<Page> {
    const { pageSize, pgid: highWater } = this.meta;
    const label = `page ${pgid}`;
    if (pgid < 2 || pgid >= highWater) throw new DbDamage(`${label} is referenced but lies outside the db (high water mark ${highWater})`);
    if ((pgid + 1) * pageSize > this.size) throw new DbDamage(`${label} lies beyond the end of the file (${this.size} bytes): the db is truncated`);
    let data: Buffer = yield { file: this.file, offset: pgid * pageSize, length: pageSize };
    this.pagesRead++;
    if (data.length < pageSize) throw new DbDamage(`${label}: short read, the db is truncated`);
    const overflow = data.readUInt32LE(12);
    if (overflow > 0) {
      if (pgid + overflow >= highWater || (pgid + overflow + 1) * pageSize > this.size)
        throw new DbDamage(`${label}: its ${overflow} overflow pages run past the end`);
      data = yield { file: this.file, offset: pgid * pageSize, length: (overflow + 1) * pageSize };
      if (data.length < (overflow + 1) * pageSize) throw new DbDamage(`${label}: short read, the db is truncated`);
    }
    const id = Number(data.readBigUInt64LE(0));
    if (id !== pgid) throw new DbDamage(`${label}: its header says page ${id}`);
    return { id: pgid, data, label };
  }
}

interface Element {
  key: Buffer;
  /** Leaf: the value. */
  value?: Buffer;
  isBucket?: boolean;
  /** Branch: the child page. */
  child?: number;
}

/** The elements of a branch or leaf page (or an inline bucket page), bounds and order checked. */
function elementsOf(page: Page): { leaf: boolean; elements: Element[] } {
  const { data, label } = page;
  const flags = data.readUInt16LE(8);
  const count = data.readUInt16LE(10);
  if (PAGE_HEADER_SIZE + count * ELEMENT_SIZE > data.length) throw new DbDamage(`${label}: ${count} elements do not fit in it`);
  const leaf = (flags & PageFlag.leaf) !== 0;
  if (!leaf && (flags & PageFlag.branch) === 0) throw new DbDamage(`${label}: type 0x${flags.toString(16)} is neither a branch nor a leaf page`);
  const elements: Element[] = [];
  for (let i = 0; i < count; i++) {
    const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    if (leaf) {
      const start = at + data.readUInt32LE(at + 4);
      const keySize = data.readUInt32LE(at + 8);
      const valueSize = data.readUInt32LE(at + 12);
      if (start + keySize + valueSize > data.length) throw new DbDamage(`${label}: element ${i} points past the end of the page`);
      elements.push({
        key: data.subarray(start, start + keySize),
        value: data.subarray(start + keySize, start + keySize + valueSize),
        isBucket: (data.readUInt32LE(at) & BUCKET_LEAF_FLAG) !== 0,
      });
    } else {
      const start = at + data.readUInt32LE(at);
      const keySize = data.readUInt32LE(at + 4);
      if (start + keySize > data.length) throw new DbDamage(`${label}: element ${i} points past the end of the page`);
      elements.push({ key: data.subarray(start, start + keySize), child: Number(data.readBigUInt64LE(at + 8)) });
    }
    const [previous, current] = [elements[i - 1], elements[i]];
    if (previous && current && Buffer.compare(previous.key, current.key) >= 0) throw new DbDamage(`${label}: keys out of order at element ${i}`);
  }
  if (!leaf && count === 0) throw new DbDamage(`${label}: a branch page without elements`);
  return { leaf, elements };
}

/** A bucket's root: a page id, or its inline page (root 0). */
type BucketRoot = { pgid: number } | { inline: Page };

function bucketRoot(value: Buffer, name: string): BucketRoot {
  if (value.length < BUCKET_HEADER_SIZE) throw new DbDamage(`bucket ${name}: its header is ${value.length} bytes`);
  const root = Number(value.readBigUInt64LE(0));
  if (root !== 0) return { pgid: root };
  const inline = value.subarray(BUCKET_HEADER_SIZE);
  if (inline.length < PAGE_HEADER_SIZE) throw new DbDamage(`bucket ${name}: inline page shorter than a page header`);
  return { inline: { id: 0, data: inline, label: `bucket ${name} (inline)` } };
}

/** The page a branch element points to (elementsOf refuses a branch page without elements). */
function childOf(element: Element | undefined, page: Page): number {
  if (element?.child === undefined) throw new DbDamage(`${page.label}: a branch element without a child page`);
  return element.child;
}

/** The leaf element with this key in a bucket's tree, if any. */
function* lookup(reader: PageReader, root: BucketRoot, key: Buffer): ByteReader<Element | undefined> {
  let page = 'inline' in root ? root.inline : yield* reader.page(root.pgid);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const { leaf, elements } = elementsOf(page);
    if (leaf) return elements.find((e) => e.key.equals(key));
    if ('inline' in root) throw new DbDamage(`${page.label}: an inline bucket holds a branch page`);
    let chosen = elements[0];
    for (const element of elements) if (Buffer.compare(element.key, key) <= 0) chosen = element;
    page = yield* reader.page(childOf(chosen, page));
  }
  throw new DbDamage(`the tree is deeper than ${MAX_DEPTH} levels (a reference cycle?)`);
}

/** The last leaf element of a bucket's tree (its greatest key). */
function* lastElement(reader: PageReader, root: BucketRoot): ByteReader<Element | undefined> {
  let page = 'inline' in root ? root.inline : yield* reader.page(root.pgid);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const { leaf, elements } = elementsOf(page);
    if (leaf) return elements.at(-1);
    page = yield* reader.page(childOf(elements.at(-1), page));
  }
  throw new DbDamage(`the tree is deeper than ${MAX_DEPTH} levels (a reference cycle?)`);
}

/** Choose the meta page as bbolt does on open: the valid one with the higher txid. */
function* chooseMeta(file: string, facts: DbFacts): ByteReader<BoltMeta | undefined> {
  const head = yield { file, offset: 0, length: Math.min(facts.size, 64 * 1024) };
  const first = parseMetaPage(head.subarray(0, 4096), 0);
  const pageSize = 'meta' in first ? first.meta.pageSize : 4096;
  const secondBytes = head.length >= 2 * pageSize ? head.subarray(pageSize, 2 * pageSize) : yield { file, offset: pageSize, length: pageSize };
  const second = parseMetaPage(secondBytes, 1);
  const valid = [first, second].filter((m): m is { meta: BoltMeta } => 'meta' in m).map((m) => m.meta);
  const reason = (m: typeof first): string => ('reason' in m ? m.reason : 'ok');
  if (valid.length === 0) {
    facts.problems.push(`no valid meta page (meta 0: ${reason(first)}; meta 1: ${reason(second)}): bbolt cannot open this db`);
    return undefined;
  }
  if (valid.length === 1)
    facts.warnings.push(
      `one meta page is damaged (${'reason' in first ? `meta 0: ${first.reason}` : `meta 1: ${reason(second)}`}); bbolt opens the other`,
    );
  return valid.sort((a, b) => b.txid - a.txid)[0];
}

/** Read the facts of the db at `file` (its size and mtime come from the listing). */
export function* readDbFacts(file: string, size: number, mtime?: number): ByteReader<DbFacts> {
  const facts: DbFacts = {
    ok: false,
    problems: [],
    warnings: [],
    size,
    revision: 0,
    consistentIndex: 0,
    term: 0,
    pagesRead: 0,
    ...(mtime !== undefined ? { mtime } : {}),
  };
  if (size < 2 * 4096) {
    facts.problems.push(`the db is ${size} bytes, too short for a bbolt file`);
    return facts;
  }
  const meta = yield* chooseMeta(file, facts);
  if (!meta) return facts;
  facts.pageSize = meta.pageSize;
  facts.txid = meta.txid;
  facts.highWater = meta.pgid;
  if (meta.pgid * meta.pageSize > size) {
    facts.problems.push(
      `the db needs ${meta.pgid * meta.pageSize} bytes (${meta.pgid} pages of ${meta.pageSize}) but the file holds ${size}: it is truncated`,
    );
    return facts;
  }
  const reader = new PageReader(file, size, meta);
  try {
    const root: BucketRoot = { pgid: meta.rootPage };
    const metaBucket = yield* lookup(reader, root, Buffer.from('meta'));
    const keyBucket = yield* lookup(reader, root, Buffer.from('key'));
    if (!keyBucket?.isBucket) throw new DbDamage('no `key` bucket: not an etcd db');
    if (metaBucket?.isBucket) {
      const metaRoot = bucketRoot(metaBucket.value ?? Buffer.alloc(0), 'meta');
      const index = yield* lookup(reader, metaRoot, Buffer.from('consistent_index'));
      const term = yield* lookup(reader, metaRoot, Buffer.from('term'));
      if (index?.value?.length === 8) facts.consistentIndex = Number(index.value.readBigUInt64BE(0));
      if (term?.value?.length === 8) facts.term = Number(term.value.readBigUInt64BE(0));
    } else {
      facts.warnings.push('no `meta` bucket: the consistent index is unknown');
    }
    const last = yield* lastElement(reader, bucketRoot(keyBucket.value ?? Buffer.alloc(0), 'key'));
    if (last) {
      if (last.key.length < 17) throw new DbDamage('the last key of the `key` bucket is too short to be a revision');
      facts.revision = Number(last.key.readBigUInt64BE(0));
    }
    facts.ok = true;
  } catch (error) {
    if (!(error instanceof DbDamage)) throw error;
    facts.problems.push(error.message);
  }
  facts.pagesRead = reader.pagesRead + 1;
  return facts;
}
