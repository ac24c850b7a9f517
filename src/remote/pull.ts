// A remote copy back onto the deploy host: the identity checked on the object's header first (a wrong
// key fails before the download, and before any host is touched), then one streamed pass that hashes the
// stored bytes, decrypts, hashes the plaintext and writes an owner-only temporary file; then the etcd
// snapshot checks, and only then the final name. Any mismatch (an object altered on the server, a
// truncated download) removes the temporary file and fails.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, open, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ensureBackupDir } from '../etcd/backup/snapshot-store.js';
import { describeProblems, verifiedFacts, verifySnapshotFile } from '../etcd/snapshot-file.js';
import { fsyncDirectory } from '../etcd/fs-sync.js';
import { partialPathFor } from '../etcd/partial-file.js';
import { AgeDecryptError, createAgeDecryptStream, splitHeader, unwrapFileKey } from './age-stream.js';
import { IdentityError, wrongIdentityError, type AgeIdentity } from './identity.js';
import { decryptToTemporary } from './local-encryption.js';
import type { ObjectStore } from './object-store.js';
import { isPlainFileName, type RemoteCopyRecord } from './remote-catalog.js';
import { adviceFor, RemoteCopyError } from './remote-errors.js';
import { sha256File } from '../transport/sha256.js';

export interface PulledSnapshot {
  path: string;
  name: string;
  size: number;
  /** sha256 (hex) of the snapshot file (the plaintext). */
  sha256: string;
  revision: number;
  totalKey: number;
  takenAt: string;
  copy: RemoteCopyRecord;
  /** The file was already in the folder with the same content. */
  alreadyLocal: boolean;
  /** Kept encrypted (`path` is the age file): its size and sha256. */
  sealed?: { size: number; sha256: string };
}

export interface PullOptions {
  identity?: AgeIdentity;
  signal?: AbortSignal;
  /**
   * backup_encryption.local: an encrypted copy stays encrypted (`<name>.age`): stored bytes checked,
   * then decrypted into a temporary file only to be verified, which is removed.
   */
  keepEncrypted?: boolean;
}

function digestTap(): { tap: Transform; result: () => { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  return { tap, result: () => ({ sha256: hash.digest('hex'), size }) };
}

/** Refuse before downloading when the copy is encrypted and the identity cannot open it. */
export async function checkIdentityFor(
  store: ObjectStore,
  copy: RemoteCopyRecord,
  identity: AgeIdentity | undefined,
  signal?: AbortSignal,
): Promise<void> {
  if (!copy.encrypted) return;
  if (!identity)
    throw new IdentityError(
      `${store.name}/${copy.key} is encrypted and no age identity was given`,
      'set ORCHESTRATE_AGE_IDENTITY_FILE or backup_encryption.identity_file (the file age-keygen wrote)',
    );
  const end = Math.min(copy.size, 64 * 1024) - 1;
  const chunks: Buffer[] = [];
  for await (const chunk of (await store.get(copy.key, { range: [0, end], ...(signal ? { signal } : {}) })) as AsyncIterable<Buffer>)
    chunks.push(chunk);
  try {
    await unwrapFileKey(splitHeader(Buffer.concat(chunks)).header, identity.keys);
  } catch (error) {
    if (error instanceof AgeDecryptError && /not one of the recipients/.test(error.message))
      throw wrongIdentityError(identity, `${store.name}/${copy.key}`);
    throw new RemoteCopyError(
      `${store.name}/${copy.key} is not a readable age file: ${(error as Error).message}`,
      'verification',
      adviceFor('verification', store.name),
    );
  }
}

function altered(store: ObjectStore, copy: RemoteCopyRecord, what: string): RemoteCopyError {
  return new RemoteCopyError(
    `the remote copy ${store.name}/${copy.key} does not match its record (${what}): it was altered or damaged on the server; nothing was used`,
    'verification',
    'pick another snapshot (orchestrate snapshots list INVENTORY) and check the bucket',
  );
}

async function download(
  store: ObjectStore,
  copy: RemoteCopyRecord,
  temp: string,
  options: PullOptions,
): Promise<{ stored: { sha256: string; size: number }; plain: { sha256: string; size: number } }> {
  const body: Readable = await store.get(copy.key, options.signal ? { signal: options.signal } : {});
  const stored = digestTap();
  const plain = digestTap();
  const keys = options.identity?.keys ?? [];
  const stages = copy.encrypted ? [stored.tap, createAgeDecryptStream(keys), plain.tap] : [stored.tap, plain.tap];
  // 'wx': created here, never an existing file or a planted symlink; owner-only like every snapshot.
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 });
  await pipeline([body, ...stages, out], options.signal ? { signal: options.signal } : {});
  const handle = await open(temp, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { stored: stored.result(), plain: plain.result() };
}

/**
 * Link the verified download into place, never over another file. A file already at `dest` that holds
 * the same content (`sameContent`) counts as pulled before (true); any other is refused.
 */
