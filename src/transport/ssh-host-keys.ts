// Host key checks for ssh2's hostVerifier: OpenSSH's rules and messages that say what to do.
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { UnreachableError } from '../errors.js';
import { shellQuote } from '../shell/quote.js';
import { appendKnownHost, fingerprint, keyTypeOf, knownHostName, lookupHostKey, type KnownHostEntry } from './known-hosts.js';

/** A host key trusted on first use and appended to the known hosts file (`acceptNewHostKeys`). */
export interface RecordedHostKey {
  file: string;
  name: string;
  keyType: string;
  fingerprint: string;
}

export interface HostKeyCheck {
  /** Inventory hostname (or `jump host NAME`), for messages. */
  host: string;
  address: string;
  port: number;
  /** Where a new key is recorded (the first known hosts file); absent when there is none (UserKnownHostsFile none). */
  knownHostsFile?: string;
  /** Parsed known hosts of every file; a recorded key is added here too, so a re-key exchange matches it. */
  entries: KnownHostEntry[];
  acceptNewHostKeys: boolean;
}

/**
 * Resolves when the key may be trusted (with the record, when it was new and got recorded);
 * rejects with an UnreachableError saying why not and what to do.
 */
export async function verifyHostKey(check: HostKeyCheck, key: Buffer): Promise<RecordedHostKey | undefined> {
  const { host, address, port } = check;
  const file = check.knownHostsFile ?? '(no known hosts file: UserKnownHostsFile none)';
  const name = knownHostName(address, port);
  let keyType: string;
  try {
    keyType = keyTypeOf(key);
  } catch (error) {
    throw new UnreachableError(host, `${address}:${port} sent a malformed host key: ${(error as Error).message}`);
  }
  const shown = `${keyType} ${fingerprint(key)}`;
  const lookup = lookupHostKey(check.entries, address, port, keyType, key);
  if (lookup.status === 'match') return undefined;
  if (lookup.status === 'revoked') {
    throw new UnreachableError(
      host,
      `host key ${shown} of ${name} is marked @revoked in ${lookup.entry.file ?? file}:${lookup.entry.line}; refusing to connect`,
      'a revoked key means the host must not be trusted with it; have the host re-keyed',
    );
  }
  if (lookup.status === 'changed') {
    const stored = lookup.entry;
    throw new UnreachableError(
      host,
      `WARNING: THE HOST KEY OF ${name} HAS CHANGED. It now offers ${shown}, but ${stored.file ?? file}:${stored.line} ` +
        `holds ${stored.keyType} ${fingerprint(stored.key)}. Someone could be intercepting the connection (man in the middle), ` +
        'or the host was reinstalled. Refusing to connect.',
      'only if you have confirmed out of band that the host was re-keyed: remove the old key with ' +
        `ssh-keygen -R ${shellQuote(name)} -f ${shellQuote(stored.file ?? file)}, check the new fingerprint on the host, then trust it again`,
    );
  }
  if (check.acceptNewHostKeys && check.knownHostsFile !== undefined) {
    try {
      await appendKnownHost(file, address, port, keyType, key);
    } catch (error) {
      throw new UnreachableError(host, `cannot record the host key in ${file}: ${(error as Error).message}`);
    }
    check.entries.push({ file, line: 0, patterns: [name], keyType, key });
    return { file, name, keyType, fingerprint: fingerprint(key) };
  }
  const others = [...new Set(lookup.knownKeys.map((entry) => entry.keyType))];
  throw new UnreachableError(
    host,
    `unknown host key for ${name}: ${shown} is not in ${file}` +
      (others.length > 0 ? ` (it lists only ${others.join(', ')} keys for this host)` : ''),
    `check the fingerprint out of band (on the host: ssh-keygen -lf /etc/ssh/ssh_host_${keyType.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub), ` +
      `then trust it with: ssh-keyscan -p ${port} -t ${shellQuote(keyType)} ${shellQuote(address)} >> ${shellQuote(file)}, or run with --accept-new-host-keys`,
  );
}

const rsaAlgorithms: ServerHostKeyAlgorithm[] = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
const defaultHostKeyAlgorithms: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  ...rsaAlgorithms,
];

/**
 * Ask for a host key type already in known_hosts first, as OpenSSH does; otherwise a host known by its
 * RSA key would present ed25519 and look unknown.
 */
export function preferKnownKeyTypes(entries: KnownHostEntry[], address: string, port: number): ServerHostKeyAlgorithm[] {
  const known = lookupHostKey(entries, address, port, '', Buffer.alloc(0)).knownKeys.map((entry) => entry.keyType);
  const preferred = known
    .flatMap((type) => (type === 'ssh-rsa' ? rsaAlgorithms : [type]))
    .filter((type): type is ServerHostKeyAlgorithm => (defaultHostKeyAlgorithms as string[]).includes(type));
  return [...new Set([...preferred, ...defaultHostKeyAlgorithms])];
}
