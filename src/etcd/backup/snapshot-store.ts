// The backup folder: time-sorted snapshot names, atomic placement, the `snapshot.db` pointer, listing.
// Only files with a final name are ever listed or verified; temporary names (`.partial-`, `.tmp-`)
// never end in `.db`, so an interrupted transfer or a full disk cannot leave something that looks
// like a snapshot.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory } from '../fs-sync.js';
import { isPartialName } from '../partial-file.js';

/** kubeasz's name for "the latest snapshot"; kept pointing at the newest verified one. */
export const POINTER_NAME = 'snapshot.db';

const NAME_PATTERN = /^snapshot_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z_rev(\d+)(?:_(\d+))?\.db(?:\.age)?$/;
/** An age-encrypted snapshot (backup_encryption.local) is `<snapshot name>.age`. */
export const ENCRYPTED_SUFFIX = '.age';

/** `snapshot_<UTC yyyymmddThhmmssZ>_rev<revision>.db`: names sort by time. */
export function snapshotFileName(takenAt: Date, revision: number, suffix?: number): string {
  const stamp = takenAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `snapshot_${stamp}_rev${revision}${suffix && suffix > 1 ? `_${suffix}` : ''}.db`;
}

/** The time and revision in one of our names (encrypted or not); undefined for any other name. */
export function parseSnapshotFileName(name: string): { takenAt: Date; revision: number } | undefined {
  const match = NAME_PATTERN.exec(name);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, rev] = match;
  const takenAt = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (Number.isNaN(takenAt.getTime())) return undefined;
  return { takenAt, revision: Number(rev) };
}

/** Create the backup folder owner-only (0700), or tighten an existing one we own. */
export async function ensureBackupDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  if (!info.isDirectory()) throw new Error(`${dir} exists and is not a folder`);
  if ((info.mode & 0o077) !== 0 && typeof process.getuid === 'function' && info.uid === process.getuid()) await chmod(dir, 0o700);
}

/**
 * Give a verified temporary file its final name in `dir` without ever replacing an existing file
 * (link then unlink: link fails if the name exists, where rename would silently overwrite).
 * Two snapshots in the same second get `_2`, `_3`. `extension`: `.age` for an encrypted one.
 */
export async function placeSnapshot(tempPath: string, dir: string, takenAt: Date, revision: number, extension = ''): Promise<string> {
  for (let suffix = 1; suffix <= 100; suffix++) {
    const finalPath = join(dir, snapshotFileName(takenAt, revision, suffix) + extension);
    try {
      await link(tempPath, finalPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      if ((error as NodeJS.ErrnoException).code === 'EPERM' || (error as NodeJS.ErrnoException).code === 'ENOTSUP') {
        // No hard links here (some network file systems): an exclusive rename is not available, so check then rename.
        if (await exists(finalPath)) continue;
        await rename(tempPath, finalPath);
        await fsyncDirectory(dir);
        return finalPath;
      }
      throw error;
    }
    await unlink(tempPath);
    await fsyncDirectory(dir);
    return finalPath;
  }
  throw new Error(`could not find a free name for the snapshot in ${dir}`);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Make `snapshot.db` a copy of `finalPath`, replaced atomically (temp, fsync, rename). A copy, not a hard
 * link: kubeasz's own backup ends with `cp -f snapshot_<time>.db snapshot.db`, which would write through a
 * link into our verified file. The copy is a reflink where the file system has them (no space, no time).
 * A symlink is not used either: tools that copy the folder (rsync without -L, object storage sync) would
 * carry a dangling link instead of a snapshot. The pointer stays readable after retention deletes the
 * dated name.
 */
export async function updatePointer(dir: string, finalPath: string): Promise<string> {
  const pointer = join(dir, POINTER_NAME);
  const temp = join(dir, `.${POINTER_NAME}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await copyFile(finalPath, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    await chmod(temp, 0o600);
    const handle = await open(temp, 'r');
    await handle.sync().finally(() => handle.close());
    await rename(temp, pointer);
    await fsyncDirectory(dir);
    return pointer;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * What tells one snapshot file from another without reading it whole: its size and its last 32 bytes
 * (an etcd snapshot ends with the sha256 of everything before). Undefined when the file cannot be read.
 */
export async function snapshotMark(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const tail = Buffer.alloc(Math.min(32, size));
      await handle.read(tail, 0, tail.length, size - tail.length);
      return `${size}:${tail.toString('hex')}`;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

export interface SnapshotFileEntry {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
  /** From the name (ours) or the file time (a file put there by hand). */
  takenAt: number;
  revisionFromName?: number;
  /** Named by orchestrate (`snapshot_<time>_rev<n>.db`): only these are ever pruned. */
  ours: boolean;
  /** `<name>.db.age`: encrypted with age (backup_encryption.local); reading it needs the identity. */
  encrypted: boolean;
}

/** Snapshot files in `dir`, newest first: `*.db` and `*.db.age` except the pointer; temporary files never appear. */
export async function listSnapshotFiles(dir: string): Promise<SnapshotFileEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries: SnapshotFileEntry[] = [];
  for (const name of names) {
    const encrypted = name.endsWith(`.db${ENCRYPTED_SUFFIX}`);
    if ((!name.endsWith('.db') && !encrypted) || name === POINTER_NAME || name.startsWith('.') || isPartialName(name)) continue;
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    const parsed = parseSnapshotFileName(name);
    entries.push({
      name,
      path,
      size: info.size,
      mtimeMs: info.mtimeMs,
      takenAt: parsed ? parsed.takenAt.getTime() : info.mtimeMs,
      ...(parsed ? { revisionFromName: parsed.revision } : {}),
      ours: parsed !== undefined,
      encrypted,
    });
  }
  return entries.sort((a, b) => b.takenAt - a.takenAt || (a.name < b.name ? 1 : -1));
}

/** Remove temporary files (and decrypted-snapshot folders) older than `olderThanMs` left by interrupted runs (never a final name). */
export async function removeStaleTemporaries(dir: string, olderThanMs: number, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isPartialName(name)) continue;
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if ((info?.isFile() || info?.isDirectory()) && now - info.mtimeMs > olderThanMs) {
      await rm(path, { force: true, recursive: true });
      removed.push(name);
    }
  }
  return removed;
}
