// What the remote code needs from an S3-compatible store, as an interface: the S3 implementation is in
// s3-store.ts (the SDK loaded lazily); unit tests use an in-memory one.
import type { Readable } from 'node:stream';

export interface ObjectHead {
  size: number;
  etag?: string;
  /** The server's SHA-256 checksum (base64, `-N` suffix for a multipart composite), when it keeps one. */
  checksumSha256?: string;
  /** User metadata (`x-amz-meta-*`), keys lower-case without the prefix. */
  metadata: Record<string, string>;
  lastModified?: Date;
  storageClass?: string;
}

export interface ObjectSummary {
  key: string;
  size: number;
  lastModified?: Date;
}

export interface PartChecksums {
  /** base64 MD5 of the part (Content-MD5: every S3 server checks it). */
  md5?: string;
  /** base64 SHA-256 of the part (x-amz-checksum-sha256: servers with flexible checksums check and keep it). */
  sha256?: string;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  checksumSha256?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Bytes handed to the connection so far in this request (the progress a timeout is scaled by). */
  onProgress?: (bytes: number, bodyDone?: boolean) => void;
}

export interface ObjectStore {
  /** `s3://bucket` (or the endpoint), for messages. */
  readonly name: string;
  head(key: string, options?: RequestOptions): Promise<ObjectHead | undefined>;
  /** The object's bytes (or `range` of them, inclusive), as a stream. */
  get(key: string, options?: RequestOptions & { range?: [number, number] }): Promise<Readable>;
  put(key: string, body: Buffer, options?: RequestOptions & { contentType?: string }): Promise<void>;
  list(prefix: string, options?: RequestOptions): Promise<ObjectSummary[]>;
  delete(key: string, options?: RequestOptions): Promise<void>;
  createMultipart(key: string, metadata: Record<string, string>, options?: RequestOptions & { storageClass?: string }): Promise<string>;
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer,
    checksums: PartChecksums,
    options?: RequestOptions,
  ): Promise<UploadedPart>;
  completeMultipart(
    key: string,
    uploadId: string,
    parts: UploadedPart[],
    options?: RequestOptions,
  ): Promise<{ etag?: string; checksumSha256?: string }>;
  abortMultipart(key: string, uploadId: string, options?: RequestOptions): Promise<void>;
  /** Release connections. */
  close(): void;
}
