// The ObjectStore over S3 with @aws-sdk/client-s3, loaded only when a remote is used (it costs ~20 MB and
// a few hundred ms to load; a CLI without backup_remote never pays it). The SDK's own retries and
// checksums are off: retries, timeouts scaled to progress, and verification are ours (upload.ts), so that
// one policy applies and nothing retries behind our back. Credentials are given explicitly (credentials.ts):
// the SDK's default chain would also ask instance metadata endpoints.
import { readFile } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import type { S3Credentials } from './credentials.js';
import type { ObjectHead, ObjectStore, ObjectSummary, PartChecksums, RequestOptions, UploadedPart } from './object-store.js';
import type { RemoteSettings } from './settings-types.js';

type Sdk = typeof import('@aws-sdk/client-s3');

/** A Readable over a buffer in slices, reporting how much the connection has taken (backpressure makes it real progress). */
export function progressBody(body: Buffer, onProgress?: (bytes: number, bodyDone?: boolean) => void, slice = 256 * 1024): Readable {
  let offset = 0;
  return new Readable({
    highWaterMark: slice,
    read() {
      if (offset >= body.length) {
        this.push(null);
        return;
      }
      const end = Math.min(offset + slice, body.length);
      this.push(body.subarray(offset, end));
      offset = end;
      onProgress?.(offset, offset >= body.length);
    },
  });
}

const ignore = (): void => undefined;
const silentLogger = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

async function loadSdk(): Promise<Sdk> {
  // The SDK warns on Node 20 that its releases after January 2027 need Node 22; the version is pinned.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return import('@aws-sdk/client-s3');
}

export interface S3StoreOptions {
  /** Concurrent connections (parts in flight plus one). */
  maxSockets?: number;
  /** TCP connect deadline, ms. */
  connectTimeoutMs?: number;
}

export async function openS3Store(settings: RemoteSettings, credentials: S3Credentials, options: S3StoreOptions = {}): Promise<ObjectStore> {
  const sdk = await loadSdk();
  const ca = settings.caFile ? await readFile(settings.caFile) : undefined;
  const maxSockets = options.maxSockets ?? 8;
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets, ...(ca ? { ca } : {}) });
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
  const client = new sdk.S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.pathStyle,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    maxAttempts: 1,
    // Quiet: the SDK would print its own warnings ("non-retryable streaming request") on stderr; our errors say it all.
    logger: silentLogger,
    defaultsMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { httpAgent, httpsAgent, connectionTimeout: options.connectTimeoutMs ?? 10_000 },
  });
  return new S3Store(sdk, client, settings.bucket, [httpAgent, httpsAgent]);
}

function sendOptions(options?: RequestOptions): { abortSignal?: AbortSignal } {
  return options?.signal ? { abortSignal: options.signal } : {};
}

class S3Store implements ObjectStore {
  readonly name: string;

  constructor(
    private readonly sdk: Sdk,
    private readonly client: InstanceType<Sdk['S3Client']>,
    private readonly bucket: string,
    private readonly agents: (HttpAgent | HttpsAgent)[],
  ) {
    this.name = `s3://${bucket}`;
  }

  async head(key: string, options?: RequestOptions): Promise<ObjectHead | undefined> {
    try {
      const out = await this.client.send(
        new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }),
        sendOptions(options),
      );
      return {
        size: out.ContentLength ?? 0,
        ...(out.ETag ? { etag: out.ETag.replaceAll('"', '') } : {}),
        ...(out.ChecksumSHA256 ? { checksumSha256: out.ChecksumSHA256 } : {}),
        metadata: out.Metadata ?? {},
        ...(out.LastModified ? { lastModified: out.LastModified } : {}),
        ...(out.StorageClass ? { storageClass: out.StorageClass } : {}),
      };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      throw error;
    }
  }

  async get(key: string, options?: RequestOptions & { range?: [number, number] }): Promise<Readable> {
    const range = options?.range ? { Range: `bytes=${options.range[0]}-${options.range[1]}` } : {};
    const out = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, ...range }), sendOptions(options));
    if (!(out.Body instanceof Readable)) throw new Error(`GET ${key}: the response has no body stream`);
    return out.Body;
  }

  async put(key: string, body: Buffer, options?: RequestOptions & { contentType?: string }): Promise<void> {
    await this.client.send(
      new this.sdk.PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: options?.contentType ?? 'application/octet-stream',
      }),
      sendOptions(options),
    );
  }

  async list(prefix: string, options?: RequestOptions): Promise<ObjectSummary[]> {
    const objects: ObjectSummary[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
        sendOptions(options),
      );
      for (const item of out.Contents ?? []) {
        if (item.Key === undefined) continue;
        objects.push({ key: item.Key, size: item.Size ?? 0, ...(item.LastModified ? { lastModified: item.LastModified } : {}) });
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async delete(key: string, options?: RequestOptions): Promise<void> {
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }), sendOptions(options));
  }

  async createMultipart(key: string, metadata: Record<string, string>, options?: RequestOptions & { storageClass?: string }): Promise<string> {
    const out = await this.client.send(
      new this.sdk.CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        Metadata: metadata,
        ContentType: 'application/octet-stream',
        ChecksumAlgorithm: 'SHA256',
        ...(options?.storageClass ? { StorageClass: options.storageClass as never } : {}),
      }),
      sendOptions(options),
    );
    if (!out.UploadId) throw new Error(`${this.name}: CreateMultipartUpload for ${key} returned no upload id`);
    return out.UploadId;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer,
    checksums: PartChecksums,
    options?: RequestOptions,
  ): Promise<UploadedPart> {
    const out = await this.client.send(
      new this.sdk.UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: progressBody(body, options?.onProgress),
        ContentLength: body.length,
        ...(checksums.md5 ? { ContentMD5: checksums.md5 } : {}),
        ...(checksums.sha256 ? { ChecksumSHA256: checksums.sha256 } : {}),
      }),
      sendOptions(options),
    );
    if (!out.ETag) throw new Error(`${this.name}: part ${partNumber} of ${key} was stored without an ETag`);
    return { partNumber, etag: out.ETag, ...(out.ChecksumSHA256 ? { checksumSha256: out.ChecksumSHA256 } : {}) };
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: UploadedPart[],
    options?: RequestOptions,
  ): Promise<{ etag?: string; checksumSha256?: string }> {
    const out = await this.client.send(
      new this.sdk.CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ...(p.checksumSha256 ? { ChecksumSHA256: p.checksumSha256 } : {}) })),
        },
      }),
      sendOptions(options),
    );
    return { ...(out.ETag ? { etag: out.ETag.replaceAll('"', '') } : {}), ...(out.ChecksumSHA256 ? { checksumSha256: out.ChecksumSHA256 } : {}) };
  }

  async abortMultipart(key: string, uploadId: string, options?: RequestOptions): Promise<void> {
    await this.client.send(new this.sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), sendOptions(options));
  }

  close(): void {
    this.client.destroy();
    for (const agent of this.agents) agent.destroy();
  }
}
