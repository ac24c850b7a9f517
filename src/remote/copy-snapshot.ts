// A verified local snapshot to the remote: streamed (encrypted on the way when recipients are set),
// multipart, then checked on the server before it is recorded. The result is either a verified copy,
// recorded in the remote catalog and the attempt log, or a RemoteCopyError (the attempt logged as
// failed); never a copy reported that did not complete.
import { createHash } from 'node:crypto';
import { ageCiphertextSize, ageEncryptor } from './age-stream.js';
import { updateRemoteCatalog } from './catalog-store.js';
import { fileChunks } from './file-chunks.js';
import { uploadObject } from './multipart-upload.js';
import type { ObjectStore } from './object-store.js';
import { appendRemoteAttempt, type RemoteAttempt } from './remote-attempts.js';
import { mergeCopies, objectMetadata, REMOTE_CATALOG_FORMAT, snapshotKey, type RemoteCopyRecord } from './remote-catalog.js';
import { adviceFor, classifyFailure, RemoteCopyError } from './remote-errors.js';
import { withRetries } from './retrying-request.js';
import type { SecretMasker } from './secret-mask.js';
import type { RemoteSettings } from './settings-types.js';
import type { TransferPolicy } from './transfer-policy.js';
import { verifyRemoteObject } from './verify-remote.js';

export interface LocalSnapshot {
  /** The verified snapshot file on the deploy host. */
  path: string;
  /** Its name in backup_dir (`snapshot_<time>_rev<n>.db`): the remote copy keeps it. */
  name: string;
  takenAt: Date;
  size: number;
  /** sha256 (hex) found when the backup verified it: the file must still have it while it is read. */
  sha256: string;
  revision?: number;
  /**
   * backup_encryption.local: `path` is already the age file (for the same recipients), of this size and
   * sha256; it is uploaded as it is, not encrypted again.
   */
  sealed?: { size: number; sha256: string };
}

export interface CopyContext {
  store: ObjectStore;
  settings: RemoteSettings;
  cluster: string;
  policy: TransferPolicy;
  masker: SecretMasker;
  attemptsFile: string;
  signal?: AbortSignal;
  /** Progress and retry notes, for the live output. */
  onEvent?: (message: string) => void;
}

export interface RemoteCopyResult {
  record: RemoteCopyRecord;
  /** The same verified copy was already there: nothing was uploaded. */
  alreadyThere: boolean;
  retries: number;
  durationMs: number;
  /** Where the time went: the streamed upload, and the check of the remote copy. */
  timings: { uploadMs: number; verifyMs: number };
  warnings: string[];
}

