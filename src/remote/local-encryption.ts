// Encrypted local copies (`backup_encryption.local: true`). Writing: a verified snapshot is encrypted
// with age into an owner-only temporary file (fsynced) while its plaintext is hashed, and the hash must
// equal what the verification found: the ciphertext then holds exactly the verified bytes, and age's
// authenticated chunks make any later change fail to decrypt. The caller gives it its final name and
// removes the plaintext. Reading: the etcd verifier walks the bbolt pages at random offsets, so a
// snapshot is decrypted into an owner-only temporary folder, verified there, used, and removed
// (`discard`, and on process exit whatever is still there).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { link, mkdir, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EncryptedVerifier } from '../etcd/backup/catalog.js';
import { describeProblems, verifySnapshotFile, type SnapshotReport, type SnapshotReportOk } from '../etcd/snapshot-file.js';
import { fsyncDirectory } from '../etcd/fs-sync.js';
import { partialPathFor } from '../etcd/partial-file.js';
import { AgeDecryptError, createAgeDecryptStream, createAgeEncryptStream, splitHeader, unwrapFileKey } from './age-stream.js';
import { wrongIdentityError, type AgeIdentity } from './identity.js';
import { RemoteCopyError } from './remote-errors.js';

const READ_BUFFER = 1024 * 1024;

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
 * Encrypt `snapshotPath` for `recipients` into `dest` (default `<snapshot>.age`): written under a temporary
 * name (0600), fsynced, then linked to `dest`, never over an existing file. The plaintext read must have
 * `expectedSha256` (what its verification found) or nothing is left behind. The plaintext file is left in
 * place: removing it is the caller's decision.
 */
export async function encryptLocalCopy(
  snapshotPath: string,
  recipients: readonly string[],
  expectedSha256: string,
  dest = `${snapshotPath}.age`,
): Promise<EncryptedLocalCopy> {
  const temp = partialPathFor(dest);
  const plain = tap();
  const sealed = tap();
  try {
    const encrypt = await createAgeEncryptStream(recipients);
    await pipeline(
      createReadStream(snapshotPath, { highWaterMark: READ_BUFFER }),
      plain.stream,
      encrypt,
      sealed.stream,
      createWriteStream(temp, { flags: 'wx', mode: 0o600, highWaterMark: READ_BUFFER }),
    );
    const p = plain.digest();
    if (p.sha256 !== expectedSha256)
      throw new RemoteCopyError(
        `${snapshotPath} changed since it was verified (sha256 ${p.sha256}, expected ${expectedSha256}); not encrypted`,
        'verification',
      );
    await syncFile(temp);
    await link(temp, dest);
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
    throw new RemoteCopyError(`${agePath} is not a readable age file: ${(error as Error).message}`, 'verification', 'use another snapshot');
  }
}

/** A local snapshot file is an age-encrypted one (by its name, as backup writes them). */
export function isEncryptedSnapshot(path: string): boolean {
  return path.endsWith('.age');
}

// ---------------------------------------------------------------------------------------------
// Decrypted temporaries: owner-only folders named like every temporary (`.tmp-<hex>`: never listed as a
// snapshot, removed by the next backup when stale), tracked so that nothing outlives the process.

const live = new Set<string>();
let exitHookInstalled = false;

function track(folder: string): void {
  live.add(folder);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort (an exception that skipped a `finally`, process.exit from a signal handler): synchronous.
  process.once('exit', () => {
    for (const dir of live) rmSync(dir, { recursive: true, force: true });
  });
}

/** Folders of decrypted snapshots not discarded yet (tests check that none is left). */
export function decryptedTemporaries(): string[] {
  return [...live];
}

/** A new owner-only folder in `dir` for a clear snapshot; `discard` (or discardDecryptedSnapshots, or the process's exit) removes it. */
export async function temporaryFolder(dir: string): Promise<{ path: string; discard: () => Promise<void> }> {
  const folder = join(dir, `.decrypted.tmp-${randomBytes(6).toString('hex')}`);
  await mkdir(folder, { mode: 0o700 });
  track(folder);
  return {
    path: folder,
    discard: async () => {
      await rm(folder, { recursive: true, force: true });
      live.delete(folder);
    },
  };
}

/** Remove every decrypted snapshot this process still holds (a restore or drill ends, however it ends). */
export async function discardDecryptedSnapshots(): Promise<void> {
  for (const folder of [...live]) {
    await rm(folder, { recursive: true, force: true });
    live.delete(folder);
  }
}

