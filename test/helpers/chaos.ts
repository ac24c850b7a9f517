// Small pieces of the chaos run (test/chaos): a seeded random source, so that a failing run can be replayed
// with the seed it printed, and the distribution of the recovery times.

/** mulberry32: a tiny seeded generator of numbers in [0, 1); the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from CHAOS_SEED (a non-negative integer), else a fresh one. */
export function chaosSeed(text: string | undefined): number {
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`CHAOS_SEED must be a non-negative integer, not "${text}"`);
  return seed;
}

/** The value at quantile `q` (0..1) of `sorted` (ascending), nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** "min 1.2 s, median 3.4 s, p90 5.6 s, max 7.8 s (n=20)". */
export function distribution(valuesMs: readonly number[]): string {
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  return `min ${s(sorted[0] ?? Number.NaN)}, median ${s(quantile(sorted, 0.5))}, p90 ${s(quantile(sorted, 0.9))}, max ${s(sorted.at(-1) ?? Number.NaN)} (n=${sorted.length})`;
}
