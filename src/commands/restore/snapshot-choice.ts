// The restore's snapshot across both places (backup_remote), settled on the deploy host before any host is
// touched: `latest` is the newest verified snapshot in either place; a snapshot only the bucket has (the
// deploy host was rebuilt, backup_dir is gone) is pulled into backup_dir, checked against its record,
// decrypted, and verified here like any local file; `s3://bucket/key` names an object. An encrypted local
// snapshot (backup_encryption.local, or a `.age` file given) is decrypted into an owner-only temporary
// file and verified before any host is touched; it never gets a snapshot's name.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Inventory } from '../../config/types.js';
import { RefusedError } from '../../errors.js';
import { backupLocations, type BackupLocations } from '../../etcd/backup/locations.js';
import { inspectSnapshots } from '../../etcd/backup/snapshot-inventory.js';
import { ensureBackupDir } from '../../etcd/backup/snapshot-store.js';
import { checkSnapshotFile, chooseSnapshot, type ChosenSnapshot } from '../../etcd/restore/snapshot-source.js';
import { verifiedFacts } from '../../etcd/snapshot-file.js';
import { IdentityError, type AgeIdentity } from '../../remote/identity.js';
import { decryptToTemporary, isEncryptedSnapshot } from '../../remote/local-encryption.js';
import type { LocalCopy } from '../../remote/places.js';
import { loadIdentityFor, loadInventoryIdentity, openRemoteBackups, remoteSettingsFor, type RemoteBackups } from '../../remote/remote-backups.js';
import { RemoteCopyError } from '../../remote/remote-errors.js';
import { isS3Url } from '../../remote/s3-url.js';
import { now, type Emit } from './events.js';

export interface ChoiceLog {
  emit: Emit;
  warn(message: string): void;
}

export interface ChoiceOptions {
  env?: NodeJS.ProcessEnv;
  /** How the remote is opened (tests give a store of their own); default openRemoteBackups. */
  open?: (inventory: Inventory, locations: BackupLocations) => Promise<RemoteBackups | undefined>;
}

const isFile = (path: string) =>
  stat(path).then(
    (info) => info.isFile(),
    () => false,
  );

export async function chooseRestoreSnapshot(
  inventory: Inventory,
  wanted: string | undefined,
  log: ChoiceLog,
  options: ChoiceOptions = {},
): Promise<ChosenSnapshot> {
  const env = options.env ?? process.env;
  const chosen = await chooseEitherPlace(inventory, wanted, log, options, env);
  return isEncryptedSnapshot(chosen.path) ? decryptChosen(inventory, chosen, env, log) : (chosen as ChosenSnapshot);
}

/** A snapshot picked but still encrypted: its record's sha256 when known; decryptChosen verifies it. */
type Choice = ChosenSnapshot | (Pick<ChosenSnapshot, 'path' | 'takenAt' | 'takenAtSource'> & { sha256?: string });

async function chooseEitherPlace(
  inventory: Inventory,
  wanted: string | undefined,
  log: ChoiceLog,
  options: ChoiceOptions,
  env: NodeJS.ProcessEnv,
): Promise<Choice> {
  const { settings } = remoteSettingsFor(inventory);
  const url = wanted !== undefined && isS3Url(wanted);
  if (wanted !== undefined && !url && isEncryptedSnapshot(wanted) && (await isFile(wanted))) {
    const { mtime } = await stat(wanted);
    return { path: resolve(wanted), takenAt: mtime.toISOString(), takenAtSource: 'file time' };
  }
  if (!settings) {
    if (url)
      throw new RefusedError(
        `--snapshot ${wanted} names a remote copy, but the inventory sets no backup_remote`,
        'add backup_remote to the inventory, or give a local file',
        'restore.no-remote',
      );
    return chooseSnapshot(inventory, wanted);
  }
  // A file named on the command line is used as it is; `latest`, a snapshot name or s3:// look at both places.
  if (wanted !== undefined && wanted !== 'latest' && !url && (await isFile(wanted))) return chooseSnapshot(inventory, wanted);
  const locations = backupLocations(inventory);
  const remote = await (options.open ?? openRemoteBackups)(inventory, locations);
  if (!remote) return chooseSnapshot(inventory, wanted);
  try {
    return await chooseInBothPlaces(remote, inventory, locations, wanted, env, log);
  } finally {
    remote.close();
  }
}

