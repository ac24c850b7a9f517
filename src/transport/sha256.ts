// sha256 on both ends of a transfer: here with node:crypto, on the far side with openssl or sha256sum.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { shellQuote } from '../shell/quote.js';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash a file by streaming it, so size does not matter. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * A shell command that prints `<hex>  <path>` (or `<hex> *<path>`) for one file. OpenSSL first: it uses
 * the CPU's SHA extensions and hashes a multi-GiB snapshot about twice as fast as coreutils. Linux
 * always has sha256sum (coreutils, busybox); macOS and the BSDs have `shasum -a 256`.
 */
export function sha256Command(path: string): string {
  const quoted = shellQuote(path);
  // An OpenSSL that fails (FIPS policy, broken config) falls through to sha256sum, which reports a missing file.
  const openssl = `{ command -v openssl >/dev/null 2>&1 && openssl dgst -sha256 -r -- ${quoted} 2>/dev/null; }`;
  return `${openssl} || if command -v sha256sum >/dev/null 2>&1; then sha256sum -- ${quoted}; else shasum -a 256 -- ${quoted}; fi`;
}

/** The hex digest from sha256sum output (GNU prefixes a backslash when the name needs escaping). */
export function parseSha256Output(stdout: string): string | undefined {
  return /^\\?([0-9a-f]{64})\s/m.exec(stdout)?.[1];
}
