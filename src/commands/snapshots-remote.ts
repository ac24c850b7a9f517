// The remote side of `orchestrate snapshots` (backup_remote): where each snapshot lives, reading remote
// copies back (`verify --remote`), bringing one home (`pull`), and retention in the bucket. The remote is
// opened (settings checked, credentials found) before anything is read or written.
import { resolve } from 'node:path';
import type { Inventory } from '../config/types.js';
import type { BackupLocations } from '../etcd/backup/locations.js';
import type { RetentionPolicy } from '../etcd/backup/retention.js';
import type { SnapshotRow } from '../etcd/backup/snapshot-inventory.js';
import type { EncryptedVerifier } from '../etcd/backup/catalog.js';
import type { SnapshotReport } from '../etcd/snapshot-file.js';
import { IdentityError, type AgeIdentity } from '../remote/identity.js';
import type { RemoteBackups } from '../remote/remote-backups.js';
import type { RemoteCopyRecord } from '../remote/remote-catalog.js';
import type { LocalCopy } from '../remote/places.js';
import { ExitCode, UsageError } from '../errors.js';
import { helpOption, parseCommandLine } from './command-line.js';
import { formatPlaces, formatPruneDecisions, remoteStatus } from './snapshots-format.js';

/** The inventory's remote, opened; undefined without backup_remote. */
export async function openRemote(inventory: Inventory, locations: BackupLocations): Promise<RemoteBackups | undefined> {
  const { openRemoteBackups } = await import('../remote/remote-backups.js');
  return openRemoteBackups(inventory, locations);
}

/**
 * For `snapshots list`: the verifier of encrypted local snapshots when the identity is at hand (decrypt,
 * verify, remove); undefined otherwise (then a recorded file's sha256 is checked instead).
 */
export async function optionalVerifier(inventory: Inventory, backupDir: string): Promise<EncryptedVerifier | undefined> {
  const { localEncryptionFor, loadInventoryIdentity } = await import('../remote/remote-backups.js');
  if (!localEncryptionFor(inventory)) return undefined;
  const identity = await loadInventoryIdentity(inventory).catch(() => undefined);
  if (!identity) return undefined;
  const { encryptedVerifier } = await import('../remote/local-encryption.js');
  return encryptedVerifier(identity, backupDir);
}

/** `snapshots verify FILE.age`: decrypted beside it into an owner-only temporary file, verified, removed. */
export async function verifyEncryptedFile(path: string): Promise<SnapshotReport> {
  const { loadIdentity } = await import('../remote/identity.js');
  const { encryptedVerifier } = await import('../remote/local-encryption.js');
  const identity = await loadIdentity(undefined);
  const { report } = await encryptedVerifier(identity)(path, {});
  return report;
}

async function inventoryAndRemote(inventoryFile: string): Promise<{ inventory: Inventory; locations: BackupLocations; remote: RemoteBackups }> {
  const { loadInventory } = await import('../config/inventory.js');
  const { backupLocations } = await import('../etcd/backup/locations.js');
  const { inventory } = await loadInventory(resolve(inventoryFile), { requireEtcd: true });
  const locations = backupLocations(inventory);
  const remote = await openRemote(inventory, locations);
  if (!remote)
    throw new UsageError(
      `${inventory.file} sets no backup_remote: there are no remote copies`,
      'add backup_remote to the inventory (see the README)',
    );
  return { inventory, locations, remote };
}

export function localCopies(rows: readonly SnapshotRow[]): LocalCopy[] {
  return rows.map((r) => ({
    name: r.name,
    path: r.path,
    takenAt: r.takenAt,
    size: r.size,
    status: r.status,
    ...(r.sha256 ? { sha256: r.sha256 } : {}),
  }));
}