async function chooseInBothPlaces(
  remote: RemoteBackups,
  inventory: Inventory,
  locations: BackupLocations,
  wanted: string | undefined,
  env: NodeJS.ProcessEnv,
  log: ChoiceLog,
): Promise<Choice> {
  // Needed only if the snapshot chosen is an encrypted remote copy; then its header decides whether it fits.
  const loaded: { identity?: AgeIdentity; error?: unknown } = await loadIdentityFor(remote.settings, env).then(
    (identity) => ({ identity }),
    (error: unknown) => ({ error }),
  );
  let local = await localCopies(locations);
  const latest = wanted === undefined || wanted === 'latest';
  if (latest) {
    // The remote unreachable must not block a restore from the deploy host's own copies.
    const listed = await remote.places(local).catch((error: unknown) => error);
    if (listed instanceof Error) {
      log.warn(`${listed.message}; using the newest verified snapshot in ${locations.backupDir} (a newer remote copy may exist)`);
      return chooseSnapshot(inventory, wanted);
    }
  }
  // A local copy that fails its check now is passed over for the next newest, in either place.
  for (let tries = 0; tries < 10; tries++) {
    const chosen = await remote.choose(wanted, local, locations.backupDir, loaded.identity).catch((error: unknown) => {
      throw refusal(error, loaded.error);
    });
    if (chosen.place === 'remote') {
      const { pulled } = chosen;
      const from = `s3://${remote.settings.bucket}/${pulled.copy.key}`;
      log.emit({
        type: 'info',
        message: `${pulled.alreadyLocal ? 'found' : 'pulled'} ${from} -> ${pulled.path}: checked against its record${pulled.copy.encrypted ? ', decrypted' : ''} and verified on this host`,
        at: now(),
      });
      if (pulled.sealed) return { path: pulled.path, sha256: pulled.sha256, takenAt: pulled.takenAt, takenAtSource: `remote copy ${from}` };
      const checked = await checkSnapshotFile(pulled.path, { sha256: pulled.sha256, revision: pulled.revision });
      return { ...checked, takenAt: pulled.takenAt, takenAtSource: `remote copy ${from}` };
    }
    const { copy } = chosen;
    const takenAt = new Date(copy.takenAt).toISOString();
    const checked: ChosenSnapshot | Error = await (
      isEncryptedSnapshot(copy.path)
        ? decryptChosen(
            inventory,
            { path: copy.path, takenAt, takenAtSource: 'backup folder', ...(copy.sha256 ? { sha256: copy.sha256 } : {}) },
            env,
            log,
          )
        : checkSnapshotFile(copy.path, copy.sha256 ? { sha256: copy.sha256 } : undefined)
    ).catch((error: unknown) => {
      if (error instanceof IdentityError) throw error;
      return error instanceof Error ? error : new Error(String(error));
    });
    if (!(checked instanceof Error)) return { ...checked, takenAt, takenAtSource: 'backup folder' };
    if (!latest) throw checked;
    log.warn(`${checked.message}; trying the next newest snapshot`);
    local = local.map((c) => (c.path === copy.path ? { ...c, status: 'bad' as const } : c));
  }
  throw new RefusedError(
    `no snapshot in ${locations.backupDir} or the bucket passes verification; nothing was touched`,
    'take a new backup',
    'restore.no-snapshot',
  );
}

async function localCopies(locations: BackupLocations): Promise<LocalCopy[]> {
  const { rows } = await inspectSnapshots(locations);
  return rows.map((r) => ({
    name: r.name,
    path: r.path,
    takenAt: r.takenAt,
    size: r.size,
    status: r.status,
    ...(r.sha256 ? { sha256: r.sha256 } : {}),
  }));
}

/** Remote failures as the restore reports them: nothing was touched (exit 5); a missing or wrong identity stays exit 2. */
function refusal(error: unknown, identityError: unknown): Error {
  if (error instanceof IdentityError) return identityError instanceof Error && /no age identity/.test(error.message) ? identityError : error;
  if (!(error instanceof RemoteCopyError)) return error instanceof Error ? error : new Error(String(error));
  const code =
    error.kind === 'verification' ? 'restore.snapshot-invalid' : error.kind === 'not-found' ? 'restore.no-snapshot' : 'restore.remote-failed';
  return new RefusedError(
    `${error.message}; no host was touched`,
    error.hint ?? 'pick another snapshot (orchestrate snapshots list INVENTORY)',
    code,
  );
}

/**
 * An encrypted snapshot (backup_encryption.local, or a `.age` file given): decrypted into an owner-only
 * temporary folder in backup_dir and verified there (against its record when known) before any host is
 * touched; the restore removes it when it ends (discardDecryptedSnapshots), however it ends.
 */
async function decryptChosen(inventory: Inventory, choice: Choice, env: NodeJS.ProcessEnv, log: ChoiceLog): Promise<ChosenSnapshot> {
  const identity = await loadInventoryIdentity(inventory, env);
  const { backupDir } = backupLocations(inventory);
  await ensureBackupDir(backupDir);
  const decrypted = await decryptToTemporary(choice.path, identity, {
    dir: backupDir,
    ...(choice.sha256 ? { expect: { sha256: choice.sha256 } } : {}),
  }).catch((error: unknown) => {
    throw refusal(error, undefined);
  });
  log.emit({
    type: 'info',
    message: `decrypted ${choice.path} into ${decrypted.path} (owner-only, removed when the restore ends) and verified it on this host`,
    at: now(),
  });
  return {
    path: decrypted.path,
    ...verifiedFacts(decrypted.report),
    hasHash: decrypted.report.hasHash,
    takenAt: choice.takenAt,
    takenAtSource: choice.takenAtSource,
    decryptedFrom: choice.path,
  };
}
