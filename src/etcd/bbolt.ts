// A read-only walker over a bbolt file (etcd's backend), enough to check its structure the way
// `bbolt check` / bbolt's Tx.Check does and to visit every bucket entry in cursor order.
// Layout (little-endian): page header = id u64, flags u16, count u16, overflow u32 (16 bytes);
// meta = magic, version, pageSize, flags (u32 each), root bucket {root u64, sequence u64},
// freelist u64, pgid u64 (high water mark), txid u64, checksum u64 (FNV-64a of the 56 bytes before it).

export const BOLT_MAGIC = 0xed0cdaed;
export const BOLT_VERSION = 2;
export const PAGE_HEADER_SIZE = 16;
const ELEMENT_SIZE = 16;
const BUCKET_HEADER_SIZE = 16;
const META_SIZE = 64;

export const PageFlag = { branch: 0x01, leaf: 0x02, meta: 0x04, freelist: 0x10 } as const;
const BUCKET_LEAF_FLAG = 0x01;
/** Freelist pgid when etcd runs bbolt with NoFreelistSync: the free pages are not stored. */
const NO_FREELIST = 0xffffffffffffffffn;
/** Bounded nesting: a real tree is a few levels deep; a corrupt file must not recurse without end. */
const MAX_DEPTH = 64;

export interface BoltMeta {
  pageSize: number;
  flags: number;
  rootPage: number;
  /** undefined when the freelist is not synced to disk. */
  freelistPage: number | undefined;
  /** High water mark: number of pages in use; the database is pgid * pageSize bytes. */
  pgid: number;
  txid: number;
}

export type BoltProblemCode =
  | 'meta.invalid'
  | 'page.beyond-eof'
  | 'page.out-of-bounds'
  | 'page.bad-id'
  | 'page.invalid-type'
  | 'page.multiple-references'
  | 'page.reachable-freed'
  | 'page.unreachable-unfreed'
  | 'page.bad-element'
  | 'page.keys-out-of-order'
  | 'page.too-deep'
  | 'freelist.invalid'
  | 'freelist.double-free';

export interface BoltProblem {
  code: BoltProblemCode;
  message: string;
}

/** FNV-1a, 64 bit: bbolt's meta page checksum. */
export function fnv64a(data: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of data) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

/** Parse and validate one meta page (the page header included); a reason when it is not valid. */
export function parseMetaPage(page: Buffer, expectedId: number): { meta: BoltMeta } | { reason: string } {
  if (page.length < PAGE_HEADER_SIZE + META_SIZE) return { reason: 'file too short for a meta page' };
  const body = page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE);
  const magic = body.readUInt32LE(0);
  if (magic !== BOLT_MAGIC) return { reason: `bad magic 0x${magic.toString(16)} (a bbolt file has 0x${BOLT_MAGIC.toString(16)})` };
  const version = body.readUInt32LE(4);
  if (version !== BOLT_VERSION) return { reason: `unsupported bbolt version ${version} (expected ${BOLT_VERSION})` };
  const stored = body.readBigUInt64LE(56);
  const computed = fnv64a(body.subarray(0, 56));
  if (stored !== computed) return { reason: `meta checksum mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})` };
  const flags = page.readUInt16LE(8);
  if (!(flags & PageFlag.meta)) return { reason: `page flags 0x${flags.toString(16)} are not a meta page` };
  const id = Number(page.readBigUInt64LE(0));
  if (id !== expectedId) return { reason: `meta page id ${id}, expected ${expectedId}` };
  const pageSize = body.readUInt32LE(8);
  if (pageSize < 1024 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0) return { reason: `implausible page size ${pageSize}` };
  const freelist = body.readBigUInt64LE(32);
  return {
    meta: {
      pageSize,
      flags: body.readUInt32LE(12),
      rootPage: Number(body.readBigUInt64LE(16)),
      freelistPage: freelist === NO_FREELIST ? undefined : Number(freelist),
      pgid: Number(body.readBigUInt64LE(40)),
      txid: Number(body.readBigUInt64LE(48)),
    },
  };
}

/** Where the walker gets bytes. `read` may return fewer bytes than asked at the end of the file. */
export interface ByteSource {
  /** Bytes that hold the database (the file minus a sha256 trailer). */
  readonly size: number;
  /** Read into `scratch` when it is large enough (the walker reuses one buffer per tree level, which
   *  avoids page faults on fresh memory for every page), else into a new buffer. */
  read(position: number, length: number, scratch?: Buffer): Buffer | Promise<Buffer>;
}

