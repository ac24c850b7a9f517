// An in-memory ObjectStore for unit tests (the e2e tests use a real S3 server): multipart with S3's
// ETag rule, failures injected per operation, and counts of what was asked.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectHead, ObjectStore, ObjectSummary, PartChecksums, RequestOptions, UploadedPart } from '../../../src/remote/object-store.js';

interface Stored {
  data: Buffer;
  etag: string;
  metadata: Record<string, string>;
  checksumSha256?: string;
}

export class MemoryStore implements ObjectStore {
  readonly name = 's3://memory';
  readonly objects = new Map<string, Stored>();
  readonly uploads = new Map<string, { key: string; metadata: Record<string, string>; parts: Map<number, Buffer> }>();
  readonly calls: string[] = [];
  /** Operation name to the errors to throw on its next calls. */
  readonly failures = new Map<string, unknown[]>();
  /** Parts being uploaded at this moment, and the most at once. */
  inFlight = 0;
  maxInFlight = 0;
  partDelayMs = 0;
  /** Behave like a server with flexible checksums: check x-amz-checksum-sha256 and keep a composite. */
  keepsChecksums = false;
  /** How the multipart ETag is made: S3's MD5 of part MD5s, or the MD5 of the whole object (s3rver). */
  etagStyle: 's3' | 'whole-md5' = 's3';
  /** Per part: the checksums it was sent with. */
  readonly sentChecksums: PartChecksums[] = [];
  private nextId = 1;

  private maybeFail(op: string): void {
    this.calls.push(op);
    const queue = this.failures.get(op);
    if (queue && queue.length > 0) throw queue.shift();
  }

  head(key: string): Promise<ObjectHead | undefined> {
    this.maybeFail('head');
    const object = this.objects.get(key);
    return Promise.resolve(
      object
        ? {
            size: object.data.length,
            etag: object.etag,
            metadata: object.metadata,
            ...(object.checksumSha256 ? { checksumSha256: object.checksumSha256 } : {}),
          }
        : undefined,
    );
  }

  get(key: string, options?: RequestOptions & { range?: [number, number] }): Promise<Readable> {
    this.maybeFail('get');
    const object = this.objects.get(key);
    if (!object) return Promise.reject(Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
    const data = options?.range ? object.data.subarray(options.range[0], options.range[1] + 1) : object.data;
    return Promise.resolve(Readable.from([data]));
  }

  put(key: string, body: Buffer): Promise<void> {
    this.maybeFail('put');
    this.objects.set(key, { data: Buffer.from(body), etag: createHash('md5').update(body).digest('hex'), metadata: {} });
    return Promise.resolve();
  }

  list(prefix: string): Promise<ObjectSummary[]> {
    this.maybeFail('list');
    return Promise.resolve([...this.objects].filter(([key]) => key.startsWith(prefix)).map(([key, o]) => ({ key, size: o.data.length })));
  }

  delete(key: string): Promise<void> {
    this.maybeFail('delete');
    this.objects.delete(key);
    return Promise.resolve();
  }

  createMultipart(key: string, metadata: Record<string, string>): Promise<string> {
    this.maybeFail('create');
    const id = `upload-${this.nextId++}`;
    this.uploads.set(id, { key, metadata, parts: new Map() });
    return Promise.resolve(id);
  }

  async uploadPart(
    _key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer,
    checksums: PartChecksums,
    options?: RequestOptions,
  ): Promise<UploadedPart> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.partDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.partDelayMs));
      if (options?.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      this.maybeFail('part');
      this.sentChecksums.push(checksums);
      const md5 = createHash('md5').update(body).digest();
      const sha256 = createHash('sha256').update(body).digest('base64');
      const badMd5 = checksums.md5 !== undefined && md5.toString('base64') !== checksums.md5;
      const badSha256 = this.keepsChecksums && checksums.sha256 !== undefined && sha256 !== checksums.sha256;
      if (badMd5 || badSha256) throw Object.assign(new Error('BadDigest'), { name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
      this.uploads.get(uploadId)?.parts.set(partNumber, Buffer.from(body));
      options?.onProgress?.(body.length, true);
      return { partNumber, etag: `"${md5.toString('hex')}"`, ...(this.keepsChecksums ? { checksumSha256: sha256 } : {}) };
    } finally {
      this.inFlight--;
    }
  }

  completeMultipart(key: string, uploadId: string, parts: UploadedPart[]): Promise<{ etag?: string }> {
    this.maybeFail('complete');
    const upload = this.uploads.get(uploadId);
    if (!upload) return Promise.reject(Object.assign(new Error('NoSuchUpload'), { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } }));
    const buffers = parts.map((p) => upload.parts.get(p.partNumber) ?? Buffer.alloc(0));
    const partsMd5 = `${createHash('md5')
      .update(Buffer.concat(buffers.map((b) => createHash('md5').update(b).digest())))
      .digest('hex')}-${parts.length}`;
    const data = Buffer.concat(buffers);
    const etag = this.etagStyle === 's3' ? partsMd5 : createHash('md5').update(data).digest('hex');
    const composite = `${createHash('sha256')
      .update(Buffer.concat(buffers.map((b) => createHash('sha256').update(b).digest())))
      .digest('base64')}-${parts.length}`;
    this.objects.set(key, { data, etag, metadata: upload.metadata, ...(this.keepsChecksums ? { checksumSha256: composite } : {}) });
    this.uploads.delete(uploadId);
    return Promise.resolve({ etag });
  }

  abortMultipart(_key: string, uploadId: string): Promise<void> {
    this.calls.push('abort');
    this.uploads.delete(uploadId);
    return Promise.resolve();
  }

  close(): void {
    // nothing to release
  }
}

/** An error shaped like the SDK's for an HTTP status. */
export function httpError(status: number, code: string): Error {
  return Object.assign(new Error(code), { name: code, $metadata: { httpStatusCode: status } });
}
