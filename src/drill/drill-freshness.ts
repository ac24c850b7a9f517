// "Last proven restorable": the newest drill that passed, its snapshot and its age, for `status` and the
// report; with a maximum age, whether that proof is too old (or missing).
import { basename } from 'node:path';
import { formatAge } from '../etcd/backup/format.js';
import type { BackupLocations } from '../etcd/backup/locations.js';
import { drillCatalogFile, readDrillRecords, type DrillRecord } from './drill-catalog.js';

export interface DrillFreshness {
  lastSuccess?: DrillRecord;
  lastAttempt?: DrillRecord;
  /** Since the last successful drill ended. */
  ageMs?: number;
  maxAgeMs?: number;
  /** Only with a maximum age: no successful drill, or an older one. */
  stale: boolean;
  /** One line: `last proven restorable: snapshot_..., drilled 2h 3m ago (taken 5h 1m ago)`. */
  text: string;
}

export function drillFreshness(
  records: readonly DrillRecord[],
  cluster: string,
  now: number,
  maxAgeMs?: number,
  maxAgeText?: string,
): DrillFreshness {
  const ours = records.filter((r) => r.cluster === cluster);
  const lastSuccess = [...ours].reverse().find((r) => r.result === 'ok');
  const lastAttempt = ours.at(-1);
  const ageMs = lastSuccess ? Math.max(0, now - Date.parse(lastSuccess.end)) : undefined;
  const stale = maxAgeMs !== undefined && (ageMs === undefined || ageMs > maxAgeMs);
  let text: string;
  if (!lastSuccess || ageMs === undefined) {
    text = `never proven restorable: no drill has passed${lastAttempt ? ` (last drill failed at ${lastAttempt.end}: ${lastAttempt.error ?? 'see the drill catalog'})` : ''}; run orchestrate drill INVENTORY`;
  } else {
    const taken = lastSuccess.snapshot.takenAt ? `, taken ${formatAge(now - Date.parse(lastSuccess.snapshot.takenAt))} ago` : '';
    text = `last proven restorable: ${basename(lastSuccess.snapshot.file)} (revision ${lastSuccess.snapshot.revision ?? '?'}${taken}), drilled ${formatAge(ageMs)} ago`;
    if (lastAttempt && lastAttempt !== lastSuccess) text += `; the drill after it FAILED at ${lastAttempt.end}: ${lastAttempt.error ?? '?'}`;
  }
  if (maxAgeMs !== undefined)
    text += stale ? ` - older than --max-drill-age ${maxAgeText ?? formatAge(maxAgeMs)}` : ` (max ${maxAgeText ?? formatAge(maxAgeMs)})`;
  return {
    ...(lastSuccess ? { lastSuccess } : {}),
    ...(lastAttempt ? { lastAttempt } : {}),
    ...(ageMs !== undefined ? { ageMs } : {}),
    ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
    stale,
    text,
  };
}

/** Read the drill catalog of an inventory's cluster and judge it; an unreadable catalog counts as no drill. */
export async function readDrillFreshness(
  locations: Pick<BackupLocations, 'catalogFile' | 'cluster'>,
  options: { now?: number; maxAgeMs?: number; maxAgeText?: string } = {},
): Promise<DrillFreshness> {
  const { records } = await readDrillRecords(drillCatalogFile(locations)).catch(() => ({ records: [] as DrillRecord[] }));
  return drillFreshness(records, locations.cluster, options.now ?? Date.now(), options.maxAgeMs, options.maxAgeText);
}
