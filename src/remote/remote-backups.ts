// The remote side of backups, behind one object the commands call:
//   openRemoteBackups   before any host is touched: settings checked, credentials found, SDK loaded
//   copy                in `backup`, after the local snapshot verified
//   catalog / places    in `snapshots list` (where each snapshot lives)
//   checkCopy           in `snapshots verify --remote`
//   pull / choose       in `snapshots pull` and restore's snapshot choice (`latest`, NAME, s3://bucket/key)
//   planPrune / prune   in `snapshots prune` (both places, --dry-run shows both)
//   newestCopy          in `status --max-remote-age`
//   metrics             for the metrics writer
import type { RetentionPlan, RetentionPolicy } from '../etcd/backup/retention.js';
import { appendCatalogRecord, CATALOG_FORMAT, newAttemptId, type CatalogRecord } from '../etcd/backup/catalog.js';
import type { Inventory } from '../config/types.js';
import { loadRemoteCatalog, updateRemoteCatalog, type RemoteCatalogView } from './catalog-store.js';
import { copySnapshotToRemote, type LocalSnapshot, type RemoteCopyResult } from './copy-snapshot.js';
import { describeCredentials, resolveCredentials, type S3Credentials } from './credentials.js';
import { loadIdentity, type AgeIdentity } from './identity.js';
import type { ObjectStore } from './object-store.js';
import { remoteConfigError, placeRemoteProblems } from './place-problems.js';
import { planPlacesRetention, type PlacesRetentionPlan, type RemoteEntry } from './place-retention.js';
import { chooseLatest, mergePlaces, newestVerifiedRemote, type LocalCopy, type SnapshotPlaces } from './places.js';
import { pullCopy, type PulledSnapshot } from './pull.js';
import { readRemoteAttempts, remoteAttemptsFile } from './remote-attempts.js';
import { objectBaseName, recordFromObject, REMOTE_CATALOG_FORMAT, type RemoteCopyRecord } from './remote-catalog.js';
import { classifyFailure, RemoteCopyError } from './remote-errors.js';
import { remoteMetricsFromAttempts, type RemoteMetrics } from './remote-metrics.js';
import { isS3Url, parseS3Url } from './s3-url.js';
import { openS3Store, type S3StoreOptions } from './s3-store.js';
import { SecretMasker } from './secret-mask.js';
import { readRemoteSettings } from './settings.js';
import type { EncryptionSettings, RemoteProblem, RemoteSettings } from './settings-types.js';
import { readEncryptionSettings } from './encryption-settings.js';
import { DEFAULT_POLICY, type TransferPolicy } from './transfer-policy.js';
import { checkRemoteCopy, type CopyCheck } from './verify-copy.js';
import { OrchestrateError, type ConfigProblem } from '../errors.js';

export interface RemoteLocations {
  cluster: string;
  /** The local backup catalog file: the remote attempt log goes beside it. */
  catalogFile: string;
}

export interface OpenRemoteOptions {
  env?: NodeJS.ProcessEnv;
  policy?: Partial<TransferPolicy>;
  store?: S3StoreOptions;
  onEvent?: (message: string) => void;
}

/**
 * The checked settings without touching the network or loading the SDK (for validate, --dry-run and
 * prechecks): undefined when the inventory has no backup_remote; a ConfigError (exit 2, every problem at
 * file:line:col) when they are wrong. Warnings come back located.
 */
export function remoteSettingsFor(inventory: Inventory): { settings?: RemoteSettings; warnings: ConfigProblem[] } {
  const { settings, problems } = readRemoteSettings(inventory);
  const error = remoteConfigError(inventory, problems);
  if (error) throw error;
  return { ...(settings ? { settings } : {}), warnings: placeRemoteProblems(inventory, problems) };
}

/** Settings, credentials and a store: call before any host is touched; undefined without backup_remote. */
export async function openRemoteBackups(
  inventory: Inventory,
  locations: RemoteLocations,
  options: OpenRemoteOptions = {},
): Promise<RemoteBackups | undefined> {
  const { settings } = remoteSettingsFor(inventory);
  if (!settings) return undefined;
  const credentials = await resolveCredentials({
    ...(settings.credentialsFile ? { credentialsFile: settings.credentialsFile } : {}),
    ...(settings.profile ? { profile: settings.profile } : {}),
    env: options.env ?? process.env,
  });
  const store = await openS3Store(settings, credentials, options.store);
  return new RemoteBackups(settings, store, credentials, locations, { ...DEFAULT_POLICY, ...options.policy }, options);
}

/**
 * backup_encryption when it asks for the local copies to be encrypted (`local: true`), checked without
 * backup_remote (a ConfigError at file:line:col when wrong); undefined otherwise.
 */