/** `snapshots list` with a remote: one row per snapshot and where it lives; exit 3 when the bucket cannot be listed. */
export async function listWithRemote(remote: RemoteBackups, rows: readonly SnapshotRow[], json: boolean, header: string): Promise<number> {
  const { classifyFailure } = await import('../remote/remote-errors.js');
  const where = `s3://${remote.settings.bucket}/${remote.settings.snapshotPrefix}`;
  try {
    const places = await remote.places(localCopies(rows));
    if (json) {
      process.stdout.write(`${JSON.stringify({ remote: where, rows: places.rows, warnings: places.warnings })}\n`);
      return ExitCode.ok;
    }
    process.stdout.write(`${header}; remote copies in ${where}\n`);
    for (const warning of places.warnings) process.stdout.write(`note: ${warning}\n`);
    process.stdout.write(formatPlaces(places.rows, rows, Date.now()));
    return ExitCode.ok;
  } catch (error) {
    const message = remote.masker.mask(error instanceof Error ? error.message : classifyFailure(error).detail);
    if (json) process.stdout.write(`${JSON.stringify({ remote: where, remoteError: message })}\n`);
    else process.stderr.write(`error: the remote copies in ${where} cannot be listed: ${message}\n`);
    return ExitCode.failed;
  }
}

/** Which remote copies a name means: `latest` (newest verified, or newest at all with `anyState`), a name, a key, s3://bucket/key. */
function pickCopies(copies: readonly RemoteCopyRecord[], wanted: string, bucket: string, anyState: boolean): RemoteCopyRecord[] {
  const sorted = [...copies].sort((a, b) => Date.parse(b.takenAt) - Date.parse(a.takenAt));
  if (wanted === 'latest') {
    const newest = sorted.find((c) => anyState || c.verified);
    return newest ? [newest] : [];
  }
  const key = wanted.startsWith(`s3://${bucket}/`) ? wanted.slice(`s3://${bucket}/`.length) : wanted;
  return sorted.filter((c) => c.key === key || c.name === wanted || `${c.name}.age` === wanted);
}

/** The identity, loaded only when a copy in `copies` is encrypted (an IdentityError, exit 2, before any download). */
async function identityFor(remote: RemoteBackups, copies: readonly RemoteCopyRecord[]): Promise<AgeIdentity | undefined> {
  if (!copies.some((c) => c.encrypted)) return undefined;
  const { loadIdentityFor } = await import('../remote/remote-backups.js');
  return loadIdentityFor(remote.settings);
}

const verifyUsage = 'orchestrate snapshots verify --remote INVENTORY [NAME|latest|s3://BUCKET/KEY ...] [--all] [--json]';

/** `snapshots verify --remote INVENTORY [NAME...]`: read each copy back, decrypt it, compare with its record. */
export async function verifyRemoteCommand(positionals: string[], options: { all: boolean; json: boolean }): Promise<number> {
  const [inventoryFile, ...names] = positionals;
  if (!inventoryFile) throw new UsageError('no inventory given', verifyUsage);
  if (options.all && names.length > 0) throw new UsageError('--all verifies every remote copy: give no names with it', verifyUsage);
  const { remote } = await inventoryAndRemote(inventoryFile);
  try {
    const { copies } = await remote.catalog({ reconcile: true });
    const wanted = options.all
      ? copies
      : (names.length > 0 ? names : ['latest']).flatMap((name) => pickCopies(copies, name, remote.settings.bucket, true));
    const missing = options.all ? [] : names.filter((name) => pickCopies(copies, name, remote.settings.bucket, true).length === 0);
    if (missing.length > 0 || wanted.length === 0) {
      throw new UsageError(
        `no remote copy ${missing.length > 0 ? `named ${missing.join(', ')}` : 'at all'} in s3://${remote.settings.bucket}/${remote.settings.snapshotPrefix}`,
        'list them with orchestrate snapshots list INVENTORY',
      );
    }
    const identity = await identityFor(remote, wanted);
    let allOk = true;
    const results = [];
    for (const copy of wanted) {
      const check = await remote.checkCopy(copy, identity);
      allOk &&= check.ok;
      results.push({
        key: copy.key,
        ok: check.ok,
        problems: check.problems,
        stored: check.stored,
        ...(check.plaintext ? { plaintext: check.plaintext } : {}),
      });
      if (!options.json) process.stdout.write(`${remoteStatus(remote.settings.bucket, check)}\n`);
    }
    if (options.json) process.stdout.write(`${JSON.stringify(results)}\n`);
    return allOk ? ExitCode.ok : ExitCode.failed;
  } finally {
    remote.close();
  }
}

const pullUsage = 'orchestrate snapshots pull INVENTORY NAME|latest|s3://BUCKET/KEY [--dest DIR] [--json]';

