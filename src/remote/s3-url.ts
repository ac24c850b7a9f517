// `s3://bucket/key` as given to `restore --snapshot` or `snapshots pull`.
import { UsageError } from '../errors.js';

export interface S3Url {
  bucket: string;
  key: string;
}

export function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

export function parseS3Url(text: string): S3Url {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(text) ?? [];
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (bucket === undefined || key === undefined || key.split('/').some((s) => s === '..' || s === '.') || /[\u0000-\u001f]/.test(text)) {
    throw new UsageError(
      `${JSON.stringify(text)} is not an s3://bucket/key address`,
      'write s3://BUCKET/KEY as `orchestrate snapshots list INVENTORY` shows it',
    );
  }
  return { bucket, key };
}
