// What the backup catalog keeps of a remote copy, good or failed (the remote catalog holds the full
// record), and the one line that describes a planned copy for --dry-run and the live output.
import type { CatalogRemoteCopy } from '../etcd/backup/catalog.js';
import type { RemoteCopyResult } from './copy-snapshot.js';
import { catalogKey, snapshotKey } from './remote-catalog.js';
import { RemoteCopyError } from './remote-errors.js';
import type { RemoteSettings } from './settings-types.js';

export function s3Url(settings: Pick<RemoteSettings, 'bucket'>, key: string): string {
  return `s3://${settings.bucket}/${key}`;
}

/** Where a snapshot's copy goes: `s3://bucket/<prefix>snapshots/<cluster>/<name>[.age]`. */
export function copyUrl(settings: RemoteSettings, cluster: string, name: string): string {
  return s3Url(settings, snapshotKey(settings, cluster, name, settings.encryption !== undefined));
}

export function copySucceeded(result: RemoteCopyResult, settings: Pick<RemoteSettings, 'bucket'>): CatalogRemoteCopy {
  const { record } = result;
  return {
    result: 'ok',
    url: s3Url(settings, record.key),
    encrypted: record.encrypted,
    size: record.size,
    ...(record.sha256 ? { sha256: record.sha256 } : {}),
    verifiedBy: result.alreadyThere ? `already there (${record.verifiedBy ?? 'verified before'})` : (record.verifiedBy ?? 'unknown'),
    durationMs: Math.round(result.durationMs),
  };
}

export function copyFailed(error: unknown, settings: RemoteSettings, cluster: string, name: string, durationMs: number): CatalogRemoteCopy {
  const known = error instanceof RemoteCopyError;
  return {
    result: 'failed',
    url: copyUrl(settings, cluster, name),
    encrypted: settings.encryption !== undefined,
    durationMs: Math.round(durationMs),
    error: error instanceof Error ? error.message : String(error),
    kind: known ? error.kind : 'internal',
    ...(known && error.hint ? { hint: error.hint } : {}),
  };
}

/** The planned copy in one line: where, as whom (key id shortened, secrets never), encrypted or not, how checked. */
export function describePlannedCopy(settings: RemoteSettings, cluster: string, file: string, name: string, keyDescription: string): string {
  const endpoint = settings.endpoint ? `at ${settings.endpoint}` : `(AWS ${settings.region})`;
  const encryption = settings.encryption
    ? `encrypted on the way with age for ${settings.encryption.recipients.length} recipient(s)`
    : 'NOT encrypted (backup_remote.allow_unencrypted)';
  const check = settings.verify === 'read-back' ? 'read back and hashed' : "checked by the server's checksum of size and sha256 (else read back)";
  return (
    `copy ${file} to ${copyUrl(settings, cluster, name)} ${endpoint} with key ${keyDescription}, ${encryption}, in parts with bounded retries; ` +
    `${check}; then record it in ${s3Url(settings, catalogKey(settings, cluster))}`
  );
}
