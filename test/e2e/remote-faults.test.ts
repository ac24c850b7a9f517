// Remote copies when things go wrong, against a real S3 server on loopback with a fault-injecting proxy
// in front: 5xx answers, a request never answered, a slow link, the server killed mid-upload, a bucket
// that does not exist, wrong credentials. A failed copy is an error with its cause, logged as failed,
// counted in the metrics, leaves no half-uploaded object, and never shows the secret.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalSnapshot } from '../../src/remote/copy-snapshot.js';
import { clusterSnapshotPrefix } from '../../src/remote/remote-catalog.js';
import { RemoteCopyError } from '../../src/remote/remote-errors.js';
import { readRemoteAttempts } from '../../src/remote/remote-attempts.js';
import { isPartUpload, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { openRemote, remoteFixture, type RemoteFixture } from './remote-helpers.js';

async function bigSnapshot(fixture: RemoteFixture, name: string, bytes: number): Promise<LocalSnapshot> {
  const path = join(fixture.backupDir, name);
  const data = randomBytes(bytes);
  await writeFile(path, data);
  return { path, name, takenAt: new Date(), size: bytes, sha256: createHash('sha256').update(data).digest('hex') };
}

async function copyError(promise: Promise<unknown>): Promise<RemoteCopyError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(RemoteCopyError);
    return error as RemoteCopyError;
  }
  throw new Error('expected the copy to fail');
}

