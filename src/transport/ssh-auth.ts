// Which keys to offer, in order, each described for the "authentication failed" message: the identity
// files (the inventory's key, then ssh_config's IdentityFile lines, else the usual ~/.ssh/id_*), then
// ssh-agent's keys (only those of the identity files with IdentitiesOnly). A passphrase-protected key is
// never prompted for: it is used through ssh-agent, or refused with the ssh-add line that fixes it.
import type { AnyAuthMethod, BaseAgent, ParsedKey } from 'ssh2';
import { FileReadError, SMALL_FILE_LIMIT, readBoundedFile } from '../config/bounded-read.js';
import { UnreachableError } from '../errors.js';
import { fingerprint } from './known-hosts.js';
import type { Ssh2Module } from './ssh2-loader.js';

export interface AuthAttempt {
  method: AnyAuthMethod;
  /** e.g. `key /home/me/.ssh/id_ed25519 (ssh-ed25519 SHA256:...)`. */
  description: string;
}

export interface IdentityFile {
  path: string;
  /** Named by the inventory (ansible_ssh_private_key_file): a missing or unusable one is an error, not skipped. */
  explicit: boolean;
}

export interface AuthRequest {
  /** Names the connection in errors. */
  host: string;
  user: string;
  identityFiles: IdentityFile[];
  /** IdentitiesOnly: of the agent's keys, offer only those of the identity files. */
  identitiesOnly: boolean;
  /** ssh-agent socket; empty means none. */
  agentSocket: string;
}

export interface AuthPlan {
  attempts: AuthAttempt[];
  /** Passphrase-protected keys left to the agent, for the failure message. */
  agentOnlyKeys: string[];
}

type KeyReading = { kind: 'key'; data: Buffer; key: ParsedKey } | { kind: 'encrypted'; publicKey?: Buffer } | { kind: 'skip' };

/** The public key blob of a passphrase-protected key: from FILE.pub, else from the openssh-key-v1 header (stored in clear). */
async function publicKeyOf(ssh2: Ssh2Module, file: string, data: Buffer): Promise<Buffer | undefined> {
  try {
    const key = ssh2.utils.parseKey(await readBoundedFile(`${file}.pub`, SMALL_FILE_LIMIT));
    if (!(key instanceof Error)) return key.getPublicSSH();
  } catch {
    // no .pub beside it
  }
  return opensshPublicKey(data);
}

/** openssh-key-v1: magic, cipher, kdf, kdf options, key count, then the first public key blob. */
export function opensshPublicKey(data: Buffer): Buffer | undefined {
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(data.toString('latin1'))?.[1];
  if (body === undefined) return undefined;
  const raw = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (!raw.subarray(0, magic.length).equals(magic)) return undefined;
  let at = magic.length;
  const next = (): Buffer | undefined => {
    if (at + 4 > raw.length) return undefined;
    const length = raw.readUInt32BE(at);
    if (at + 4 + length > raw.length) return undefined;
    const field = raw.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return field;
  };
  for (let i = 0; i < 3; i += 1) if (!next()) return undefined; // cipher, kdf, kdf options
  at += 4; // number of keys
  return next();
}

async function readIdentity(ssh2: Ssh2Module, request: AuthRequest, file: IdentityFile): Promise<KeyReading> {
  let data: Buffer;
  try {
    // Bounded: a key path naming /dev/zero or a FIFO must neither fill memory nor hang.
    data = await readBoundedFile(file.path, SMALL_FILE_LIMIT);
  } catch (error) {
    if (!file.explicit) return { kind: 'skip' };
    const reason = error instanceof FileReadError ? error.reason : (error as Error).message;
    throw new UnreachableError(request.host, `cannot read private key ${file.path}: ${reason}`, 'check ansible_ssh_private_key_file');
  }
  const key = ssh2.utils.parseKey(data);
  if (!(key instanceof Error)) return { kind: 'key', data, key };
  const reason = key.message;
  if (/encrypted|passphrase/i.test(reason)) {
    const publicKey = await publicKeyOf(ssh2, file.path, data);
    return publicKey ? { kind: 'encrypted', publicKey } : { kind: 'encrypted' };
  }
  if (!file.explicit) return { kind: 'skip' };
  throw new UnreachableError(request.host, `cannot use private key ${file.path}: ${reason}`, 'check ansible_ssh_private_key_file');
}

function passphraseRefusal(request: AuthRequest, file: string): UnreachableError {
  return new UnreachableError(
    request.host,
    `private key ${file} is protected by a passphrase, and orchestrate never asks for one`,
    `load it into ssh-agent (eval "$(ssh-agent)"; ssh-add ${file}) and make sure SSH_AUTH_SOCK is set where orchestrate runs`,
  );
}

/** An agent that offers only `allowed` keys (IdentitiesOnly). */
function filteredAgent(ssh2: Ssh2Module, socket: string, allowed: Buffer[]): BaseAgent {
  class IdentitiesOnlyAgent extends ssh2.OpenSSHAgent {
    override getIdentities(cb: Parameters<InstanceType<Ssh2Module['OpenSSHAgent']>['getIdentities']>[0]): void {
      super.getIdentities((error, keys) => {
        // The agent protocol hands back parsed keys.
        const blobOf = (key: unknown): Buffer | undefined => (key as Partial<ParsedKey>).getPublicSSH?.();
        cb(
          error,
          keys?.filter((key) => {
            const blob = blobOf(key);
            return blob !== undefined && allowed.some((wanted) => wanted.equals(blob));
          }),
        );
      });
    }
  }
  return new IdentitiesOnlyAgent(socket);
}

/** The identity files in order, then the agent, as ssh offers them. */
export async function authAttempts(ssh2: Ssh2Module, request: AuthRequest): Promise<AuthPlan> {
  const { user } = request;
  const attempts: AuthAttempt[] = [];
  const agentOnlyKeys: string[] = [];
  const identityBlobs: Buffer[] = [];
  for (const file of request.identityFiles) {
    const reading = await readIdentity(ssh2, request, file);
    if (reading.kind === 'skip') continue;
    if (reading.kind === 'encrypted') {
      if (!request.agentSocket && file.explicit) throw passphraseRefusal(request, file.path);
      agentOnlyKeys.push(file.path); // the agent most likely holds it decrypted
      if (reading.publicKey) identityBlobs.push(reading.publicKey);
      continue;
    }
    identityBlobs.push(reading.key.getPublicSSH());
    attempts.push({
      method: { type: 'publickey', username: user, key: reading.data },
      description: `key ${file.path} (${reading.key.type} ${fingerprint(reading.key.getPublicSSH())})`,
    });
  }
  if (request.agentSocket) {
    const agent = request.identitiesOnly ? filteredAgent(ssh2, request.agentSocket, identityBlobs) : request.agentSocket;
    const which = request.identitiesOnly
      ? `ssh-agent keys of the identity files (IdentitiesOnly; ${request.agentSocket})`
      : `ssh-agent keys (${request.agentSocket})`;
    attempts.push({ method: { type: 'agent', username: user, agent }, description: which });
  }
  if (attempts.length === 0) {
    const encrypted = agentOnlyKeys[0];
    if (encrypted !== undefined) throw passphraseRefusal(request, encrypted);
    throw new UnreachableError(
      request.host,
      'no key to authenticate with',
      'set ansible_ssh_private_key_file (or IdentityFile in ~/.ssh/config), put a key in ~/.ssh/id_ed25519, or start ssh-agent (SSH_AUTH_SOCK)',
    );
  }
  return { attempts, agentOnlyKeys };
}
