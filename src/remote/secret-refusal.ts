// Secrets never live in an inventory: inventories are copied, committed and printed. A key that names a
// secret, or a value that looks like one, is refused with where the secret should go instead. The
// value itself is never repeated in the message.
import type { ProblemSink } from './setting-readers.js';
import type { RemoteProblem } from './settings-types.js';

const SECRET_KEY = /secret|password|passwd|token|access_key|key_id|private_key|^identity$/i;
/** An age private key, an AWS secret access key (40 base64 characters), an AWS access key id. */
const SECRET_VALUE = /AGE-SECRET-KEY-|^[A-Za-z0-9/+]{40}$|^(AKIA|ASIA)[A-Z0-9]{16}$/;

type SecretFields = Omit<RemoteProblem, 'variable' | 'path' | 'severity'>;

/** The problem for a key that names a secret, or undefined. */
export function secretKeyProblem(root: string, key: string): SecretFields | undefined {
  if (!SECRET_KEY.test(key)) return undefined;
  const isAge = /identity|private/i.test(key) || root === 'backup_encryption';
  return {
    code: 'remote.secret-in-inventory',
    message: `${root}.${key} would put a secret in the inventory`,
    expected: isAge ? 'the path of an identity file' : 'no credentials in the inventory',
    fix: isAge
      ? 'remove it; give the age identity as a file (backup_encryption.identity_file, or ORCHESTRATE_AGE_IDENTITY_FILE) or in the ORCHESTRATE_AGE_IDENTITY environment variable'
      : 'remove it; put the keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, in ~/.aws/credentials (profile: NAME picks a section), or in a file named by backup_remote.credentials_file',
  };
}

/** Values anywhere under `value` that look like secrets. */
export function secretValueProblems(value: unknown, keys: string[], problem: ProblemSink): void {
  if (typeof value === 'string') {
    if (!SECRET_VALUE.test(value.trim())) return;
    const isAge = value.includes('AGE-SECRET-KEY-');
    problem(keys, {
      code: 'remote.secret-in-inventory',
      message: `${keys.join('.') || 'the value'} looks like ${isAge ? 'an age private key' : 'an access key or secret'}: secrets do not belong in the inventory (value not shown)`,
      expected: isAge ? 'public keys (age1...) only' : 'no credentials in the inventory',
      fix: isAge
        ? 'remove it, keep the private key in a file (backup_encryption.identity_file) readable only by you, and list its public key (age-keygen -y FILE) under backup_encryption.recipients'
        : 'remove it and put the keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a credentials file (backup_remote.credentials_file)',
    });
    return;
  }
  if (Array.isArray(value)) value.forEach((item, index) => secretValueProblems(item, [...keys, String(index)], problem));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) secretValueProblems(item, [...keys, key], problem);
  }
}
