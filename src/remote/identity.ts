// The age identity (private key) for restore, verify and pull, from (in order) ORCHESTRATE_AGE_IDENTITY
// (the key itself, for secret managers that inject environment variables), ORCHESTRATE_AGE_IDENTITY_FILE,
// or backup_encryption.identity_file. A file in age-keygen's format: comment lines, one AGE-SECRET-KEY-1
// line per key. A missing identity, or one that fits none of the inventory's recipients, is an error
// raised here, before any host is touched.
import { FileReadError, SMALL_FILE_LIMIT, readBoundedFile } from '../config/bounded-read.js';
import { UsageError } from '../errors.js';
import type { EncryptionSettings } from './settings-types.js';

const IDENTITY = /^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/;

export interface AgeIdentity {
  /** AGE-SECRET-KEY-1... strings: keep them out of every message. */
  keys: string[];
  /** Their public keys (age1...), safe to print. */
  recipients: string[];
  source: string;
  /** One of its keys is among backup_encryption.recipients (false after a key rotation: older snapshots may still need it). */
  matchesInventory: boolean;
}

export class IdentityError extends UsageError {}

const FIX =
  'set ORCHESTRATE_AGE_IDENTITY_FILE (or backup_encryption.identity_file) to the file age-keygen wrote, or ORCHESTRATE_AGE_IDENTITY to its AGE-SECRET-KEY-1... line';

/** The keys in an identity file's text; comments and blank lines skipped, anything else refused. */
export function parseIdentityText(text: string, source: string): string[] {
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!IDENTITY.test(line)) throw new IdentityError(`${source}: line ${index + 1} is not an age X25519 identity (AGE-SECRET-KEY-1...)`, FIX);
    keys.push(line);
  });
  if (keys.length === 0) throw new IdentityError(`${source} holds no age identity`, FIX);
  return keys;
}

async function readIdentityFile(file: string): Promise<string[]> {
  try {
    return parseIdentityText((await readBoundedFile(file, SMALL_FILE_LIMIT)).toString('utf8'), file);
  } catch (error) {
    if (error instanceof IdentityError) throw error;
    const reason = error instanceof FileReadError ? error.reason : String(error);
    throw new IdentityError(`the age identity file ${file} cannot be read: ${reason}`, FIX);
  }
}

/**
 * Load the identity, and tell whether it fits the inventory's recipients. Whether it opens a given
 * snapshot is decided on that snapshot's header (pull.ts), before any host is touched.
 */
export async function loadIdentity(encryption: EncryptionSettings | undefined, env: NodeJS.ProcessEnv = process.env): Promise<AgeIdentity> {
  let keys: string[];
  let source: string;
  if (env.ORCHESTRATE_AGE_IDENTITY) {
    source = 'ORCHESTRATE_AGE_IDENTITY';
    keys = parseIdentityText(env.ORCHESTRATE_AGE_IDENTITY, source);
  } else {
    const file = env.ORCHESTRATE_AGE_IDENTITY_FILE || encryption?.identityFile;
    if (!file) throw new IdentityError('the snapshot is encrypted and no age identity was given (needed to restore, verify or pull)', FIX);
    source = file;
    keys = await readIdentityFile(file);
  }
  const { identityToRecipient } = await import('age-encryption');
  const recipients = await Promise.all(keys.map((key) => identityToRecipient(key)));
  const matchesInventory = encryption ? recipients.some((r) => encryption.recipients.includes(r)) : true;
  return { keys, recipients, source, matchesInventory };
}

/** The message for an identity that fits no recipient of a snapshot (checked on its header, before any host is touched). */
export function wrongIdentityError(identity: AgeIdentity, what: string): IdentityError {
  return new IdentityError(
    `the age identity from ${identity.source} (public key ${identity.recipients.join(', ')}) cannot decrypt ${what}: it was encrypted for other recipients`,
    'use the identity whose public key (age-keygen -y FILE) was listed under backup_encryption.recipients when the snapshot was taken',
  );
}
