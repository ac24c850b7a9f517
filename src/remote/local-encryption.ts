// Encrypted local copies (`backup_encryption.local: true`): a verified snapshot becomes
// `<name>.age` beside it (owner-only, written under a temporary name, fsynced, then renamed), with the
// sha256 of both the snapshot and the encrypted file for the catalog. And the way back, for restore and
// verify: decrypt to a temporary file, check it as an etcd snapshot, then give it its name.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeProblems, verifySnapshotFile } from '../etcd/snapshot-file.js';
import { fsyncDirectory } from '../etcd/fs-sync.js';
import { partialPathFor } from '../etcd/partial-file.js';
import { AgeDecryptError, createAgeDecryptStream, createAgeEncryptStream, splitHeader, unwrapFileKey } from './age-stream.js';
import { wrongIdentityError, type AgeIdentity } from './identity.js';
import { RemoteCopyError } from './remote-errors.js';

export interface EncryptedLocalCopy {
  path: string;
  size: number;
  /** sha256 (hex) of the encrypted file. */
  sha256: string;
  plaintextSize: number;
  plaintextSha256: string;
}

function tap(): { stream: Transform; digest: () => { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, digest: () => ({ sha256: hash.digest('hex'), size }) };
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * `<snapshot>.age` for `recipients`. The snapshot must still have `expectedSha256` (what its verification
 * found) or nothing is written. The plaintext file is left in place: removing it is the caller's
 * decision, once the encrypted copy is recorded.
 */
export async function encryptLocalCopy(snapshotPath: string, recipients: readonly string[], expectedSha256: string): Promise<EncryptedLocalCopy> {
  const dest = `${snapshotPath}.age`;
  const temp = partialPathFor(dest);
  const plain = tap();
  const sealed = tap();
  try {
    const encrypt = await createAgeEncryptStream(recipients);
    await pipeline(
      createReadStream(snapshotPath, { highWaterMark: 1024 * 1024 }),
      plain.stream,
      encrypt,
      sealed.stream,
      createWriteStream(temp, { flags: 'wx', mode: 0o600 }),
    );
    const p = plain.digest();
    if (p.sha256 !== expectedSha256)
      throw new RemoteCopyError(
        `${snapshotPath} changed since it was verified (sha256 ${p.sha256}, expected ${expectedSha256}); not encrypted`,
        'verification',
      );
    await syncFile(temp);
    await rename(temp, dest);
    await fsyncDirectory(dirname(dest));
    const s = sealed.digest();
    return { path: dest, size: s.size, sha256: s.sha256, plaintextSize: p.size, plaintextSha256: p.sha256 };
  } finally {
    await rm(temp, { force: true });
  }
}

/** Refuse an identity that cannot open `agePath`, reading only its header (before any host is touched). */
export async function checkLocalIdentity(agePath: string, identity: AgeIdentity): Promise<void> {
  const handle = await open(agePath, 'r');
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  try {
    await unwrapFileKey(splitHeader(head).header, identity.keys);
  } catch (error) {
    if (error instanceof AgeDecryptError && /not one of the recipients/.test(error.message)) throw wrongIdentityError(identity, agePath);
    throw new RemoteCopyError(`${agePath} is not a readable age file: ${(error as Error).message}`, 'verification');
  }
}

/**
 * Decrypt `agePath` into `destDir` under its snapshot name (without `.age`), checked as an etcd snapshot
 * (against `expectedSha256` when the catalog has it) before it gets that name; never replaces a file.
 */
export async function decryptLocalCopy(
  agePath: string,
  destDir: string,
  identity: AgeIdentity,
  expectedSha256?: string,
): Promise<{ path: string; sha256: string; revision: number; totalKey: number }> {
  await checkLocalIdentity(agePath, identity);
  const dest = join(destDir, basename(agePath).replace(/\.age$/, ''));
  const temp = partialPathFor(dest);
  try {
    const plain = tap();
    try {
      await pipeline(
        createReadStream(agePath, { highWaterMark: 1024 * 1024 }),
        createAgeDecryptStream(identity.keys),
        plain.stream,
        createWriteStream(temp, { flags: 'wx', mode: 0o600 }),
      );
    } catch (error) {
      if (error instanceof AgeDecryptError)
        throw new RemoteCopyError(`${agePath} cannot be decrypted: ${error.message}`, 'verification', 'use another snapshot');
      throw error;
    }
    await syncFile(temp);
    const report = await verifySnapshotFile(temp, expectedSha256 ? { expect: { sha256: expectedSha256 } } : {});
    if (!report.ok)
      throw new RemoteCopyError(
        `${agePath} decrypts to a snapshot that fails verification: ${describeProblems(report)}`,
        'verification',
        'use another snapshot',
      );
    await link(temp, dest);
    await fsyncDirectory(destDir);
    return { path: dest, sha256: report.sha256, revision: report.status.revision, totalKey: report.status.totalKey };
  } finally {
    await rm(temp, { force: true });
  }
}