export function localEncryptionFor(inventory: Inventory): EncryptionSettings | undefined {
  const problems: RemoteProblem[] = [];
  const encryption = readEncryptionSettings(inventory, problems);
  const error = remoteConfigError(inventory, problems);
  if (error) throw error;
  return encryption?.local ? encryption : undefined;
}

/** The identity for the inventory's encrypted snapshots (local or remote); call before any host is touched. */
export async function loadInventoryIdentity(inventory: Inventory, env: NodeJS.ProcessEnv = process.env): Promise<AgeIdentity> {
  const problems: RemoteProblem[] = [];
  return loadIdentity(readEncryptionSettings(inventory, problems), env);
}

/** The identity for restore, verify and pull of encrypted copies; call before any host is touched. */
export async function loadIdentityFor(settings: RemoteSettings | undefined, env: NodeJS.ProcessEnv = process.env): Promise<AgeIdentity> {
  return loadIdentity(settings?.encryption, env);
}

export interface PullInto {
  signal?: AbortSignal;
  /** Into a temporary folder (a drill): decrypted even with backup_encryption.local, not recorded. */
  temporary?: boolean;
}

export class RemoteBackups {
  readonly masker: SecretMasker;
  readonly attemptsFile: string;
  readonly cluster: string;
  readonly catalogFile: string;

  constructor(
    readonly settings: RemoteSettings,
    readonly store: ObjectStore,
    readonly credentials: S3Credentials,
    locations: RemoteLocations,
    readonly policy: TransferPolicy,
    private readonly options: OpenRemoteOptions = {},
  ) {
    this.masker = new SecretMasker().add(credentials.secretAccessKey).add(credentials.sessionToken);
    this.cluster = locations.cluster;
    this.catalogFile = locations.catalogFile;
    this.attemptsFile = remoteAttemptsFile(locations.catalogFile, locations.cluster);
  }

  /** One line for logs and --dry-run: where, as whom (key id shortened), encrypted or not. */
  describe(): string {
    const where = `s3://${this.settings.bucket}/${this.settings.snapshotPrefix}`;
    const endpoint = this.settings.endpoint ? ` at ${this.settings.endpoint}` : ` (AWS ${this.settings.region})`;
    const encryption = this.settings.encryption
      ? `encrypted with age for ${this.settings.encryption.recipients.length} recipient(s)`
      : 'NOT encrypted';
    return `${where}${endpoint}, key ${describeCredentials(this.credentials)}, ${encryption}`;
  }

  /** In `backup`, after the local snapshot verified. Throws RemoteCopyError (exit 3) when the copy is not verified. */
  async copy(snapshot: LocalSnapshot, signal?: AbortSignal): Promise<RemoteCopyResult> {
    const known = await loadRemoteCatalog(this.store, this.settings, this.cluster).then(
      (view) => view.copies.find((c) => c.name === snapshot.name),
      () => undefined,
    );
    return copySnapshotToRemote(
      {
        store: this.store,
        settings: this.settings,
        cluster: this.cluster,
        policy: this.policy,
        masker: this.masker,
        attemptsFile: this.attemptsFile,
        ...(signal ? { signal } : {}),
        ...(this.options.onEvent ? { onEvent: this.options.onEvent } : {}),
      },
      snapshot,
      known,
    );
  }

  /**
   * The remote copies (catalog rebuilt from the objects when lost; `reconcile` checks it against them). A
   * repaired catalog is written back unless `writeBack` is false (a dry run changes nothing).
   */
  async catalog(options: { reconcile?: boolean; writeBack?: boolean } = {}): Promise<RemoteCatalogView> {
    try {
      const view = await loadRemoteCatalog(this.store, this.settings, this.cluster, {
        reconcile: options.reconcile ?? false,
        writeBack: options.writeBack ?? true,
      });
      return { ...view, warnings: view.warnings.map((w) => this.masker.mask(w)) };
    } catch (error) {
      throw this.failure('cannot list the remote copies', error);
    }
  }

  /** `snapshots list`: one row per snapshot with where it lives. */
  async places(local: readonly LocalCopy[], options: { writeBack?: boolean } = {}): Promise<{ rows: SnapshotPlaces[]; warnings: string[] }> {
    const view = await this.catalog({ reconcile: true, ...options });
    return { rows: mergePlaces(local, view.copies), warnings: view.warnings };
  }

  /** `snapshots verify --remote`: read a copy back and compare; a good check marks it verified in the catalog. */
  async checkCopy(copy: RemoteCopyRecord, identity?: AgeIdentity, signal?: AbortSignal): Promise<CopyCheck> {
    const check = await checkRemoteCopy(this.store, copy, identity, signal).catch((error: unknown) => {
      throw this.failure(`cannot read ${this.store.name}/${copy.key}`, error);
    });
    if (check.ok && (!copy.verified || !copy.sha256)) {
      await this.mark(copy, {
        sha256: check.stored.sha256,
        verified: true,
        verifiedBy: 'pull',
        verifiedAt: new Date().toISOString(),
        rebuilt: false,
      });
    } else if (!check.ok) {
      await this.mark(copy, { verified: false, problem: check.problems.join('; ') });
    }
    return check;
  }

