// `backup_encryption`: age recipients (public keys) for what leaves the deploy host, optionally for the
// local copies too, and where the identity (private key) is found when a restore, verify or pull needs it.
import type { Inventory } from '../config/types.js';
import { inventoryValue } from './inventory-value.js';
import { secretKeyProblem, secretValueProblems } from './secret-refusal.js';
import { problemSink, readBoolean, readFile } from './setting-readers.js';
import { ENCRYPTION_VAR, type EncryptionSettings, type RemoteProblem } from './settings-types.js';

const KNOWN_KEYS = ['recipients', 'identity_file', 'local'];
/** An age X25519 recipient: `age1` and 58 bech32 characters. Other kinds (plugins, post-quantum) are not decrypted by Debian's age 1.1. */
export const X25519_RECIPIENT = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;

/** Undefined when `backup_encryption` is not set or has errors (then `problems` says why). */
export function readEncryptionSettings(inventory: Inventory, problems: RemoteProblem[]): EncryptionSettings | undefined {
  const raw = inventoryValue(inventory, ENCRYPTION_VAR)?.value;
  if (raw === undefined || raw === null) return undefined;
  const problem = problemSink(ENCRYPTION_VAR, problems);
  const before = problems.length;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problem([], {
      code: 'encryption.not-a-mapping',
      message: `${ENCRYPTION_VAR} must be a mapping`,
      expected: 'recipients: [age1...], identity_file: PATH, local: true|false',
      fix: `write ${ENCRYPTION_VAR}: { recipients: [age1...] }`,
    });
    return undefined;
  }
  const map = raw as Record<string, unknown>;
  for (const key of Object.keys(map)) {
    if (KNOWN_KEYS.includes(key)) continue;
    const secret = secretKeyProblem(ENCRYPTION_VAR, key);
    problem(
      [key],
      secret
        ? { ...secret, atKey: true }
        : {
            code: 'encryption.unknown-key',
            message: `${ENCRYPTION_VAR}.${key} is not a known setting`,
            expected: KNOWN_KEYS.join(', '),
            fix: `remove ${key} from ${ENCRYPTION_VAR}`,
            atKey: true,
          },
    );
  }
  secretValueProblems(map, [], problem);
  const recipients = readRecipients(map.recipients, problem);
  const identityFile = readFile(inventory, map, 'identity_file', problem);
  const local = readBoolean(map, 'local', false, problem);
  if (problems.length > before && problems.slice(before).some((p) => p.severity === 'error')) return undefined;
  return { recipients, local, ...(identityFile !== undefined ? { identityFile } : {}) };
}

function readRecipients(value: unknown, problem: ReturnType<typeof problemSink>): string[] {
  const fix = 'list the public keys printed by `age-keygen` (or `age-keygen -y IDENTITY_FILE`), one per line: recipients: [age1...]';
  if (value === undefined || value === null) {
    problem([], {
      code: 'encryption.missing-recipients',
      message: `${ENCRYPTION_VAR}.recipients is missing`,
      expected: 'a list of age public keys (age1...)',
      fix,
    });
    return [];
  }
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    problem(['recipients'], {
      code: 'encryption.bad-recipients',
      message: 'recipients must be a non-empty list of age public keys',
      expected: 'a list of age1... keys',
      fix,
    });
    return [];
  }
  const recipients: string[] = [];
  list.forEach((item: unknown, index) => {
    if (typeof item === 'string' && X25519_RECIPIENT.test(item.trim())) recipients.push(item.trim());
    else if (typeof item === 'string' && item.includes('AGE-SECRET-KEY-'))
      return; // reported by secretValueProblems, without the value
    else
      problem(['recipients', String(index)], {
        code: 'encryption.bad-recipient',
        message: `recipients[${index}] is not an age X25519 public key${typeof item === 'string' && item.startsWith('age1') ? ' (wrong length or characters; plugin and post-quantum recipients are not supported)' : ''}`,
        expected: 'age1 followed by 58 lower-case bech32 characters',
        fix,
      });
  });
  return recipients;
}
