// What `orchestrate snapshots` prints about both places: pure functions over what was found, so the
// text is tested without a bucket.
import { formatAge, formatBytes, formatTable } from '../etcd/backup/format.js';
import type { RetentionPlan, RetentionEntry } from '../etcd/backup/retention.js';
import type { SnapshotRow } from '../etcd/backup/snapshot-inventory.js';
import type { SnapshotPlaces } from '../remote/places.js';
import type { RemoteCopyRecord } from '../remote/remote-catalog.js';
import type { CopyCheck } from '../remote/verify-copy.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function localState(row: SnapshotRow | undefined): string {
  if (!row) return '-';
  const state = `${row.status === 'ok' ? 'ok' : 'BAD'} (${row.checked === 'catalog' ? 'recorded' : 'verified now'})`;
  return `${state}${row.foreign ? ' not named by orchestrate' : ''}${row.problems ? `: ${row.problems}` : ''}`;
}

export function remoteState(copy: RemoteCopyRecord | undefined): string {
  if (!copy) return '-';
  const sealed = copy.encrypted ? 'age' : 'plain';
  if (copy.verified) return `ok (${copy.verifiedBy ?? 'verified'}, ${sealed})`;
  if (copy.problem) return `BAD: ${copy.problem}`;
  return `UNVERIFIED (${copy.rebuilt ? 'found without a catalog record' : 'not checked'}, ${sealed}): run snapshots verify --remote`;
}

/** One row per snapshot, newest first: where it lives and the state of each copy. */
export function formatPlaces(places: readonly SnapshotPlaces[], localRows: readonly SnapshotRow[], now: number): string {
  if (places.length === 0) return 'no snapshots yet, in either place: take one with `orchestrate backup INVENTORY`\n';
  const byPath = new Map(localRows.map((r) => [r.path, r]));
  const rows = places.map((place) => {
    const local = place.local ? byPath.get(place.local.path) : undefined;
    const size = local?.size ?? place.remote?.plaintextSize;
    return [
      iso(place.takenAt),
      formatAge(now - place.takenAt),
      formatBytes(size),
      String(local?.revision ?? place.remote?.revision ?? '-'),
      local?.keys !== undefined ? String(local.keys) : '-',
      place.where,
      localState(local),
      remoteState(place.remote),
      `${place.name}${local?.isPointer ? ' = snapshot.db' : ''}`,
    ];
  });
  return formatTable(['TIME (UTC)', 'AGE', 'SIZE', 'REVISION', 'KEYS', 'WHERE', 'LOCAL', 'REMOTE', 'SNAPSHOT'], rows);
}

/** `keep` and `(would) delete` lines of a retention plan, for either place. */
export function formatPruneDecisions<E extends RetentionEntry>(plan: RetentionPlan<E>, dryRun: boolean, now: number): string {
  const line = (verb: string, d: RetentionPlan<E>['keep'][number]) =>
    `  ${verb} ${d.entry.name} (${formatAge(now - d.entry.takenAt)} old): ${d.reasons.join('; ')}\n`;
  return [...plan.keep.map((d) => line('keep   ', d)), ...plan.delete.map((d) => line(dryRun ? 'would delete' : 'deleted', d))].join('');
}

/** One line per checked remote copy. */
export function remoteStatus(bucket: string, check: CopyCheck): string {
  const url = `s3://${bucket}/${check.copy.key}`;
  if (!check.ok) return `${url}: BAD: ${check.problems.join('; ')}`;
  const plain = check.plaintext ? `, snapshot sha256 ${check.plaintext.sha256}` : '';
  return `${url}: ok, ${formatBytes(check.stored.size)} stored, sha256 ${check.stored.sha256}${plain}${check.copy.encrypted ? ' (decrypted with the identity)' : ''}`;
}
