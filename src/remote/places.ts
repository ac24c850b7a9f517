// Where each snapshot lives: the local rows (backup_dir, as `snapshots list` reads them) and the remote
// copies, matched by snapshot name. And which one `latest` means: the newest verified snapshot in
// either place (a local one when both have it: no download needed).
import type { RemoteCopyRecord } from './remote-catalog.js';

/** What this module needs of a local snapshot (the SnapshotRow of src/etcd/backup/snapshot-inventory.ts fits). */
export interface LocalCopy {
  name: string;
  path: string;
  takenAt: number;
  size: number;
  sha256?: string;
  status: 'ok' | 'bad';
}

export type Where = 'local' | 'remote' | 'both';

export interface SnapshotPlaces {
  name: string;
  takenAt: number;
  where: Where;
  local?: LocalCopy;
  remote?: RemoteCopyRecord;
  /** A verified copy exists in this place. */
  verifiedLocal: boolean;
  verifiedRemote: boolean;
}

/** `snapshot_x.db.age` (a local encrypted copy) and `snapshot_x.db` are one snapshot. */
export function snapshotBaseName(name: string): string {
  return name.endsWith('.age') ? name.slice(0, -4) : name;
}

/** One row per snapshot, newest first. */
export function mergePlaces(local: readonly LocalCopy[], remote: readonly RemoteCopyRecord[]): SnapshotPlaces[] {
  const rows = new Map<string, SnapshotPlaces>();
  const row = (name: string, takenAt: number) => {
    let existing = rows.get(name);
    if (!existing) {
      existing = { name, takenAt, where: 'local', verifiedLocal: false, verifiedRemote: false };
      rows.set(name, existing);
    }
    return existing;
  };
  for (const copy of local) {
    const entry = row(snapshotBaseName(copy.name), copy.takenAt);
    if (!entry.local || (copy.status === 'ok' && entry.local.status !== 'ok')) entry.local = copy;
    entry.verifiedLocal ||= copy.status === 'ok';
  }
  for (const copy of remote) {
    const entry = row(snapshotBaseName(copy.name), Date.parse(copy.takenAt));
    if (!entry.remote || (copy.verified && !entry.remote.verified)) entry.remote = copy;
    entry.verifiedRemote ||= copy.verified;
  }
  for (const entry of rows.values()) entry.where = entry.local && entry.remote ? 'both' : entry.remote ? 'remote' : 'local';
  return [...rows.values()].sort((a, b) => b.takenAt - a.takenAt || (a.name < b.name ? 1 : -1));
}

export type LatestChoice =
  { place: 'local'; row: SnapshotPlaces; local: LocalCopy } | { place: 'remote'; row: SnapshotPlaces; remote: RemoteCopyRecord };

/** The newest snapshot with a verified copy anywhere; its local copy when it has one. */
export function chooseLatest(places: readonly SnapshotPlaces[]): LatestChoice | undefined {
  for (const row of places) {
    if (row.verifiedLocal && row.local) return { place: 'local', row, local: row.local };
    if (row.verifiedRemote && row.remote) return { place: 'remote', row, remote: row.remote };
  }
  return undefined;
}

/** The newest verified remote copy (for `status --max-remote-age`). */
export function newestVerifiedRemote(copies: readonly RemoteCopyRecord[]): RemoteCopyRecord | undefined {
  return [...copies].filter((c) => c.verified).sort((a, b) => Date.parse(b.takenAt) - Date.parse(a.takenAt))[0];
}

export interface RemoteFreshness {
  /** Age of the newest verified remote copy, ms; undefined when there is none. */
  ageMs?: number;
  stale: boolean;
  message: string;
}

/** For `status --max-remote-age`: stale when the newest verified remote copy is older, or there is none (exit 6). */
export function judgeRemoteFreshness(newestTakenAt: string | undefined, maxAgeMs: number, now = Date.now()): RemoteFreshness {
  if (newestTakenAt === undefined) return { stale: true, message: 'no verified remote copy' };
  const ageMs = Math.max(0, now - Date.parse(newestTakenAt));
  const stale = ageMs > maxAgeMs;
  const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)}h`;
  return {
    ageMs,
    stale,
    message: `newest verified remote copy is ${hours(ageMs)} old${stale ? `, older than --max-remote-age ${hours(maxAgeMs)}` : ''}`,
  };
}