export async function pullCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('snapshots', args, { dest: { type: 'string' }, json: { type: 'boolean' }, ...helpOption });
  if (values.help) return ExitCode.ok;
  const [inventoryFile, wanted, ...extra] = positionals;
  if (!inventoryFile || !wanted) throw new UsageError('give the inventory and the snapshot (a name, latest or s3://bucket/key)', pullUsage);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, pullUsage);
  const { remote, locations } = await inventoryAndRemote(inventoryFile);
  const dest = values.dest !== undefined ? resolve(values.dest) : locations.backupDir;
  try {
    const { isS3Url } = await import('../remote/s3-url.js');
    let pulled;
    if (isS3Url(wanted)) {
      // Whether the object is encrypted is known from its header: an identity that cannot be loaded matters only then.
      const { loadIdentityFor } = await import('../remote/remote-backups.js');
      const loaded = await loadIdentityFor(remote.settings).then(
        (identity) => ({ identity }),
        (error: unknown) => ({ error }),
      );
      const chosen = await remote.choose(wanted, [], dest, 'identity' in loaded ? loaded.identity : undefined).catch((error: unknown) => {
        throw 'error' in loaded && error instanceof IdentityError ? loaded.error : error;
      });
      if (chosen.place !== 'remote') throw new Error('an s3:// address is always pulled');
      pulled = chosen.pulled;
    } else {
      const { copies } = await remote.catalog({ reconcile: true });
      const [copy] = pickCopies(copies, wanted, remote.settings.bucket, false);
      if (!copy) {
        throw new UsageError(
          `no verified remote copy ${wanted === 'latest' ? 'at all' : `named ${wanted}`} in s3://${remote.settings.bucket}/${remote.settings.snapshotPrefix}`,
          'list them with orchestrate snapshots list INVENTORY; an unverified copy counts again after orchestrate snapshots verify --remote',
        );
      }
      pulled = await remote.pull(copy, dest, await identityFor(remote, [copy]));
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...pulled, copy: undefined, url: `s3://${remote.settings.bucket}/${pulled.copy.key}` })}\n`);
    } else {
      const { formatBytes } = await import('../etcd/backup/format.js');
      const how = pulled.alreadyLocal
        ? 'already there with the same content'
        : pulled.sealed
          ? 'downloaded, checked, decrypted into a temporary file and verified; kept encrypted (backup_encryption.local)'
          : 'downloaded, decrypted and verified';
      process.stdout.write(
        `s3://${remote.settings.bucket}/${pulled.copy.key} -> ${pulled.path}: ${how}\n  revision ${pulled.revision}, ${pulled.totalKey} keys, ${formatBytes(pulled.size)}, sha256 ${pulled.sha256}\n`,
      );
    }
    return ExitCode.ok;
  } finally {
    remote.close();
  }
}

/** The remote half of `snapshots prune`: the same rules in the bucket, with its own policy. */
export async function pruneRemotePlace(
  remote: RemoteBackups,
  policies: { local: RetentionPolicy; remote: RetentionPolicy },
  dryRun: boolean,
): Promise<{ text: string; json: Record<string, unknown>; failed: number }> {
  const plan = await remote.planPrune([], policies.local, { remotePolicy: policies.remote, writeBack: !dryRun });
  const done = await remote.prune(plan.remote, { dryRun });
  const where = `s3://${remote.settings.bucket}/${remote.settings.snapshotPrefix}`;
  const row = (d: (typeof plan.remote.keep)[number]) => ({
    key: d.entry.copy.key,
    takenAt: d.entry.copy.takenAt,
    verified: d.entry.verified,
    reasons: d.reasons,
  });
  const notes = [...plan.warnings, ...done.warnings].map((w) => `  note: ${w}\n`).join('');
  const failures = done.failed.map((f) => `  could not delete ${f}\n`).join('');
  return {
    text: `retention ${JSON.stringify(policies.remote)} in ${where}${dryRun ? ' (dry run: nothing deleted)' : ''}\n${notes}${formatPruneDecisions(plan.remote, dryRun, Date.now())}${failures}`,
    json: {
      place: where,
      policy: policies.remote,
      keep: plan.remote.keep.map(row),
      delete: plan.remote.delete.map(row),
      deleted: done.deleted,
      failed: done.failed,
    },
    failed: done.failed.length,
  };
}