describe('remote copies under faults (s3rver behind a fault-injecting proxy)', function () {
  this.timeout(120_000);
  let server: S3Server;
  let proxy: FaultProxy;
  const fixtures: RemoteFixture[] = [];

  before(async () => {
    server = await startS3Server({ buckets: ['backups'] });
    proxy = await startFaultProxy(server.port);
  });
  after(async () => {
    await proxy.close();
    await server.destroy();
    for (const fixture of fixtures) await rm(fixture.dir, { recursive: true, force: true });
  });

  async function fixtureFor(options: Parameters<typeof remoteFixture>[0]): Promise<RemoteFixture> {
    const fixture = await remoteFixture(options);
    fixtures.push(fixture);
    return fixture;
  }

  it('retries parts answered with 500 and still delivers a verified copy', async () => {
    const fixture = await fixtureFor({ endpoint: proxy.endpoint });
    const remote = await openRemote(fixture);
    try {
      proxy.failNext(2, isPartUpload, 503);
      const result = await remote.copy(await bigSnapshot(fixture, 'snapshot_20261203T000000Z_rev1.db', 9 * 1024 * 1024));
      expect(result.record.verified).to.equal(true);
      expect(result.retries).to.equal(2);
      const [attempt] = await readRemoteAttempts(remote.attemptsFile);
      expect(attempt?.retries).to.equal(2);
    } finally {
      remote.close();
    }
  });

  it('gives up after the bounded tries on a server that keeps failing: an error, a failed record, no object left', async () => {
    const fixture = await fixtureFor({ endpoint: proxy.endpoint });
    const remote = await openRemote(fixture);
    try {
      proxy.failNext(50, isPartUpload, 500);
      const before = proxy.seen.length;
      const error = await copyError(remote.copy(await bigSnapshot(fixture, 'snapshot_20261203T010000Z_rev1.db', 1024 * 1024)));
      expect(error.kind).to.equal('server');
      expect(error.message).to.match(
        /upload of s3:\/\/backups\/prod\/etcd\/snapshots\/remote-test\/snapshot_20261203T010000Z_rev1\.db\.age failed after 3 tries: HTTP 500 InternalError/,
      );
      const requests = proxy.seen.slice(before);
      expect(requests.filter((r) => r.startsWith('PUT') && r.includes('partNumber=1'))).to.have.length(3);
      // The multipart upload was aborted, so no parts linger and no object exists.
      expect(requests.some((r) => r.startsWith('DELETE') && r.includes('uploadId='))).to.equal(true);
      const objects = await remote.store.list(clusterSnapshotPrefix(remote.settings, 'remote-test'));
      expect(objects.map((o) => o.key)).not.to.include('prod/etcd/snapshots/remote-test/snapshot_20261203T010000Z_rev1.db.age');
      const attempts = await readRemoteAttempts(remote.attemptsFile);
      expect(attempts.map((a) => a.result)).to.deep.equal(['failed']);
      expect(attempts[0]?.kind).to.equal('server');
      const metrics = await remote.metrics();
      expect([metrics.lastAttemptSuccess, metrics.consecutiveFailures, metrics.lastSuccessTimestampSeconds]).to.deep.equal([0, 1, 0]);
    } finally {
      proxy.reset();
      remote.close();
    }
  });

  it('a slow but steady link is not cut off; a request never answered is abandoned at its deadline and retried', async () => {
    const fixture = await fixtureFor({ endpoint: proxy.endpoint });
    // 2 s minimum per part, 1.5 s without progress: the 3 MiB part at 1 MiB/s takes longer than the minimum,
    // and is not cut off; a part never answered is cut off by its deadline and sent again.
    const remote = await openRemote(fixture, {
      maxAttempts: 3,
      backoffBaseMs: 50,
      backoffMaxMs: 100,
      stallTimeoutMs: 1_500,
      minPartTimeoutMs: 2_000,
      floorBytesPerSecond: 512 * 1024,
    });
    try {
      proxy.throttle(1024 * 1024);
      const started = Date.now();
      const slow = await remote.copy(await bigSnapshot(fixture, 'snapshot_20261203T020000Z_rev1.db', 3 * 1024 * 1024));
      expect(Date.now() - started).to.be.greaterThan(2_500);
      expect(slow.retries).to.equal(0);
      proxy.throttle(undefined);
      proxy.stallNext(1, isPartUpload);
      const stalled = await remote.copy(await bigSnapshot(fixture, 'snapshot_20261203T030000Z_rev1.db', 1024 * 1024));
      expect(stalled.retries).to.equal(1);
      expect(stalled.record.verified).to.equal(true);
    } finally {
      proxy.reset();
      remote.close();
    }
  });

  it('names a bucket that does not exist, without retrying', async () => {
    const fixture = await fixtureFor({ endpoint: proxy.endpoint, bucket: 'no-such-bucket' });
    const remote = await openRemote(fixture);
    try {
      const before = proxy.seen.length;
      const error = await copyError(remote.copy(await bigSnapshot(fixture, 'snapshot_20261203T040000Z_rev1.db', 1024)));
      expect(error.kind).to.equal('no-bucket');
      expect(error.message).to.match(/NoSuchBucket/);
      expect(error.hint).to.match(/create the bucket .* or correct backup_remote\.bucket/);
      expect(proxy.seen.slice(before).filter((r) => r.startsWith('POST'))).to.have.length(1);
    } finally {
      remote.close();
    }
  });

  it('reports refused credentials without showing the secret', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    // s3rver checks the access key id but not SigV4 signatures: an unknown key id is what it refuses.
    const fixture = await fixtureFor({ endpoint: proxy.endpoint, secret, keyId: 'AKIAWRONGKEY00000000' });
    const remote = await openRemote(fixture);
    try {
      const error = await copyError(remote.copy(await bigSnapshot(fixture, 'snapshot_20261203T050000Z_rev1.db', 1024)));
      expect(error.kind).to.equal('credentials');
      expect(error.message).to.match(/InvalidAccessKeyId/);
      expect(error.hint).to.match(/credentials were refused/);
      const attempts = await readRemoteAttempts(remote.attemptsFile);
      expect(JSON.stringify(attempts)).not.to.include(secret);
      expect(`${error.message} ${error.hint ?? ''} ${remote.describe()}`).not.to.include(secret);
    } finally {
      remote.close();
    }
  });

  it('fails with the cause when the server dies mid-upload, and the attempt is recorded as failed', async () => {
    const own = await startS3Server({ buckets: ['backups'] });
    const ownProxy = await startFaultProxy(own.port);
    const fixture = await fixtureFor({ endpoint: ownProxy.endpoint });
    const remote = await openRemote(fixture);
    try {
      ownProxy.throttle(4 * 1024 * 1024);
      const copying = remote.copy(await bigSnapshot(fixture, 'snapshot_20261203T060000Z_rev1.db', 24 * 1024 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      own.kill();
      const error = await copyError(copying);
      expect(['network', 'server', 'timeout']).to.include(error.kind);
      expect(error.message).to.match(/upload of s3:\/\/backups\/.*snapshot_20261203T060000Z_rev1\.db\.age failed/);
      const attempts = await readRemoteAttempts(remote.attemptsFile);
      expect(attempts.map((a) => a.result)).to.deep.equal(['failed']);
    } finally {
      remote.close();
      await ownProxy.close();
      await own.destroy();
    }
  });
});