  /**
   * What `latest`, a snapshot NAME or `s3://bucket/key` means across both places: a local verified copy is
   * used as it is; otherwise the remote copy is pulled into `backupDir`, verified, and its path returned.
   */
  async choose(
    wanted: string | undefined,
    local: readonly LocalCopy[],
    backupDir: string,
    identity?: AgeIdentity,
  ): Promise<{ place: 'local'; copy: LocalCopy } | { place: 'remote'; pulled: PulledSnapshot }> {
    if (wanted !== undefined && isS3Url(wanted)) return { place: 'remote', pulled: await this.pullUrl(wanted, backupDir, identity) };
    const { rows } = await this.places(local);
    const row =
      wanted === undefined || wanted === 'latest' ? chooseLatest(rows)?.row : rows.find((r) => r.name === wanted || r.remote?.key === wanted);
    if (row?.verifiedLocal && row.local) return { place: 'local', copy: row.local };
    const remote = row?.remote;
    if (!remote || !row.verifiedRemote) {
      throw new RemoteCopyError(
        wanted && wanted !== 'latest'
          ? `no verified copy of ${wanted} in ${this.settings.bucket} or the backup folder`
          : `no verified snapshot in the backup folder or in ${this.store.name}; nothing was touched`,
        'not-found',
        'list them with orchestrate snapshots list INVENTORY, or take one with orchestrate backup INVENTORY',
      );
    }
    return { place: 'remote', pulled: await this.pull(remote, backupDir, identity) };
  }

  /**
   * A copy into `destDir`, checked, decrypted, verified. `temporary` (a drill's own folder): decrypted
   * whatever backup_encryption.local says, and not recorded in the local catalog.
   */
  async pull(copy: RemoteCopyRecord, destDir: string, identity?: AgeIdentity, options: PullInto = {}): Promise<PulledSnapshot> {
    const { signal } = options;
    try {
      // backup_encryption.local: a pulled copy stays encrypted on this host too, and is recorded (its sha256s) in the catalog.
      const keepEncrypted = this.settings.encryption?.local === true && !options.temporary;
      const pulled = await pullCopy(this.store, copy, destDir, {
        ...(identity ? { identity } : {}),
        ...(signal ? { signal } : {}),
        ...(keepEncrypted ? { keepEncrypted } : {}),
      });
      if (pulled.sealed && !pulled.alreadyLocal)
        await appendCatalogRecord(this.catalogFile, pulledRecord(this.cluster, pulled)).catch(() => undefined);
      return pulled;
    } catch (error) {
      // A copy that does not match its record stops counting (for `latest` and retention) until checked again.
      if (error instanceof RemoteCopyError && error.kind === 'verification') await this.mark(copy, { verified: false, problem: error.message });
      throw this.failure(`cannot pull ${this.store.name}/${copy.key}`, error);
    }
  }

  /** Change one copy's record in the remote catalog (best effort: a warning is all a failure costs). */
  private async mark(copy: RemoteCopyRecord, change: Partial<RemoteCopyRecord>): Promise<void> {
    const updated: RemoteCopyRecord = { ...copy, ...change };
    if (updated.verified) delete updated.problem;
    await updateRemoteCatalog(this.store, this.settings, this.cluster, (copies) => copies.map((c) => (c.key === copy.key ? updated : c))).catch(
      () => undefined,
    );
  }

  /** `s3://bucket/key`: the bucket must be the configured one (its endpoint and credentials are the ones known). */
  async pullUrl(url: string, destDir: string, identity?: AgeIdentity, options: PullInto = {}): Promise<PulledSnapshot> {
    const { bucket, key } = parseS3Url(url);
    if (bucket !== this.settings.bucket) {
      throw new RemoteCopyError(
        `${url} is not in the configured bucket ${this.settings.bucket}`,
        'refused',
        'point backup_remote.bucket at that bucket, or download the object yourself and give its path',
      );
    }
    const head = await this.store.head(key).catch((error: unknown) => {
      throw this.failure(`cannot read ${url}`, error);
    });
    if (!head) throw new RemoteCopyError(`${url} does not exist`, 'not-found', 'list the copies with orchestrate snapshots list INVENTORY');
    const known = (await this.catalog()).copies.find((c) => c.key === key && c.verified);
    const record: RemoteCopyRecord = known ??
      recordFromObject(key, head, this.cluster) ?? {
        format: REMOTE_CATALOG_FORMAT,
        cluster: this.cluster,
        name: objectBaseName(key),
        key,
        takenAt: (head.lastModified ?? new Date()).toISOString(),
        uploadedAt: (head.lastModified ?? new Date()).toISOString(),
        size: head.size,
        plaintextSize: 0,
        plaintextSha256: '',
        encrypted: key.endsWith('.age'),
        verified: false,
      };
    return this.pull(record, destDir, identity, options);
  }