/** Hashes what passes through (the chunks are passed on as they are, reused buffers included). */
function hashing(chunks: AsyncIterable<Buffer>): { chunks: AsyncGenerator<Buffer>; digest: () => { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  async function* tap(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  return { chunks: tap(), digest: () => ({ sha256: hash.digest('hex'), size }) };
}

/**
 * The bytes to upload: the file, through age when recipients are set, read through one reused buffer
 * (the uploader copies each chunk into its part; ending the iteration closes the file). Only an encrypted
 * upload needs a hash of the plaintext on the way (a plain one is hashed by the uploader).
 */
async function source(
  snapshot: LocalSnapshot,
  settings: RemoteSettings,
): Promise<{ stream: AsyncIterable<Buffer>; sizeEstimate: number; plaintext?: () => { sha256: string; size: number } }> {
  if (!settings.encryption || snapshot.sealed) return { stream: fileChunks(snapshot.path), sizeEstimate: snapshot.sealed?.size ?? snapshot.size };
  const { chunks, digest } = hashing(fileChunks(snapshot.path));
  const age = await ageEncryptor(settings.encryption.recipients);
  return { stream: age.encrypt(chunks), sizeEstimate: ageCiphertextSize(snapshot.size, age.prefixSize - 16), plaintext: digest };
}

async function alreadyCopied(ctx: CopyContext, key: string, snapshot: LocalSnapshot, known: RemoteCopyRecord | undefined): Promise<boolean> {
  if (!known?.verified || known.plaintextSha256 !== snapshot.sha256) return false;
  const head = await ctx.store.head(key).catch(() => undefined);
  return head !== undefined && head.size === known.size;
}

async function uploadAndVerify(
  ctx: CopyContext,
  snapshot: LocalSnapshot,
  key: string,
): Promise<{ record: RemoteCopyRecord; retries: number; timings: RemoteCopyResult['timings'] }> {
  const started = performance.now();
  const encrypted = ctx.settings.encryption !== undefined;
  const takenAt = snapshot.takenAt.toISOString();
  const base = {
    cluster: ctx.cluster,
    name: snapshot.name,
    takenAt,
    plaintextSize: snapshot.size,
    plaintextSha256: snapshot.sha256,
    encrypted,
    ...(snapshot.revision !== undefined ? { revision: snapshot.revision } : {}),
  };
  const { stream, sizeEstimate, plaintext } = await source(snapshot, ctx.settings);
  const uploaded = await uploadObject(ctx.store, key, stream, {
    policy: ctx.policy,
    sizeEstimate,
    metadata: objectMetadata(base),
    ...(ctx.settings.storageClass ? { storageClass: ctx.settings.storageClass } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    masker: ctx.masker,
    onRetry: (message) => ctx.onEvent?.(ctx.masker.mask(message)),
  });
  const read = plaintext ? plaintext() : { sha256: uploaded.sha256, size: uploaded.size };
  const expected = snapshot.sealed ?? { sha256: snapshot.sha256, size: snapshot.size };
  if (read.sha256 !== expected.sha256 || read.size !== expected.size) {
    throw new RemoteCopyError(
      `the local snapshot ${snapshot.path} changed while it was uploaded (sha256 ${read.sha256}, ${read.size} bytes; verified as ${expected.sha256}, ${expected.size} bytes)`,
      'verification',
      'something else writes into backup_dir; take a new backup',
    );
  }
  const uploadedAt = performance.now();
  const { value: verified } = await withRetries(() => verifyRemoteObject(ctx.store, uploaded, ctx.settings.verify, ctx.signal), {
    policy: ctx.policy,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const now = new Date().toISOString();
  const record: RemoteCopyRecord = {
    format: REMOTE_CATALOG_FORMAT,
    ...base,
    key,
    uploadedAt: now,
    size: uploaded.size,
    sha256: uploaded.sha256,
    ...(ctx.settings.encryption ? { recipients: ctx.settings.encryption.recipients } : {}),
    verified: true,
    verifiedBy: verified.verifiedBy,
    verifiedAt: now,
    ...(verified.head.etag ? { etag: verified.head.etag } : {}),
  };
  return { record, retries: uploaded.retries, timings: { uploadMs: uploadedAt - started, verifyMs: performance.now() - uploadedAt } };
}

function asCopyError(error: unknown, ctx: CopyContext, key: string): RemoteCopyError {
  if (error instanceof RemoteCopyError) return new RemoteCopyError(ctx.masker.mask(error.message), error.kind, error.hint);
  const inner = (error as { failure?: ReturnType<typeof classifyFailure> }).failure ?? classifyFailure(error);
  return new RemoteCopyError(
    ctx.masker.mask(`copy to ${ctx.store.name}/${key} failed: ${inner.detail}`),
    inner.kind,
    adviceFor(inner.kind, ctx.store.name),
  );
}

/** Copy one verified local snapshot; every attempt, good or failed, is logged (metrics and status read it). */
export async function copySnapshotToRemote(ctx: CopyContext, snapshot: LocalSnapshot, known?: RemoteCopyRecord): Promise<RemoteCopyResult> {
  const started = Date.now();
  const key = snapshotKey(ctx.settings, ctx.cluster, snapshot.name, ctx.settings.encryption !== undefined);
  const attempt = (fields: Partial<RemoteAttempt> & Pick<RemoteAttempt, 'result'>): RemoteAttempt => ({
    cluster: ctx.cluster,
    start: new Date(started).toISOString(),
    end: new Date().toISOString(),
    durationMs: Date.now() - started,
    name: snapshot.name,
    key,
    bucket: ctx.settings.bucket,
    takenAt: snapshot.takenAt.toISOString(),
    encrypted: ctx.settings.encryption !== undefined,
    ...fields,
  });
  try {
    if (known && (await alreadyCopied(ctx, key, snapshot, known))) {
      await appendRemoteAttempt(ctx.attemptsFile, attempt({ result: 'ok', bytes: known.size, verifiedBy: 'already there' }));
      return { record: known, alreadyThere: true, retries: 0, durationMs: Date.now() - started, timings: { uploadMs: 0, verifyMs: 0 }, warnings: [] };
    }
    const { record, retries, timings } = await uploadAndVerify(ctx, snapshot, key);
    const view = await updateRemoteCatalog(ctx.store, ctx.settings, ctx.cluster, (copies) => mergeCopies(copies, [record]));
    await appendRemoteAttempt(
      ctx.attemptsFile,
      attempt({ result: 'ok', bytes: record.size, ...(record.verifiedBy ? { verifiedBy: record.verifiedBy } : {}), retries }),
    );
    return {
      record,
      alreadyThere: false,
      retries,
      durationMs: Date.now() - started,
      timings,
      warnings: view.warnings.map((w) => ctx.masker.mask(w)),
    };
  } catch (error) {
    const failure = asCopyError(error, ctx, key);
    await appendRemoteAttempt(ctx.attemptsFile, attempt({ result: 'failed', error: failure.message, kind: failure.kind })).catch(() => undefined);
    throw failure;
  }
}
