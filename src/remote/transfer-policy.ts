// How big the parts are, how long a part may take, and how often and when a failed request is tried
// again. Pure functions, so the numbers are tested directly.

const MiB = 1024 * 1024;
/** S3's limits: at most 10,000 parts, each at least 5 MiB (but the last) and at most 5 GiB. */
export const MAX_PARTS = 10_000;
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;

/**
 * Part size for an object of `size` bytes (an estimate is fine): S3's smallest, 5 MiB, up to ~44 GiB
 * (etcd's largest database is 8 GiB), then larger in whole MiB so that the parts stay under 9,000, leaving
 * headroom under S3's 10,000 for an estimate that is short. Memory use is (parts in flight + 1) x part
 * size: 15 MiB at the default concurrency, which keeps a backup plus its copy under 150 MB.
 */
export function choosePartSize(size: number, preferred = MIN_PART_SIZE): number {
  const base = Math.max(MIN_PART_SIZE, preferred);
  const needed = Math.ceil(size / 9_000 / MiB) * MiB;
  return Math.min(MAX_PART_SIZE, Math.max(base, needed));
}

export interface TransferPolicy {
  /** Tries per request (the first one included). */
  maxAttempts: number;
  /** Back-off before try n+1: base x 2^(n-1), capped, with up to 50% random jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A request that moves no byte for this long is abandoned (and retried). */
  stallTimeoutMs: number;
  /** The shortest time a part may take, whatever the rate measured so far. */
  minPartTimeoutMs: number;
  /** A part may take this many times what the measured rate predicts. */
  slowFactor: number;
  /** Until a rate is measured, assume at least this many bytes per second. */
  floorBytesPerSecond: number;
  /** Parts uploaded at once. */
  concurrency: number;
}

export const DEFAULT_POLICY: TransferPolicy = {
  maxAttempts: 5,
  backoffBaseMs: 1_000,
  backoffMaxMs: 20_000,
  stallTimeoutMs: 60_000,
  minPartTimeoutMs: 60_000,
  slowFactor: 8,
  floorBytesPerSecond: 64 * 1024,
  concurrency: 2,
};

/** Milliseconds to wait before try `attempt + 1` (attempt counts from 1). `random` in [0, 1). */
export function backoffMs(attempt: number, policy: TransferPolicy, random: number = Math.random()): number {
  const exponential = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (1 + random * 0.5));
}

/**
 * The deadline of one part, scaled to progress: `slowFactor` times what the rate measured over the parts
 * already sent predicts (so a steady slow link is never cut off, and a link that slows down eight-fold is),
 * never below `minPartTimeoutMs`. Before any rate is known, the floor rate gives the bound.
 */
export function partTimeoutMs(partBytes: number, measuredBytesPerSecond: number | undefined, policy: TransferPolicy): number {
  const rate = Math.max(policy.floorBytesPerSecond, measuredBytesPerSecond ?? 0);
  const predicted =
    measuredBytesPerSecond === undefined ? (partBytes / policy.floorBytesPerSecond) * 1000 : (partBytes / rate) * 1000 * policy.slowFactor;
  return Math.max(policy.minPartTimeoutMs, Math.round(predicted));
}

/** A running rate over completed transfers (bytes and the wall time they took). */
export class RateMeter {
  private bytes = 0;
  private ms = 0;

  add(bytes: number, ms: number): void {
    this.bytes += bytes;
    this.ms += Math.max(1, ms);
  }

  /** Bytes per second, or undefined before the first sample. */
  get bytesPerSecond(): number | undefined {
    return this.ms === 0 ? undefined : (this.bytes / this.ms) * 1000;
  }
}