  /**
   * Both places' plans (the local one is applied by `snapshots prune` as before). The remote place follows
   * `remotePolicy` when given (an operator's command-line policy), else backup_remote's own, else the local one.
   */
  async planPrune(
    local: readonly LocalCopy[],
    localPolicy: RetentionPolicy,
    options: { now?: number; remotePolicy?: RetentionPolicy; writeBack?: boolean } = {},
  ): Promise<PlacesRetentionPlan & { warnings: string[] }> {
    const view = await this.catalog({ reconcile: true, ...(options.writeBack !== undefined ? { writeBack: options.writeBack } : {}) });
    const remote = options.remotePolicy ?? this.settings.retention;
    return {
      ...planPlacesRetention(local, view.copies, { local: localPolicy, ...(remote ? { remote } : {}) }, options.now ?? Date.now()),
      warnings: view.warnings,
    };
  }

  /** Delete the remote copies `plan` lets go (none with `dryRun`), then drop them from the catalog. */
  async prune(
    plan: RetentionPlan<RemoteEntry>,
    options: { dryRun?: boolean } = {},
  ): Promise<{ deleted: string[]; failed: string[]; warnings: string[] }> {
    if (options.dryRun) return { deleted: [], failed: [], warnings: [] };
    const deleted: string[] = [];
    const failed: string[] = [];
    for (const { entry } of plan.delete) {
      await this.store.delete(entry.copy.key).then(
        () => deleted.push(entry.copy.key),
        (error: unknown) => failed.push(this.masker.mask(`${entry.copy.key}: ${classifyFailure(error).detail}`)),
      );
    }
    const gone = new Set(deleted);
    const view = await updateRemoteCatalog(this.store, this.settings, this.cluster, (copies) => copies.filter((c) => !gone.has(c.key)));
    return { deleted, failed, warnings: view.warnings.map((w) => this.masker.mask(w)) };
  }

  /** For `status`: the newest verified remote copy, from the remote, else from the attempt log when it cannot be reached. */
  async newestCopy(): Promise<{ takenAt?: string; key?: string; source: 'remote' | 'attempt log'; warnings: string[] }> {
    try {
      const view = await loadRemoteCatalog(this.store, this.settings, this.cluster);
      const newest = newestVerifiedRemote(view.copies);
      return { ...(newest ? { takenAt: newest.takenAt, key: newest.key } : {}), source: 'remote', warnings: view.warnings };
    } catch (error) {
      const attempts = await readRemoteAttempts(this.attemptsFile);
      const lastOk = [...attempts].reverse().find((a) => a.result === 'ok' && a.cluster === this.cluster);
      return {
        ...(lastOk?.takenAt ? { takenAt: lastOk.takenAt } : {}),
        ...(lastOk?.key ? { key: lastOk.key } : {}),
        source: 'attempt log',
        warnings: [
          this.masker.mask(`${this.store.name} cannot be reached (${classifyFailure(error).detail}); the age comes from the local attempt log`),
        ],
      };
    }
  }

  async metrics(): Promise<RemoteMetrics> {
    return remoteMetricsFromAttempts(this.cluster, await readRemoteAttempts(this.attemptsFile));
  }

  close(): void {
    this.store.close();
  }

  private failure(what: string, error: unknown): Error {
    if (error instanceof RemoteCopyError) return new RemoteCopyError(this.masker.mask(error.message), error.kind, error.hint);
    if (error instanceof OrchestrateError) return error;
    const failure = classifyFailure(error);
    return new RemoteCopyError(this.masker.mask(`${what}: ${failure.detail}`), failure.kind);
  }
}

/** The local catalog's line for an encrypted copy pulled into backup_dir (not an attempt of its own: `rebuilt`). */
function pulledRecord(cluster: string, pulled: PulledSnapshot): CatalogRecord {
  return {
    format: CATALOG_FORMAT,
    id: newAttemptId(),
    cluster,
    start: pulled.takenAt,
    end: pulled.takenAt,
    durationMs: 0,
    result: 'ok',
    file: pulled.path,
    size: pulled.size,
    sha256: pulled.sha256,
    revision: pulled.revision,
    keys: pulled.totalKey,
    hasHash: true,
    ...(pulled.sealed ? { encrypted: pulled.sealed } : {}),
    rebuilt: true,
  };
}
