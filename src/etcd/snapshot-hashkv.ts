// The HashKV a member restored from a snapshot must report, computed from the snapshot file: etcd's
// HashByRev is a CRC-32C over the bucket name `key` and then, in revision order, every entry (bucket key
// and value) above the compacted revision, plus the entries at or below it that are the latest revision
// of a key that exists (what a compaction keeps). The live keys' latest revisions come from the sorted
// key index; this second pass over the bucket hashes what a member will hash.
import { Crc32c } from './crc32c.js';
import { walkKeyBucket } from './snapshot-keys.js';

const SUB_LIMIT = 2 ** 20;
const MAIN_LIMIT = 2 ** 33;

/** One number per revision, in revision order: main * 2^20 + sub; undefined beyond what that encodes exactly. */
export function encodeRevision(main: number, sub: number): number | undefined {
  return sub < SUB_LIMIT && main < MAIN_LIMIT ? main * SUB_LIMIT + sub : undefined;
}

/** The revisions a compaction keeps below the compacted revision: sorted once, then asked in ascending order. */
export class KeepSet {
  private values = new Float64Array(1024);
  private length = 0;
  private cursor = 0;
  /** Set when a revision could not be encoded: the expected hash cannot be computed. */
  overflow = false;

  get size(): number {
    return this.length;
  }

  add(main: number, sub: number): void {
    const value = encodeRevision(main, sub);
    if (value === undefined) {
      this.overflow = true;
      return;
    }
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }

  seal(): void {
    this.values = this.values.slice(0, this.length).sort();
    this.cursor = 0;
  }

  /** Membership for revisions asked in ascending order (the bucket's order). */
  hasAscending(main: number, sub: number): boolean {
    const value = encodeRevision(main, sub);
    if (value === undefined) return false;
    while (this.cursor < this.length && (this.values[this.cursor] ?? Infinity) < value) this.cursor++;
    return this.values[this.cursor] === value;
  }
}

export interface ExpectedHash {
  hash: number;
  /** The revision the hash is for. */
  revision: number;
}

/**
 * HashKV at the snapshot's revision for a member restored from `path`, given the compacted revision the
 * member will have, the live keys' latest revisions at or below it, and how many live keys there are. With `bumpTo` (etcdutl
 * --bump-revision --mark-compacted) the restore adds an empty entry at that revision and compacts there.
 */
export async function snapshotHashKv(
  path: string,
  keep: KeepSet,
  compactRevision: number,
  options: { liveKeys: number; bumpTo?: number; signal?: AbortSignal },
): Promise<ExpectedHash> {
  keep.seal();
  // etcd hashes every entry below the compaction when no key exists at all (its `len(keep) > 0` test; a bump entry counts).
  const keepAll = options.liveKeys === 0 && options.bumpTo === undefined;
  const crc = new Crc32c().update(Buffer.from('key'));
  const summary = await walkKeyBucket(
    path,
    (entry) => {
      if (entry.main > compactRevision || keepAll || keep.hasAscending(entry.main, entry.sub)) {
        crc.update(entry.rawKey);
        crc.update(entry.rawValue);
      }
    },
    options.signal ? { signal: options.signal } : {},
  );
  if (options.bumpTo === undefined) return { hash: crc.digest(), revision: summary.revision };
  const bumped = Buffer.alloc(17);
  bumped.writeBigUInt64BE(BigInt(options.bumpTo), 0);
  bumped[8] = 0x5f; // '_'
  crc.update(bumped);
  return { hash: crc.digest(), revision: options.bumpTo };
}
