import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { uploadObject } from '../../../src/remote/multipart-upload.js';
import { PartReader } from '../../../src/remote/part-reader.js';
import { RemoteCopyError } from '../../../src/remote/remote-errors.js';
import { DEFAULT_POLICY } from '../../../src/remote/transfer-policy.js';
import { expectedMultipartEtag, verifyRemoteObject } from '../../../src/remote/verify-remote.js';
import { httpError, MemoryStore } from './memory-store.js';

const policy = { ...DEFAULT_POLICY, backoffBaseMs: 1, backoffMaxMs: 2, maxAttempts: 3 };

/** `data` in chunks of awkward sizes, as a stream delivers it. */
function chunked(data: Buffer, sizes = [1, 7, 4096, 65_536, 3]): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return Readable.from(chunks);
}

describe('remote multipart upload', () => {
  it('PartReader cuts any chunking into equal parts and hashes the whole', async () => {
    const data = randomBytes(300_001);
    const reader = new PartReader(chunked(data), 100_000);
    const sizes: number[] = [];
    for (let part = await reader.next(); part; part = await reader.next()) {
      sizes.push(part.data.length);
      expect(part.sha256).to.deep.equal(createHash('sha256').update(part.data).digest());
      reader.release(part);
    }
    expect(sizes).to.deep.equal([100_000, 100_000, 100_000, 1]);
    expect(reader.finish()).to.deep.equal({
      sha256: createHash('sha256').update(data).digest('hex'),
      md5: createHash('md5').update(data).digest('hex'),
      size: 300_001,
      parts: 4,
    });
  });

  it('an empty stream is one empty part', async () => {
    const reader = new PartReader(Readable.from([]), 1024);
    const part = await reader.next();
    expect(part?.data.length).to.equal(0);
    expect(await reader.next()).to.equal(undefined);
  });

  it('stores exactly the bytes, with S3 ETag rules, keeping at most `concurrency` parts in flight', async () => {
    const store = new MemoryStore();
    store.partDelayMs = 5;
    const data = randomBytes(5 * 64 * 1024 + 17);
    const result = await uploadObject(store, 'k', chunked(data), {
      policy: { ...policy, concurrency: 2 },
      sizeEstimate: data.length,
      metadata: { a: 'b' },
      partSize: 64 * 1024,
    });
    expect(store.objects.get('k')?.data.equals(data)).to.equal(true);
    expect(result.sha256).to.equal(createHash('sha256').update(data).digest('hex'));
    expect(result.parts).to.have.length(6);
    expect(store.maxInFlight).to.equal(2);
    expect(store.objects.get('k')?.etag).to.equal(expectedMultipartEtag(result));
    expect((await verifyRemoteObject(store, result, 'auto')).verifiedBy).to.equal('server-md5-parts');
    expect((await verifyRemoteObject(store, result, 'read-back')).verifiedBy).to.equal('read-back');
  });

  it('a server that keeps SHA-256 checksums: later parts carry only SHA-256, and the copy verifies without a read-back', async () => {
    const store = new MemoryStore();
    store.keepsChecksums = true;
    const data = randomBytes(4 * 64 * 1024 + 5);
    const result = await uploadObject(store, 'k', chunked(data), {
      policy: { ...policy, concurrency: 1 },
      sizeEstimate: data.length,
      metadata: {},
      partSize: 64 * 1024,
    });
    expect(store.sentChecksums.map((c) => [c.md5 !== undefined, c.sha256 !== undefined])).to.deep.equal([
      [true, true],
      [false, true],
      [false, true],
      [false, true],
      [false, true],
    ]);
    expect(result.md5).to.equal(undefined);
    const verdict = await verifyRemoteObject(store, result, 'auto');
    expect(verdict.verifiedBy).to.equal('server-sha256');
    expect(store.calls).not.to.include('get');
    // A server checksum that disagrees is a failure, not a reason to read back.
    store.objects.get('k')!.checksumSha256 = 'AAAA-5';
    try {
      await verifyRemoteObject(store, result, 'auto');
      expect.fail('verification should fail');
    } catch (error) {
      expect((error as Error).message).to.match(/SHA-256 checksum AAAA-5 differs/);
    }
  });

  it('a server whose ETag is the MD5 of the whole object (s3rver): parts carry only MD5, verified by that ETag', async () => {
    const store = new MemoryStore();
    store.etagStyle = 'whole-md5';
    const data = randomBytes(3 * 64 * 1024);
    const result = await uploadObject(store, 'k', chunked(data), {
      policy: { ...policy, concurrency: 1 },
      sizeEstimate: data.length,
      metadata: {},
      partSize: 64 * 1024,
    });
    expect(store.sentChecksums.map((c) => [c.md5 !== undefined, c.sha256 !== undefined])).to.deep.equal([
      [true, true],
      [true, false],
      [true, false],
    ]);
    expect(result.md5).to.equal(createHash('md5').update(data).digest('hex'));
    expect((await verifyRemoteObject(store, result, 'auto')).verifiedBy).to.equal('server-md5');
    expect(store.calls).not.to.include('get');
  });

  it('retries a failed part from its own buffer', async () => {
    const store = new MemoryStore();
    store.failures.set('part', [httpError(500, 'InternalError'), httpError(503, 'SlowDown')]);
    const data = randomBytes(3 * 64 * 1024);
    const result = await uploadObject(store, 'k', chunked(data), { policy, sizeEstimate: data.length, metadata: {}, partSize: 64 * 1024 });
    expect(result.retries).to.equal(2);
    expect(store.objects.get('k')?.data.equals(data)).to.equal(true);
  });

  it('a part that keeps failing aborts the multipart upload and throws; nothing is stored', async () => {
    const store = new MemoryStore();
    store.failures.set('part', [
      httpError(500, 'a'),
      httpError(500, 'b'),
      httpError(500, 'c'),
      httpError(500, 'd'),
      httpError(500, 'e'),
      httpError(500, 'f'),
    ]);
    const data = randomBytes(4 * 64 * 1024);
    try {
      await uploadObject(store, 'k', chunked(data), { policy, sizeEstimate: data.length, metadata: {}, partSize: 64 * 1024 });
      expect.fail('the upload should fail');
    } catch (error) {
      expect(error).to.be.instanceOf(RemoteCopyError);
      expect((error as RemoteCopyError).message).to.match(/upload of s3:\/\/memory\/k failed after 3 tries: HTTP 500/);
    }
    expect(store.calls).to.include('abort');
    expect(store.calls).not.to.include('complete');
    expect(store.objects.has('k')).to.equal(false);
    expect(store.uploads.size).to.equal(0);
  });

  it('a failing source (an unreadable file) aborts too', async () => {
    const store = new MemoryStore();
    const source = new Readable({
      read() {
        this.destroy(new Error('EIO: i/o error'));
      },
    });
    try {
      await uploadObject(store, 'k', source, { policy, sizeEstimate: 1, metadata: {}, partSize: 64 * 1024 });
      expect.fail('the upload should fail');
    } catch (error) {
      expect((error as Error).message).to.match(/EIO/);
    }
    expect(store.calls.at(-1)).to.equal('abort');
  });

  it('a server whose copy differs is caught by verification', async () => {
    const store = new MemoryStore();
    const data = randomBytes(2 * 64 * 1024);
    const result = await uploadObject(store, 'k', chunked(data), { policy, sizeEstimate: data.length, metadata: {}, partSize: 64 * 1024 });
    const stored = store.objects.get('k')!;
    stored.data[10] = stored.data[10]! ^ 1;
    stored.etag = 'not-an-md5';
    try {
      await verifyRemoteObject(store, result, 'auto');
      expect.fail('verification should fail');
    } catch (error) {
      expect((error as RemoteCopyError).kind).to.equal('verification');
      expect((error as Error).message).to.match(/read back .* expected/);
    }
  });
});
