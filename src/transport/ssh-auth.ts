// Which keys to offer, in OpenSSH's order, each described for the "authentication failed" message.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AnyAuthMethod, ParsedKey } from 'ssh2';
import { FileReadError, SMALL_FILE_LIMIT, readBoundedFile } from '../config/bounded-read.js';
import type { ConnectionSpec } from '../config/types.js';
import { UnreachableError } from '../errors.js';
import { fingerprint } from './known-hosts.js';

export interface AuthAttempt {
  method: AnyAuthMethod;
  /** e.g. `key /home/me/.ssh/id_ed25519 (ssh-ed25519 SHA256:...)`. */
  description: string;
}

export interface AuthSources {
  /** ssh-agent socket; empty means none. */
  agentSocket: string;
  /** Tried when the spec names no key file. */
  defaultIdentityFiles?: string[];
}

type ParseKey = (data: Buffer) => ParsedKey | ParsedKey[] | Error;

/** The spec's key file (or the default identity files), then the agent, as `ssh -i` does. */
export async function authAttempts(spec: ConnectionSpec, sources: AuthSources, parseKey: ParseKey): Promise<AuthAttempt[]> {
  const username = spec.user;
  const attempts: AuthAttempt[] = [];
  const files = spec.privateKeyFile
    ? [spec.privateKeyFile]
    : (sources.defaultIdentityFiles ?? ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(homedir(), '.ssh', name)));
  for (const file of files) {
    const explicit = file === spec.privateKeyFile;
    let data: Buffer;
    try {
      // Bounded: a key path naming /dev/zero or a FIFO must neither fill memory nor hang.
      data = await readBoundedFile(file, SMALL_FILE_LIMIT);
    } catch (error) {
      if (!explicit) continue;
      const reason = error instanceof FileReadError ? error.reason : (error as Error).message;
      throw new UnreachableError(spec.host, `cannot read private key ${file}: ${reason}`, 'check ansible_ssh_private_key_file');
    }
    const parsed = parseKey(data);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || key instanceof Error) {
      const reason = key instanceof Error ? key.message : 'no key found';
      const encrypted = /encrypted|passphrase/i.test(reason);
      if (!explicit || (encrypted && sources.agentSocket)) continue; // the agent most likely holds it decrypted
      throw new UnreachableError(
        spec.host,
        encrypted ? `private key ${file} is protected by a passphrase` : `cannot use private key ${file}: ${reason}`,
        encrypted ? `load it into ssh-agent (ssh-add ${file}) and make sure SSH_AUTH_SOCK is set` : 'check ansible_ssh_private_key_file',
      );
    }
    attempts.push({
      method: { type: 'publickey', username, key: data },
      description: `key ${file} (${key.type} ${fingerprint(key.getPublicSSH())})`,
    });
  }
  if (sources.agentSocket) {
    attempts.push({ method: { type: 'agent', username, agent: sources.agentSocket }, description: `ssh-agent keys (${sources.agentSocket})` });
  }
  if (attempts.length === 0) {
    throw new UnreachableError(
      spec.host,
      'no key to authenticate with',
      'set ansible_ssh_private_key_file, put a key in ~/.ssh/id_ed25519, or start ssh-agent (SSH_AUTH_SOCK)',
    );
  }
  return attempts;
}
