// Which snapshots to keep: pure functions over snapshot entries, no file system.
// Policies combine like restic's `forget`: a snapshot is kept when any policy keeps it. Only verified
// snapshots count towards a policy, unverified files are never deleted automatically (they are
// evidence), and the newest verified snapshot is never deleted whatever the policy says.

export interface RetentionEntry {
  /** File name (the identity used in the result). */
  name: string;
  /** When the snapshot was taken, ms since the epoch. */
  takenAt: number;
  verified: boolean;
}

export interface RetentionPolicy {
  /** Keep the newest N verified snapshots. */
  keepLast?: number;
  /** Keep verified snapshots younger than this many seconds (like a vendor platform's `localStorage.ttl`). */
  ttlSeconds?: number;
  /** Grandfather-father-son: the newest snapshot of each of the last N hours / days / ISO weeks (UTC) that have one. */
  hourly?: number;
  daily?: number;
  weekly?: number;
}

export interface RetentionDecision<E extends RetentionEntry = RetentionEntry> {
  entry: E;
  /** Why it is kept (every policy that keeps it) or why it goes. */
  reasons: string[];
}

export interface RetentionPlan<E extends RetentionEntry = RetentionEntry> {
  keep: RetentionDecision<E>[];
  delete: RetentionDecision<E>[];
}

/** True when the policy says anything at all (an empty policy keeps everything). */
export function hasPolicy(policy: RetentionPolicy): boolean {
  return [policy.keepLast, policy.ttlSeconds, policy.hourly, policy.daily, policy.weekly].some((v) => v !== undefined);
}

/** Problems with the numbers, as messages naming the option; [] when valid. */
export function checkPolicy(policy: RetentionPolicy): string[] {
  const problems: string[] = [];
  const counts: [keyof RetentionPolicy, string][] = [
    ['keepLast', '--keep-last'],
    ['hourly', '--hourly'],
    ['daily', '--daily'],
    ['weekly', '--weekly'],
  ];
  for (const [key, option] of counts) {
    const value = policy[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1))
      problems.push(`${option} must be a whole number of at least 1 (got ${value})`);
  }
  if (policy.ttlSeconds !== undefined && (!Number.isFinite(policy.ttlSeconds) || policy.ttlSeconds <= 0)) {
    problems.push(`--ttl must be a positive number of seconds (got ${policy.ttlSeconds})`);
  }
  return problems;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Monday-based ISO week, as `YYYY-Www` (UTC). */
export function isoWeek(ms: number): string {
  const date = new Date(Math.floor(ms / DAY) * DAY);
  const weekday = (date.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = new Date(date.getTime() + (3 - weekday) * DAY);
  const year = thursday.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(year, 0, 4));
  const firstWeekday = (firstThursday.getUTCDay() + 6) % 7;
  const week1Monday = firstThursday.getTime() - firstWeekday * DAY;
  const week = Math.floor((thursday.getTime() - week1Monday) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function bucketKeep<E extends RetentionEntry>(
  newestFirst: E[],
  count: number,
  bucketOf: (ms: number) => string,
  label: string,
  kept: Map<E, string[]>,
): void {
  const seen = new Set<string>();
  for (const entry of newestFirst) {
    if (seen.size >= count) break;
    const bucket = bucketOf(entry.takenAt);
    if (seen.has(bucket)) continue;
    seen.add(bucket);
    kept.get(entry)?.push(`${label} ${bucket}`);
  }
}

/** Decide, for every entry, keep or delete, with the reasons. `now` is ms since the epoch. */
export function planRetention<E extends RetentionEntry>(entries: readonly E[], policy: RetentionPolicy, now: number): RetentionPlan<E> {
  const verified = entries.filter((e) => e.verified).sort((a, b) => b.takenAt - a.takenAt || (a.name < b.name ? 1 : -1));
  const kept = new Map<E, string[]>(verified.map((e) => [e, []]));
  const plan: RetentionPlan<E> = { keep: [], delete: [] };

  for (const entry of entries) {
    if (!entry.verified) plan.keep.push({ entry, reasons: ['not verified: never counted and never deleted automatically'] });
  }
  if (!hasPolicy(policy)) {
    for (const entry of verified) plan.keep.push({ entry, reasons: ['no retention policy given'] });
    return plan;
  }

  const newest = verified[0];
  if (newest) kept.get(newest)?.push('newest verified snapshot (never deleted)');
  if (policy.keepLast !== undefined) {
    verified.slice(0, policy.keepLast).forEach((entry, i) => kept.get(entry)?.push(`keep-last ${policy.keepLast} (#${i + 1})`));
  }
  if (policy.ttlSeconds !== undefined) {
    const limit = policy.ttlSeconds * 1000;
    for (const entry of verified) if (now - entry.takenAt <= limit) kept.get(entry)?.push(`younger than ttl ${policy.ttlSeconds}s`);
  }
  if (policy.hourly !== undefined)
    bucketKeep(verified, policy.hourly, (ms) => new Date(Math.floor(ms / HOUR) * HOUR).toISOString().slice(0, 13) + 'h', 'hourly', kept);
  if (policy.daily !== undefined) bucketKeep(verified, policy.daily, (ms) => new Date(ms).toISOString().slice(0, 10), 'daily', kept);
  if (policy.weekly !== undefined) bucketKeep(verified, policy.weekly, isoWeek, 'weekly', kept);

  for (const entry of verified) {
    const reasons = kept.get(entry) ?? [];
    if (reasons.length > 0) plan.keep.push({ entry, reasons });
    else plan.delete.push({ entry, reasons: [deleteReason(policy, entry, now)] });
  }
  return plan;
}

function deleteReason(policy: RetentionPolicy, entry: RetentionEntry, now: number): string {
  const parts: string[] = [];
  if (policy.keepLast !== undefined) parts.push(`not among the newest ${policy.keepLast}`);
  if (policy.ttlSeconds !== undefined) parts.push(`older than ttl ${policy.ttlSeconds}s (age ${Math.round((now - entry.takenAt) / 1000)}s)`);
  if (policy.hourly !== undefined || policy.daily !== undefined || policy.weekly !== undefined) parts.push('not the newest of a kept hour/day/week');
  return parts.join(', ');
}