/** One entry of a bucket, in cursor (key) order. `value` is undefined for a nested bucket, as in bbolt's ForEach. */
export interface BucketEntry {
  key: Buffer;
  value: Buffer | undefined;
}

export interface WalkVisitor {
  /** A top-level bucket begins (the root bucket's keys are bucket names). */
  bucket(name: Buffer): void;
  /** An entry of the current top-level bucket. */
  entry(entry: BucketEntry): void;
  /** A top-level key that is not a bucket (etcdctl refuses such a file). */
  notABucket(key: Buffer): void;
}

export interface WalkResult {
  problems: BoltProblem[];
  /** Problems beyond the ones kept (the list is capped so a wrecked file cannot use unbounded memory). */
  droppedProblems: number;
  pagesVisited: number;
}

const MAX_PROBLEMS = 25;

/** What walkTree calls for every leaf entry. */
interface TreeHandlers {
  /** `depth` is the level of the page holding the entry: anything read below it must use a deeper level. */
  leafEntry(key: Buffer, value: Buffer, isBucket: boolean, depth: number): Promise<void>;
}

/** The keys a page may hold: at or above its own key in the parent, below the parent's next key. */
interface KeyBounds {
  low?: Buffer;
  high?: Buffer;
}

/** A page whose header has been checked, with the key-order check for its elements. */
interface TreePage {
  page: Buffer;
  label: string;
  count: number;
  inOrder: (key: Buffer, index: number) => boolean;
}

/**
 * Walks the tree of the chosen meta: every bucket page once, in key order, checking what bbolt's
 * Tx.Check checks (page bounds, types, single reference, freelist consistency) plus element bounds
 * and key order. Memory stays flat: one page (with its overflow) per tree level is held at a time.
 */