export interface DecryptedSnapshot {
  /** The plaintext snapshot: `<dir>/.decrypted.tmp-<hex>/<name without .age>`, 0600 in a 0700 folder. */
  path: string;
  /** The encrypted file it came from. */
  from: string;
  sha256: string;
  /** sha256 of the encrypted file, read on the way. */
  ciphertextSha256: string;
  size: number;
  report: SnapshotReportOk;
  /** Remove the plaintext (and its folder). Safe to call twice. */
  discard(): Promise<void>;
}

export interface DecryptOptions {
  /** Where the temporary folder goes (default: beside the encrypted file). backup_dir keeps it on the snapshots' disk. */
  dir?: string;
  /** The plaintext's sha256 as recorded (catalog); the revision too when known. */
  expect?: { sha256?: string; revision?: number };
  /** The ciphertext's sha256 as recorded: checked while decrypting. */
  expectCiphertextSha256?: string;
  /** The plaintext's file name (default: the encrypted file's without `.age`). */
  name?: string;
  signal?: AbortSignal;
}

/**
 * Decrypt `agePath` into an owner-only temporary file and verify it as an etcd snapshot (against the
 * record when given). The identity is checked on the header first. On any failure nothing is left.
 */
export async function decryptToTemporary(agePath: string, identity: AgeIdentity, options: DecryptOptions = {}): Promise<DecryptedSnapshot> {
  await checkLocalIdentity(agePath, identity);
  const { path: folder, discard } = await temporaryFolder(options.dir ?? dirname(agePath));
  try {
    const path = join(folder, options.name ?? (basename(agePath).replace(/\.age$/, '') || 'snapshot.db'));
    const sealed = tap();
    const plain = tap();
    try {
      await pipeline(
        createReadStream(agePath, { highWaterMark: READ_BUFFER }),
        sealed.stream,
        createAgeDecryptStream(identity.keys),
        plain.stream,
        createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: READ_BUFFER }),
        options.signal ? { signal: options.signal } : {},
      );
    } catch (error) {
      if (error instanceof AgeDecryptError)
        throw new RemoteCopyError(`${agePath} cannot be decrypted: ${error.message}`, 'verification', 'use another snapshot');
      throw error;
    }
    const s = sealed.digest();
    if (options.expectCiphertextSha256 && s.sha256 !== options.expectCiphertextSha256)
      throw new RemoteCopyError(
        `${agePath} does not match its record (sha256 ${s.sha256}, recorded ${options.expectCiphertextSha256})`,
        'verification',
        'use another snapshot',
      );
    const p = plain.digest();
    const report = await verifySnapshotFile(path, {
      ...(options.expect ? { expect: options.expect } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!report.ok)
      throw new RemoteCopyError(
        `${agePath} decrypts to a snapshot that fails verification: ${describeProblems(report)}`,
        'verification',
        'use another snapshot',
      );
    return { path, from: agePath, sha256: p.sha256, ciphertextSha256: s.sha256, size: p.size, report, discard };
  } catch (error) {
    await discard();
    throw error;
  }
}

/**
 * For listings, retention and catalog rebuilds: decrypt, verify, discard. A file that cannot be decrypted
 * or fails comes back as a failed report (a wrong identity too: the row says why).
 */
export function encryptedVerifier(identity: AgeIdentity, dir?: string): EncryptedVerifier {
  return async (path, expect, signal) => {
    const started = Date.now();
    try {
      const decrypted = await decryptToTemporary(path, identity, {
        ...(dir ? { dir } : {}),
        ...(expect.sha256 ? { expect: { sha256: expect.sha256 } } : {}),
        ...(expect.ciphertextSha256 ? { expectCiphertextSha256: expect.ciphertextSha256 } : {}),
        ...(signal ? { signal } : {}),
      });
      await decrypted.discard();
      return { report: decrypted.report, ciphertextSha256: decrypted.ciphertextSha256 };
    } catch (error) {
      const report: SnapshotReport = {
        ok: false,
        path,
        fileSize: 0,
        hasHash: false,
        sha256: '',
        buckets: [],
        durationMs: Date.now() - started,
        problems: [{ code: 'file.unreadable', message: (error as Error).message }],
      };
      return { report };
    }
  };
}
