// Runs s3rver (a pure-JavaScript S3 server) in its own process for tests and benchmarks, so it can be
// killed mid-request like a real server and its memory is not counted as ours.
// usage: node s3rver-main.mjs DIR PORT BUCKET... ; prints "port=N" once listening.
import S3rver from 's3rver';

const [dir, port, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port ?? 0),
  directory: dir,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});
const address = await server.run();
process.stdout.write(`port=${address.port}\n`);
process.on('SIGTERM', () => process.exit(0));
