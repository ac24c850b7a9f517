// OpenSSH known_hosts: parsing, matching a host's key the way `ssh` does, fingerprints and recording new keys.
// No maintained npm parser handles hashed entries, `[host]:port` and markers, hence this file.
import { createHash, createHmac } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CONFIG_FILE_LIMIT, FileReadError, readBoundedFile } from '../config/bounded-read.js';

export type HostKeyStatus = 'match' | 'unknown' | 'changed' | 'revoked';

export interface KnownHostEntry {
  file?: string;
  /** 1-based line number. */
  line: number;
  /**
   * `@revoked`: the key must never be accepted. `@cert-authority`: the key signs host certificates;
   * ssh2 does not verify certificates, so such lines never match (a host that relies on them is "unknown").
   */
  marker?: 'revoked' | 'cert-authority';
  /** Plain host patterns (`name`, `[name]:port`, wildcards `*` `?`, negation `!`); absent when hashed. */
  patterns?: string[];
  /** `|1|salt|hash`: HMAC-SHA1 of the host name keyed with the salt. */
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** The key blob in SSH wire format, as ssh2 hands it to the host verifier. */
  key: Buffer;
  comment?: string;
}

export interface KnownHostsProblem {
  file?: string;
  line: number;
  message: string;
}

export interface KnownHosts {
  entries: KnownHostEntry[];
  /** Lines that were skipped, as OpenSSH skips them. */
  problems: KnownHostsProblem[];
}

export function defaultKnownHostsFile(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

export function parseKnownHosts(text: string, file?: string): KnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift();
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push({ file, line, message: `unknown marker ${name}` });
        return;
      }
    }
    const [hostField, keyType, keyText, ...rest] = fields;
    if (!hostField || !keyType || !keyText) {
      problems.push({ file, line, message: 'expected "hosts key-type base64-key"' });
      return;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) {
      problems.push({ file, line, message: 'the key is not base64' });
      return;
    }
    const key = Buffer.from(keyText, 'base64');
    let blobType: string;
    try {
      blobType = keyTypeOf(key);
    } catch {
      problems.push({ file, line, message: 'the key is not an SSH public key blob' });
      return;
    }
    if (blobType !== keyType) {
      problems.push({ file, line, message: `the key says ${blobType}, the line says ${keyType}` });
      return;
    }
    const entry: KnownHostEntry = { line, keyType, key };
    if (file !== undefined) entry.file = file;
    if (marker) entry.marker = marker;
    if (rest.length > 0) entry.comment = rest.join(' ');
    if (hostField.startsWith('|')) {
      const hashed = parseHashedHost(hostField);
      if (!hashed) {
        problems.push({ file, line, message: 'malformed hashed host (expected |1|salt|hash)' });
        return;
      }
      entry.hashed = hashed;
    } else {
      entry.patterns = hostField.split(',').filter((pattern) => pattern !== '');
    }
    entries.push(entry);
  });
  return { entries, problems };
}

/** A missing file is an empty one (first connection from this machine). */
export async function readKnownHosts(file: string): Promise<KnownHosts> {
  let text: string;
  try {
    // Bounded and non-blocking: --known-hosts naming a FIFO or /dev/zero must not hang.
    text = (await readBoundedFile(file, CONFIG_FILE_LIMIT)).toString('utf8');
  } catch (error) {
    if (error instanceof FileReadError && error.errno === 'ENOENT') return { entries: [], problems: [] };
    throw error;
  }
  return parseKnownHosts(text, file);
}

/** The name OpenSSH looks up and records: the lower-cased host, as `[host]:port` when the port is not 22. */
export function knownHostName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

export function entryMatchesHost(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = knownHostName(host, port);
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return digest.equals(entry.hashed.hash);
  }
  let matched = false;
  for (const pattern of entry.patterns ?? []) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false; // a matching negation rules the line out, as in OpenSSH
    matched = true;
  }
  return matched;
}

/** `entry` is the line that decided: the matching, revoking or conflicting one. `knownKeys` are the plain (unmarked) entries for this host, any key type. */
export type HostKeyLookup =
  | { status: 'match' | 'revoked' | 'changed'; entry: KnownHostEntry; knownKeys: KnownHostEntry[] }
  | { status: 'unknown'; entry?: undefined; knownKeys: KnownHostEntry[] };

/**
 * Decide like OpenSSH: a revoked key is refused; any line with this exact key accepts it; a line with
 * the same key type and another key means the key changed; keys of other types only make it unknown.
 */
export function lookupHostKey(entries: readonly KnownHostEntry[], host: string, port: number, keyType: string, rawKey: Buffer): HostKeyLookup {
  const forHost = entries.filter((entry) => entryMatchesHost(entry, host, port));
  const knownKeys = forHost.filter((entry) => entry.marker === undefined);
  const revoked = forHost.find((entry) => entry.marker === 'revoked' && entry.key.equals(rawKey));
  if (revoked) return { status: 'revoked', entry: revoked, knownKeys };
  const matching = knownKeys.find((entry) => entry.key.equals(rawKey));
  if (matching) return { status: 'match', entry: matching, knownKeys };
  const conflicting = knownKeys.find((entry) => entry.keyType === keyType);
  if (conflicting) return { status: 'changed', entry: conflicting, knownKeys };
  return { status: 'unknown', knownKeys };
}

export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, keyType: string, rawKey: Buffer): HostKeyStatus {
  return lookupHostKey(entries, host, port, keyType, rawKey).status;
}

/** `SHA256:` and unpadded base64, exactly as `ssh-keygen -lf` and `ssh` print it. */
export function fingerprint(rawKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first string of the wire-format blob (uint32 length, then the name). */
export function keyTypeOf(rawKey: Buffer): string {
  if (rawKey.length < 4) throw new Error('key blob too short');
  const length = rawKey.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > rawKey.length) throw new Error('bad key type length in key blob');
  const type = rawKey.subarray(4, 4 + length).toString('latin1');
  if (!/^[\x21-\x7e]+$/.test(type)) throw new Error('key type is not printable');
  return type;
}

export function formatKnownHostLine(host: string, port: number, keyType: string, rawKey: Buffer): string {
  return `${knownHostName(host, port)} ${keyType} ${rawKey.toString('base64')}`;
}

/**
 * Record a key: the folder is created 0700 and the file 0600 when missing. One write on an O_APPEND
 * descriptor, so concurrent connections appending to the same file do not interleave their lines.
 */
export async function appendKnownHost(file: string, host: string, port: number, keyType: string, rawKey: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, 'a+', 0o600);
  try {
    const { size } = await handle.stat();
    let separator = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) separator = '\n';
    }
    await handle.write(`${separator}${formatKnownHostLine(host, port, keyType, rawKey)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function parseHashedHost(field: string): KnownHostEntry['hashed'] {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return undefined;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const hash = Buffer.from(parts[3] ?? '', 'base64');
  if (salt.length !== 20 || hash.length !== 20) return undefined;
  return { salt, hash };
}

/** OpenSSH's match_pattern: `*` any run, `?` one character, compared case-insensitively. */
function wildcardMatch(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(name);
}