async function place(temp: string, dest: string, sameContent: (path: string) => Promise<boolean>): Promise<boolean> {
  try {
    await link(temp, dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (await sameContent(dest)) return true;
    throw new RemoteCopyError(
      `${dest} already exists with other content; the pulled copy was not put in its place`,
      'refused',
      `move ${dest} aside and pull again`,
    );
  }
  await fsyncDirectory(join(dest, '..'));
  return false;
}

/** Download, verify and (if encrypted) decrypt `copy` into `destDir` under its snapshot name. */
export async function pullCopy(store: ObjectStore, copy: RemoteCopyRecord, destDir: string, options: PullOptions = {}): Promise<PulledSnapshot> {
  // The name comes from the bucket and becomes a path here: `../x` or `a/b` would write outside destDir.
  if (!isPlainFileName(copy.name))
    throw new RemoteCopyError(
      `${store.name}/${copy.key} names its snapshot ${JSON.stringify(copy.name)}, which is not a plain file name; nothing was downloaded`,
      'refused',
      'check the bucket: its catalog or the object metadata was altered; pick another snapshot (orchestrate snapshots list INVENTORY)',
    );
  await checkIdentityFor(store, copy, options.identity, options.signal);
  await ensureBackupDir(destDir);
  if (copy.encrypted && options.keepEncrypted && options.identity) return pullSealed(store, copy, destDir, options.identity, options.signal);
  const dest = join(destDir, copy.name);
  const temp = partialPathFor(dest);
  try {
    const { stored, plain } = await download(store, copy, temp, options).catch((error: unknown) => {
      if (error instanceof AgeDecryptError) throw altered(store, copy, error.message);
      throw error;
    });
    if (stored.size !== copy.size) throw altered(store, copy, `${stored.size} bytes, recorded ${copy.size}`);
    if (copy.sha256 && stored.sha256 !== copy.sha256) throw altered(store, copy, `sha256 ${stored.sha256}, recorded ${copy.sha256}`);
    if (copy.plaintextSha256 && plain.sha256 !== copy.plaintextSha256)
      throw altered(store, copy, `snapshot sha256 ${plain.sha256}, recorded ${copy.plaintextSha256}`);
    const report = await verifySnapshotFile(temp, {
      expect: {
        ...(copy.plaintextSha256 ? { sha256: copy.plaintextSha256 } : {}),
        ...(copy.revision !== undefined ? { revision: copy.revision } : {}),
      },
    });
    if (!report.ok) throw altered(store, copy, `not a good etcd snapshot: ${describeProblems(report)}`);
    const alreadyLocal = await place(temp, dest, async (path) => (await verifySnapshotFile(path, { expect: { sha256: plain.sha256 } })).ok);
    return {
      path: dest,
      name: copy.name,
      size: plain.size,
      sha256: plain.sha256,
      revision: report.status.revision,
      totalKey: report.status.totalKey,
      takenAt: copy.takenAt,
      copy,
      alreadyLocal,
    };
  } finally {
    await unlink(temp).catch(() => rm(temp, { force: true }));
  }
}

/** The encrypted copy as it is stored, to `<name>.age`: its bytes checked, its plaintext verified in a temporary file that is removed. */
async function pullSealed(
  store: ObjectStore,
  copy: RemoteCopyRecord,
  destDir: string,
  identity: AgeIdentity,
  signal?: AbortSignal,
): Promise<PulledSnapshot> {
  const dest = join(destDir, `${copy.name}.age`);
  const temp = partialPathFor(dest);
  try {
    const stored = digestTap();
    const body: Readable = await store.get(copy.key, signal ? { signal } : {});
    await pipeline([body, stored.tap, createWriteStream(temp, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 })], signal ? { signal } : {});
    const got = stored.result();
    if (got.size !== copy.size) throw altered(store, copy, `${got.size} bytes, recorded ${copy.size}`);
    if (copy.sha256 && got.sha256 !== copy.sha256) throw altered(store, copy, `sha256 ${got.sha256}, recorded ${copy.sha256}`);
    const decrypted = await decryptToTemporary(temp, identity, {
      dir: destDir,
      name: copy.name,
      expect: {
        ...(copy.plaintextSha256 ? { sha256: copy.plaintextSha256 } : {}),
        ...(copy.revision !== undefined ? { revision: copy.revision } : {}),
      },
      ...(signal ? { signal } : {}),
    }).catch((error: unknown) => {
      throw error instanceof RemoteCopyError ? altered(store, copy, error.message) : error;
    });
    await decrypted.discard();
    const handle = await open(temp, 'r');
    await handle.sync().finally(() => handle.close());
    const alreadyLocal = await place(temp, dest, async (path) => (await sha256File(path)) === got.sha256);
    return {
      path: dest,
      name: copy.name,
      ...verifiedFacts(decrypted.report),
      takenAt: copy.takenAt,
      copy,
      alreadyLocal,
      sealed: got,
    };
  } finally {
    await rm(temp, { force: true });
  }
}
