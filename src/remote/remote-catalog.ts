// The remote catalog: one JSON object per cluster under the catalog prefix, apart from the snapshot
// prefix, so a lifecycle rule on the snapshots cannot take it. It lists every remote copy with what
// verified it. It is a convenience, never a dependency: when it is missing or unreadable it is rebuilt
// from the snapshot objects themselves (each carries its facts as metadata), and a copy rebuilt that way
// counts as unverified until `verify` or `pull` reads it.
import { clusterFileName } from '../etcd/backup/locations.js';
import type { ObjectHead } from './object-store.js';
import type { RemoteSettings } from './settings-types.js';
import type { VerifiedBy } from './verify-remote.js';

export const REMOTE_CATALOG_FORMAT = 1;
const META_PREFIX = 'orchestrate-';

export interface RemoteCopyRecord {
  format: typeof REMOTE_CATALOG_FORMAT;
  cluster: string;
  /** The snapshot's file name (`snapshot_<time>_rev<n>.db`), the same in both places. */
  name: string;
  key: string;
  takenAt: string;
  uploadedAt: string;
  /** Bytes stored (the age file when encrypted) and their sha256 (hex; unknown for a rebuilt record). */
  size: number;
  sha256?: string;
  plaintextSize: number;
  plaintextSha256: string;
  encrypted: boolean;
  recipients?: string[];
  revision?: number;
  verified: boolean;
  verifiedBy?: VerifiedBy | 'pull';
  verifiedAt?: string;
  etag?: string;
  /** Made from the object's metadata after the catalog was lost. */
  rebuilt?: boolean;
  /** Why a later check found the copy bad (then `verified` is false: it counts for nothing, and is kept as evidence). */
  problem?: string;
}

export interface RemoteCatalogFile {
  format: typeof REMOTE_CATALOG_FORMAT;
  cluster: string;
  updatedAt: string;
  copies: RemoteCopyRecord[];
}

/**
 * A snapshot name that can be a file name in the backup folder: one path segment (no `/`, not `.` or `..`),
 * no control characters. Names come from the bucket (catalog, object metadata): a pull joins them to a folder.
 */
export function isPlainFileName(name: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  return name !== '' && name !== '.' && name !== '..' && name.length <= 255 && !/[/\u0000-\u001f\u007f]/.test(name);
}

/** The snapshot name an object key stands for: its last segment without `.age`. */
export function objectBaseName(key: string): string {
  return (key.split('/').at(-1) ?? key).replace(/\.age$/, '');
}

export function catalogKey(settings: Pick<RemoteSettings, 'catalogPrefix'>, cluster: string): string {
  return `${settings.catalogPrefix}${clusterFileName(cluster)}.json`;
}

export function snapshotKey(settings: Pick<RemoteSettings, 'snapshotPrefix'>, cluster: string, name: string, encrypted: boolean): string {
  return `${settings.snapshotPrefix}${clusterFileName(cluster)}/${name}${encrypted ? '.age' : ''}`;
}

export function clusterSnapshotPrefix(settings: Pick<RemoteSettings, 'snapshotPrefix'>, cluster: string): string {
  return `${settings.snapshotPrefix}${clusterFileName(cluster)}/`;
}

/** The facts a snapshot object carries as x-amz-meta-orchestrate-*, for rebuilding a lost catalog. */
export function objectMetadata(
  copy: Pick<RemoteCopyRecord, 'cluster' | 'name' | 'takenAt' | 'plaintextSize' | 'plaintextSha256' | 'encrypted' | 'revision'>,
): Record<string, string> {
  return {
    [`${META_PREFIX}format`]: String(REMOTE_CATALOG_FORMAT),
    [`${META_PREFIX}cluster`]: encodeURIComponent(copy.cluster),
    [`${META_PREFIX}snapshot`]: encodeURIComponent(copy.name),
    [`${META_PREFIX}taken-at`]: copy.takenAt,
    [`${META_PREFIX}plaintext-size`]: String(copy.plaintextSize),
    [`${META_PREFIX}plaintext-sha256`]: copy.plaintextSha256,
    [`${META_PREFIX}encryption`]: copy.encrypted ? 'age' : 'none',
    ...(copy.revision !== undefined ? { [`${META_PREFIX}revision`]: String(copy.revision) } : {}),
  };
}

/** A catalog record from an object's metadata, unverified; undefined for objects we did not write. */
export function recordFromObject(key: string, head: ObjectHead, cluster: string): RemoteCopyRecord | undefined {
  const m = (name: string) => head.metadata[`${META_PREFIX}${name}`];
  const plaintextSha256 = m('plaintext-sha256');
  const takenAt = m('taken-at');
  if (m('format') !== String(REMOTE_CATALOG_FORMAT) || !plaintextSha256 || !takenAt || Number.isNaN(Date.parse(takenAt))) return undefined;
  const name = decodedName(m('snapshot')) ?? objectBaseName(key);
  if (!isPlainFileName(name)) return undefined;
  const revision = Number(m('revision'));
  return {
    format: REMOTE_CATALOG_FORMAT,
    cluster,
    name,
    key,
    takenAt,
    uploadedAt: (head.lastModified ?? new Date(takenAt)).toISOString(),
    size: head.size,
    plaintextSize: Number(m('plaintext-size') ?? 0),
    plaintextSha256,
    encrypted: m('encryption') === 'age',
    ...(Number.isSafeInteger(revision) && m('revision') !== undefined ? { revision } : {}),
    verified: false,
    ...(head.etag ? { etag: head.etag } : {}),
    rebuilt: true,
  };
}

/** The metadata's URI-encoded snapshot name; '' (not a plain file name) when it is not valid URI encoding. */
function decodedName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return '';
  }
}

function isCopyRecord(value: unknown): value is RemoteCopyRecord {
  const r = value as Partial<RemoteCopyRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.key === 'string' &&
    typeof r.name === 'string' &&
    isPlainFileName(r.name) &&
    typeof r.takenAt === 'string' &&
    typeof r.size === 'number' &&
    typeof r.plaintextSha256 === 'string' &&
    typeof r.verified === 'boolean'
  );
}

/** The copies in a catalog's text; throws on anything that is not one. */
export function parseRemoteCatalog(text: string): RemoteCopyRecord[] {
  const parsed = JSON.parse(text) as Partial<RemoteCatalogFile>;
  if (parsed.format !== REMOTE_CATALOG_FORMAT || !Array.isArray(parsed.copies)) throw new Error('not an orchestrate remote catalog');
  return parsed.copies.filter(isCopyRecord);
}

type Rank = [number, number, number];

function compareRank(a: Rank, b: Rank): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** One record per key: a verified record beats an unverified one, then the latest verification or upload wins. */
export function mergeCopies(...lists: readonly (readonly RemoteCopyRecord[])[]): RemoteCopyRecord[] {
  const byKey = new Map<string, RemoteCopyRecord>();
  const rank = (r: RemoteCopyRecord): Rank => [r.verified ? 1 : 0, r.rebuilt ? 0 : 1, Date.parse(r.verifiedAt ?? r.uploadedAt) || 0];
  for (const list of lists) {
    for (const record of list) {
      const current = byKey.get(record.key);
      if (!current) {
        byKey.set(record.key, record);
        continue;
      }
      if (compareRank(rank(record), rank(current)) > 0) byKey.set(record.key, record);
    }
  }
  return [...byKey.values()].sort((x, y) => Date.parse(y.takenAt) - Date.parse(x.takenAt) || (x.key < y.key ? 1 : -1));
}