export class BoltWalker {
  private readonly reachable: Uint8Array;
  private freed: Uint8Array | undefined;
  private readonly problems: BoltProblem[] = [];
  /** One reusable read buffer per level (tree depth plus nesting), grown to the largest page seen there. */
  private readonly scratch: Buffer[] = [];
  private droppedProblems = 0;
  private pagesVisited = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly meta: BoltMeta,
    private readonly options: { signal?: AbortSignal; yieldEvery?: number } = {},
  ) {
    this.reachable = new Uint8Array(Math.max(meta.pgid, 2));
  }

  private problem(code: BoltProblemCode, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ code, message });
    else this.droppedProblems++;
  }

  private scratchFor(level: number, length: number): Buffer {
    let buffer = this.scratch[level];
    if (!buffer || buffer.length < length) {
      buffer = Buffer.allocUnsafeSlow(Math.max(length, this.meta.pageSize));
      this.scratch[level] = buffer;
    }
    return buffer;
  }

  private async readPage(pgid: number, level: number): Promise<Buffer | undefined> {
    const { pageSize } = this.meta;
    const position = pgid * pageSize;
    if (position + pageSize > this.source.size) {
      this.problem('page.beyond-eof', `page ${pgid} lies beyond the end of the data (${this.source.size} bytes): the file is truncated`);
      return undefined;
    }
    const first = await this.source.read(position, pageSize, this.scratchFor(level, pageSize));
    if (first.length < pageSize) {
      this.problem('page.beyond-eof', `page ${pgid}: short read, the file is truncated`);
      return undefined;
    }
    const overflow = first.readUInt32LE(12);
    if (overflow === 0) return first;
    const total = (overflow + 1) * pageSize;
    if (pgid + overflow >= this.meta.pgid) {
      this.problem('page.out-of-bounds', `page ${pgid}: overflow ${overflow} runs past the high water mark ${this.meta.pgid}`);
      return undefined;
    }
    if (position + total > this.source.size) {
      this.problem('page.beyond-eof', `page ${pgid} with ${overflow} overflow pages runs past the end of the data: the file is truncated`);
      return undefined;
    }
    const whole = await this.source.read(position, total, this.scratchFor(level, total));
    if (whole.length < total) {
      this.problem('page.beyond-eof', `page ${pgid}: short read, the file is truncated`);
      return undefined;
    }
    return whole;
  }

  private async pause(): Promise<void> {
    this.pagesVisited++;
    const every = this.options.yieldEvery ?? 2048;
    if (this.pagesVisited % every === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      this.options.signal?.throwIfAborted();
    }
  }

  /** Load the freelist (if synced) and mark the meta and freelist pages reachable. */
  private async loadFreelist(): Promise<void> {
    this.reachable[0] = 1;
    this.reachable[1] = 1;
    const freelistPage = this.meta.freelistPage;
    if (freelistPage === undefined) return;
    if (freelistPage < 2 || freelistPage >= this.meta.pgid) {
      this.problem('freelist.invalid', `freelist page ${freelistPage} is outside the database (high water mark ${this.meta.pgid})`);
      return;
    }
    const page = await this.readPage(freelistPage, 0);
    if (!page) return;
    const flags = page.readUInt16LE(8);
    if (!(flags & PageFlag.freelist)) {
      this.problem('freelist.invalid', `page ${freelistPage} should be the freelist but has flags 0x${flags.toString(16)}`);
      return;
    }
    const overflow = page.readUInt32LE(12);
    for (let i = 0; i <= overflow; i++) this.reachable[freelistPage + i] = 1;
    let count = page.readUInt16LE(10);
    let offset = PAGE_HEADER_SIZE;
    if (count === 0xffff) {
      count = Number(page.readBigUInt64LE(offset));
      offset += 8;
    }
    if (offset + count * 8 > page.length) {
      this.problem('freelist.invalid', `freelist page ${freelistPage} claims ${count} ids, more than fit in it`);
      return;
    }
    const freed = new Uint8Array(this.reachable.length);
    for (let i = 0; i < count; i++) {
      const id = Number(page.readBigUInt64LE(offset + i * 8));
      if (id >= freed.length) {
        this.problem('freelist.invalid', `freelist lists page ${id}, beyond the high water mark ${this.meta.pgid}`);
        continue;
      }
      if (freed[id]) this.problem('freelist.double-free', `page ${id}: already freed`);
      freed[id] = 1;
    }
    this.freed = freed;
  }

  /** Walk the whole database, calling the visitor for every top-level bucket and its entries. */
  async walk(visitor: WalkVisitor): Promise<WalkResult> {
    await this.loadFreelist();
    await this.walkTree(this.meta.rootPage, undefined, 0, {
      leafEntry: async (key, value, isBucket, depth) => {
        if (!isBucket) {
          visitor.notABucket(key);
          return;
        }
        visitor.bucket(key);
        await this.walkBucket(value, depth + 1, (entry) => visitor.entry(entry));
      },
    });
    if (this.freed) {
      const unreachable: number[] = [];
      let count = 0;
      for (let id = 0; id < this.meta.pgid; id++) {
        if (!this.reachable[id] && !this.freed[id]) {
          count++;
          if (unreachable.length < 10) unreachable.push(id);
        }
      }
      if (count > 0) {
        this.problem('page.unreachable-unfreed', `${count} page(s) neither reachable nor free (first: ${unreachable.join(', ')})`);
      }
    }
    return { problems: this.problems, droppedProblems: this.droppedProblems, pagesVisited: this.pagesVisited };
  }

  /** A bucket value is a 16-byte header (root page, sequence); root 0 means an inline page follows it. */
  private async walkBucket(value: Buffer, depth: number, onEntry: (entry: BucketEntry) => void): Promise<void> {
    if (value.length < BUCKET_HEADER_SIZE) {
      this.problem('page.bad-element', `bucket value of ${value.length} bytes is shorter than a bucket header`);
      return;
    }
    const root = Number(value.readBigUInt64LE(0));
    const inline = root === 0 ? value.subarray(BUCKET_HEADER_SIZE) : undefined;
    await this.walkTree(root, inline, depth, {
      leafEntry: async (key, entryValue, isBucket, leafDepth) => {
        onEntry({ key, value: isBucket ? undefined : entryValue });
        // Nested buckets hold no etcd data but their pages still count for the reachability check.
        if (isBucket) await this.walkBucket(entryValue, leafDepth + 1, () => undefined);
      },
    });
  }

  private async walkTree(pgid: number, inlinePage: Buffer | undefined, depth: number, handlers: TreeHandlers, bounds: KeyBounds = {}): Promise<void> {
    if (depth > MAX_DEPTH) {
      this.problem('page.too-deep', `page ${pgid}: tree deeper than ${MAX_DEPTH} levels (a reference cycle?)`);
      return;
    }
    const opened = inlinePage ? this.openInlinePage(inlinePage) : await this.openPage(pgid, depth);
    if (!opened) return;
    const { page, label } = opened;
    const flags = page.readUInt16LE(8);
    const count = page.readUInt16LE(10);
    if (PAGE_HEADER_SIZE + count * ELEMENT_SIZE > page.length) {
      this.problem('page.bad-element', `${label}: ${count} elements do not fit in ${page.length} bytes`);
      return;
    }
    const tree: TreePage = { page, label, count, inOrder: this.keyOrderCheck(label, bounds) };
    if (flags & PageFlag.leaf) {
      await this.walkLeafPage(tree, depth, handlers);
    } else if (flags & PageFlag.branch && !inlinePage) {
      await this.walkBranchPage(tree, depth, handlers, bounds.high);
    } else {
      this.problem('page.invalid-type', `${label}: invalid type 0x${flags.toString(16)} (expected a branch or leaf page)`);
    }
  }

  /** An inline bucket's page lives inside its parent's value: no id, no reachability of its own. */
  private openInlinePage(inlinePage: Buffer): { page: Buffer; label: string } | undefined {
    if (inlinePage.length < PAGE_HEADER_SIZE) {
      this.problem('page.bad-element', 'inline bucket page shorter than a page header');
      return undefined;
    }
    return { page: inlinePage, label: 'inline page' };
  }

  /** Read a referenced page and mark it (and its overflow) reachable; undefined when it cannot be walked. */
  private async openPage(pgid: number, depth: number): Promise<{ page: Buffer; label: string } | undefined> {
    const label = `page ${pgid}`;
    if (pgid < 2 || pgid >= this.meta.pgid) {
      this.problem('page.out-of-bounds', `${label}: referenced but outside the database (high water mark ${this.meta.pgid})`);
      return undefined;
    }
    if (this.reachable[pgid]) {
      this.problem('page.multiple-references', `${label}: multiple references`);
      return undefined;
    }
    const page = await this.readPage(pgid, depth);
    if (!page) return undefined;
    const overflow = page.readUInt32LE(12);
    for (let i = 0; i <= overflow; i++) {
      if (this.reachable[pgid + i]) this.problem('page.multiple-references', `page ${pgid + i}: multiple references`);
      this.reachable[pgid + i] = 1;
    }
    if (this.freed?.[pgid]) this.problem('page.reachable-freed', `${label}: reachable freed`);
    const id = Number(page.readBigUInt64LE(0));
    if (id !== pgid) {
      this.problem('page.bad-id', `${label}: header says page ${id}`);
      return undefined;
    }
    await this.pause();
    return { page, label };
  }

  /** Keys must ascend within a page and stay inside the range its parent's keys give it. */
  private keyOrderCheck(label: string, bounds: KeyBounds): (key: Buffer, index: number) => boolean {
    let previous: Buffer | undefined = bounds.low;
    return (key, index) => {
      if (previous && Buffer.compare(previous, key) > 0) {
        this.problem('page.keys-out-of-order', `${label}: key ${index} sorts before the key preceding it`);
        return false;
      }
      if (bounds.high && Buffer.compare(key, bounds.high) >= 0) {
        this.problem('page.keys-out-of-order', `${label}: key ${index} is not below the next key of its parent`);
        return false;
      }
      previous = key;
      return true;
    };
  }

  private async walkLeafPage({ page, label, count, inOrder }: TreePage, depth: number, handlers: TreeHandlers): Promise<void> {
    for (let i = 0; i < count; i++) {
      const element = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      const elementFlags = page.readUInt32LE(element);
      const start = element + page.readUInt32LE(element + 4);
      const keySize = page.readUInt32LE(element + 8);
      const valueSize = page.readUInt32LE(element + 12);
      const end = start + keySize + valueSize;
      if (end > page.length) {
        this.problem('page.bad-element', `${label}: element ${i} points past the end of the page`);
        return;
      }
      const key = page.subarray(start, start + keySize);
      if (!inOrder(key, i)) return;
      await handlers.leafEntry(key, page.subarray(start + keySize, end), (elementFlags & BUCKET_LEAF_FLAG) !== 0, depth);
    }
  }

  /** Reads every child reference first (all keys checked), then walks the children in key order. */
  private async walkBranchPage(
    { page, label, count, inOrder }: TreePage,
    depth: number,
    handlers: TreeHandlers,
    high: Buffer | undefined,
  ): Promise<void> {
    if (count === 0) {
      this.problem('page.bad-element', `${label}: branch page without elements`);
      return;
    }
    const children: { key: Buffer; pgid: number }[] = [];
    for (let i = 0; i < count; i++) {
      const element = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      const start = element + page.readUInt32LE(element);
      const keySize = page.readUInt32LE(element + 4);
      if (start + keySize > page.length) {
        this.problem('page.bad-element', `${label}: element ${i} points past the end of the page`);
        return;
      }
      const key = page.subarray(start, start + keySize);
      if (!inOrder(key, i)) return;
      children.push({ key, pgid: Number(page.readBigUInt64LE(element + 8)) });
    }
    for (const [i, child] of children.entries()) {
      const next = children[i + 1]?.key ?? high;
      await this.walkTree(child.pgid, undefined, depth + 1, handlers, { low: child.key, ...(next ? { high: next } : {}) });
    }
  }
}
