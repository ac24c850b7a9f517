// Reading files whose names come from users (inventories, playbooks, keys, certificates, known_hosts)
// without hanging or exhausting memory: a FIFO would block `readFile` until a writer appears, and
// `/dev/zero` never ends. The file is opened non-blocking, must be a regular file, and has a size limit.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Inventories, playbooks, roles and `-e @file`: far above any real one, far below what hurts. */
export const CONFIG_FILE_LIMIT = 32 * 1024 * 1024;
/** Private keys, certificates and other small credential files. */
export const SMALL_FILE_LIMIT = 1024 * 1024;

/** Why a file could not be read, in words for an operator (the caller adds the file name and context). */
export class FileReadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    /** The errno code when the system refused (`ENOENT` for a missing file). */
    readonly errno?: string,
  ) {
    super(`cannot read ${file}: ${reason}`);
    this.name = 'FileReadError';
  }
}

function describeOpenError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links (a symlink loop?)';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return error.code ?? error.message;
  }
}

/**
 * The whole content of a regular file of at most `maxBytes` bytes. Throws FileReadError for a missing or
 * unreadable file, a folder, a device, FIFO or socket, and a file over the limit.
 */
export async function readBoundedFile(file: string, maxBytes: number): Promise<Buffer> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer. It changes nothing for regular files.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new FileReadError(file, describeOpenError(error as NodeJS.ErrnoException), (error as NodeJS.ErrnoException).code);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new FileReadError(file, 'it is a folder, not a file');
    if (!info.isFile()) throw new FileReadError(file, 'it is not a regular file (a device, FIFO or socket)');
    if (info.size > maxBytes) throw new FileReadError(file, `it is ${formatBytes(info.size)}; the limit is ${formatBytes(maxBytes)}`);
    // Read at most one byte past the limit, in case the file grows while it is read.
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(info.size, 0) + 64 * 1024));
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) break;
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) throw new FileReadError(file, `it grew past the limit of ${formatBytes(maxBytes)} while being read`);
    return buffer.subarray(0, filled);
  } catch (error) {
    if (error instanceof FileReadError) throw error;
    throw new FileReadError(file, describeOpenError(error as NodeJS.ErrnoException), (error as NodeJS.ErrnoException).code);
  } finally {
    await handle.close();
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** Where a text is not valid UTF-8: 1-based line and column (in characters before the bad byte). */
export interface Utf8Problem {
  line: number;
  col: number;
  byte: number;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode UTF-8 strictly (a leading BOM is dropped); on a bad byte, say where it is instead of silently replacing it with U+FFFD. */
export function decodeUtf8(buffer: Buffer): { text: string } | { problem: Utf8Problem } {
  try {
    return { text: strictUtf8.decode(buffer) };
  } catch {
    const offset = firstInvalidUtf8Offset(buffer);
    const before = buffer
      .subarray(0, offset)
      .toString('utf8')
      .replace(/^\ufeff/, '');
    const lastNewline = before.lastIndexOf('\n');
    const line = before.split('\n').length;
    return { problem: { line, col: before.length - lastNewline, byte: buffer[offset] ?? 0 } };
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8Offset(buffer: Buffer): number {
  let i = 0;
  while (i < buffer.length) {
    const b = buffer[i] ?? 0;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > buffer.length) return i;
    try {
      strictUtf8.decode(buffer.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return buffer.length;
}
