// The baseline of bench/backup-remote-vs-etcdctl.ts: one file to S3 with the AWS SDK alone, the way
// its documentation shows (lib-storage's Upload over a file stream), with the part size and parallelism
// orchestrate uses. usage: node bench/sdk-upload.mjs ENDPOINT BUCKET KEY FILE (credentials from AWS_*).
import { createReadStream } from 'node:fs';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { S3Client } = await import('@aws-sdk/client-s3');
const { Upload } = await import('@aws-sdk/lib-storage');

const [endpoint, bucket, key, file] = process.argv.slice(2);
const client = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  // s3rver does not understand the aws-chunked trailing checksums the SDK sends by default.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const started = performance.now();
await new Upload({
  client,
  params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1024 * 1024 }) },
  partSize: 5 * 1024 * 1024,
  queueSize: 2,
}).done();
process.stdout.write(`${JSON.stringify({ ms: performance.now() - started })}\n`);
client.destroy();
