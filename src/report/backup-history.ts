// Backup history from the catalog: each attempt on a time axis against the schedule, the gaps between
// good snapshots that break the RPO, the size and the duration of each attempt, the failures.
import type { CatalogRecord } from '../etcd/backup/catalog.js';

export interface BackupPoint {
  at: number;
  ok: boolean;
  sizeBytes?: number;
  durationMs: number;
  file?: string;
  error?: string;
}

export interface RpoGap {
  from: number;
  to: number;
  ms: number;
  /** Still open: no good snapshot since `from`. */
  ongoing: boolean;
}

export interface BackupHistory {
  start: number;
  end: number;
  points: BackupPoint[];
  /** Expected interval between backups, and whether the inventory said so or it was inferred. */
  intervalMs?: number;
  intervalSource?: 'inventory' | 'inferred';
  rpoMs: number;
  rpoSource: 'inventory' | 'option' | 'interval' | 'default';
  gaps: RpoGap[];
  /** Records before the window that were left out. */
  olderRecords: number;
}

export interface HistoryOptions {
  now: number;
  /** How far back to draw. Default 14 days. */
  windowMs?: number;
  intervalMs?: number;
  rpoMs?: number;
  rpoSource?: 'inventory' | 'option';
}

const DAY_MS = 86_400_000;

/** The median spacing of good snapshots, when there are enough to say. */
export function inferInterval(successTimes: readonly number[]): number | undefined {
  if (successTimes.length < 3) return undefined;
  const gaps = successTimes
    .slice(1)
    .map((t, i) => t - (successTimes[i] ?? t))
    .filter((g) => g > 0)
    .sort((a, b) => a - b);
  const mid = gaps[Math.floor(gaps.length / 2)];
  return mid && mid > 0 ? mid : undefined;
}

/** Gaps between consecutive good snapshots (and from the last one to now) longer than the RPO. */
export function rpoGaps(successTimes: readonly number[], now: number, rpoMs: number): RpoGap[] {
  const gaps: RpoGap[] = [];
  for (let i = 1; i < successTimes.length; i++) {
    const from = successTimes[i - 1] ?? 0;
    const to = successTimes[i] ?? 0;
    if (to - from > rpoMs) gaps.push({ from, to, ms: to - from, ongoing: false });
  }
  const last = successTimes.at(-1);
  if (last !== undefined && now - last > rpoMs) gaps.push({ from: last, to: now, ms: now - last, ongoing: true });
  return gaps;
}

export function backupHistory(records: readonly CatalogRecord[], cluster: string, options: HistoryOptions): BackupHistory {
  const ours = records.filter((r) => r.cluster === cluster && !r.rebuilt);
  const windowStart = options.now - (options.windowMs ?? 14 * DAY_MS);
  const all: BackupPoint[] = ours
    .map((r) => ({
      at: Date.parse(r.end),
      ok: r.result === 'ok',
      durationMs: r.durationMs,
      ...(r.size !== undefined ? { sizeBytes: r.size } : {}),
      ...(r.file ? { file: r.file } : {}),
      ...(r.error ? { error: r.error } : {}),
    }))
    .filter((p) => Number.isFinite(p.at))
    .sort((a, b) => a.at - b.at);
  const points = all.filter((p) => p.at >= windowStart);
  // The gap that crosses the window's start counts too: keep the last good one before it.
  const before = all.filter((p) => p.at < windowStart && p.ok).at(-1);
  const successTimes = [...(before ? [before.at] : []), ...points.filter((p) => p.ok).map((p) => p.at)];
  const inferred = inferInterval(successTimes);
  const intervalMs = options.intervalMs ?? inferred;
  const rpoSource = options.rpoMs !== undefined ? (options.rpoSource ?? 'option') : intervalMs !== undefined ? 'interval' : 'default';
  const rpoMs = options.rpoMs ?? (intervalMs !== undefined ? 2 * intervalMs : DAY_MS);
  const start = Math.min(options.now - 1, Math.max(windowStart, points[0]?.at ?? windowStart) - (intervalMs ?? 3_600_000) / 2);
  return {
    start,
    end: options.now,
    points,
    ...(intervalMs !== undefined
      ? { intervalMs, intervalSource: options.intervalMs !== undefined ? ('inventory' as const) : ('inferred' as const) }
      : {}),
    rpoMs,
    rpoSource,
    gaps: rpoGaps(successTimes, options.now, rpoMs),
    olderRecords: all.length - points.length,
  };
}
