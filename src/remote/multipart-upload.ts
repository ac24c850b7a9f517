// Streams a byte source to one object with S3 multipart: parts read while earlier ones upload, each part
// retried on its own (from its buffer) under a deadline scaled to the rate measured so far, then the
// upload completed. Anything that fails aborts the multipart upload (so no parts linger, billed and
// invisible) and throws: an upload is never reported done unless CompleteMultipartUpload said so.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore, UploadedPart } from './object-store.js';
import { PartReader, type Part } from './part-reader.js';
import { adviceFor, RemoteCopyError } from './remote-errors.js';
import { RequestFailedError, withRetries } from './retrying-request.js';
import type { SecretMasker } from './secret-mask.js';
import { choosePartSize, partTimeoutMs, RateMeter, type TransferPolicy } from './transfer-policy.js';

export interface UploadOptions {
  policy: TransferPolicy;
  /** Expected size, to size the parts (an estimate is fine). */
  sizeEstimate: number;
  metadata: Record<string, string>;
  storageClass?: string;
  signal?: AbortSignal;
  masker?: SecretMasker;
  /** Bytes whose parts are stored so far. */
  onProgress?: (storedBytes: number) => void;
  onRetry?: (message: string) => void;
  partSize?: number;
}

export interface UploadedObject {
  key: string;
  size: number;
  /** SHA-256 (hex) of the bytes sent. */
  sha256: string;
  partSize: number;
  /** Per part, in order: its MD5 and SHA-256 (raw), for checking the server's ETag or checksum. */
  parts: { md5?: Buffer; sha256?: Buffer; size: number }[];
  /** MD5 (hex) of the whole object, unless the server showed it keeps SHA-256 checksums. */
  md5?: string;
  etag?: string;
  checksumSha256?: string;
  retries: number;
  durationMs: number;
}

interface UploadState {
  store: ObjectStore;
  key: string;
  uploadId: string;
  options: UploadOptions;
  rate: RateMeter;
  reader: PartReader;
  done: UploadedPart[];
  stored: number;
  retries: number;
}

async function sendPart(state: UploadState, part: Part): Promise<void> {
  const { store, key, uploadId, options } = state;
  const started = performance.now();
  const { value, attempts } = await withRetries(
    ({ signal, progress }) =>
      store.uploadPart(
        key,
        uploadId,
        part.number,
        part.data,
        { ...(part.md5 ? { md5: part.md5.toString('base64') } : {}), ...(part.sha256 ? { sha256: part.sha256.toString('base64') } : {}) },
        { signal, onProgress: progress },
      ),
    {
      policy: options.policy,
      timeoutMs: partTimeoutMs(part.data.length, state.rate.bytesPerSecond, options.policy),
      ...(options.signal ? { signal: options.signal } : {}),
      onRetry: (failure, attempt, wait) =>
        options.onRetry?.(`part ${part.number}: try ${attempt} failed (${failure.detail}); again in ${(wait / 1000).toFixed(1)}s`),
    },
  );
  // The first answer tells what the server checks: hash only that from now on.
  if (state.done.length === 0) state.reader.useHashes(value.checksumSha256 ? 'sha256' : 'md5');
  state.rate.add(part.data.length, performance.now() - started);
  state.retries += attempts - 1;
  state.done.push(value);
  state.stored += part.data.length;
  options.onProgress?.(state.stored);
}

/** Read parts and keep up to `concurrency` of them uploading; the first failure stops the rest. */
async function sendAllParts(state: UploadState, reader: PartReader): Promise<UploadedObject['parts']> {
  const hashes: UploadedObject['parts'] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  for (;;) {
    if (failure !== undefined) break;
    const part = await reader.next();
    if (!part) break;
    hashes.push({ ...(part.md5 ? { md5: part.md5 } : {}), ...(part.sha256 ? { sha256: part.sha256 } : {}), size: part.data.length });
    const task = sendPart(state, part)
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => {
        reader.release(part);
        inFlight.delete(task);
      });
    inFlight.add(task);
    if (inFlight.size >= state.options.policy.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error('a part upload failed');
  return hashes;
}

function describe(error: unknown, store: ObjectStore, key: string, masker?: SecretMasker): RemoteCopyError {
  if (error instanceof RemoteCopyError) return error;
  const failure =
    error instanceof RequestFailedError
      ? error.failure
      : { kind: 'network' as const, detail: error instanceof Error ? error.message : String(error) };
  const tries = error instanceof RequestFailedError && error.attempts > 1 ? ` after ${error.attempts} tries` : '';
  const message = `upload of ${store.name}/${key} failed${tries}: ${failure.detail}`;
  return new RemoteCopyError(masker ? masker.mask(message) : message, failure.kind, adviceFor(failure.kind, store.name));
}

export async function uploadObject(
  store: ObjectStore,
  key: string,
  source: AsyncIterable<Buffer | Uint8Array>,
  options: UploadOptions,
): Promise<UploadedObject> {
  const started = performance.now();
  const partSize = options.partSize ?? choosePartSize(options.sizeEstimate);
  const retry = { policy: options.policy, ...(options.signal ? { signal: options.signal } : {}) };
  const reader = new PartReader(source, partSize);
  let uploadId: string;
  try {
    ({ value: uploadId } = await withRetries(
      ({ signal }) =>
        store.createMultipart(key, options.metadata, { signal, ...(options.storageClass ? { storageClass: options.storageClass } : {}) }),
      retry,
    ));
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw describe(error, store, key, options.masker);
  }
  const state: UploadState = { store, key, uploadId, options, rate: new RateMeter(), reader, done: [], stored: 0, retries: 0 };
  try {
    const parts = await sendAllParts(state, reader);
    const whole = reader.finish();
    state.done.sort((a, b) => a.partNumber - b.partNumber);
    const { value: completed } = await withRetries(({ signal }) => store.completeMultipart(key, uploadId, state.done, { signal }), retry);
    return {
      key,
      size: whole.size,
      sha256: whole.sha256,
      ...(whole.md5 ? { md5: whole.md5 } : {}),
      partSize,
      parts,
      ...(completed.etag ? { etag: completed.etag } : {}),
      ...(completed.checksumSha256 ? { checksumSha256: completed.checksumSha256 } : {}),
      retries: state.retries,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    await abortQuietly(store, key, uploadId);
    throw describe(error, store, key, options.masker);
  }
}

/** Best effort, bounded: the original error is what the operator needs to see. */
async function abortQuietly(store: ObjectStore, key: string, uploadId: string): Promise<void> {
  const controller = new AbortController();
  await Promise.race([store.abortMultipart(key, uploadId, { signal: controller.signal }).catch(() => undefined), sleep(5_000)]);
  controller.abort();
}
