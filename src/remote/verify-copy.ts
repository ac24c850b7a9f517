// `snapshots verify` for a remote copy: read it back, hash what is stored, decrypt, hash the snapshot,
// compare both with the record. A copy rebuilt from metadata becomes verified this way.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { AgeDecryptError, createAgeDecryptStream } from './age-stream.js';
import type { AgeIdentity } from './identity.js';
import type { ObjectStore } from './object-store.js';
import { checkIdentityFor } from './pull.js';
import type { RemoteCopyRecord } from './remote-catalog.js';

export interface CopyCheck {
  ok: boolean;
  copy: RemoteCopyRecord;
  problems: string[];
  stored: { sha256: string; size: number };
  plaintext?: { sha256: string; size: number };
}

function hashing(into: { hash: ReturnType<typeof createHash>; size: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      into.hash.update(chunk);
      into.size += chunk.length;
      callback(null, chunk);
    },
  });
}

export async function checkRemoteCopy(
  store: ObjectStore,
  copy: RemoteCopyRecord,
  identity: AgeIdentity | undefined,
  signal?: AbortSignal,
): Promise<CopyCheck> {
  await checkIdentityFor(store, copy, identity, signal);
  const stored = { hash: createHash('sha256'), size: 0 };
  const plain = { hash: createHash('sha256'), size: 0 };
  const problems: string[] = [];
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const body = await store.get(copy.key, signal ? { signal } : {});
  const stages = copy.encrypted ? [hashing(stored), createAgeDecryptStream(identity?.keys ?? []), hashing(plain)] : [hashing(stored), hashing(plain)];
  try {
    await pipeline([body, ...stages, sink], signal ? { signal } : {});
  } catch (error) {
    if (!(error instanceof AgeDecryptError)) throw error;
    problems.push(`decryption failed: ${error.message}`);
  }
  const storedDigest = { sha256: stored.hash.digest('hex'), size: stored.size };
  if (storedDigest.size !== copy.size) problems.push(`${storedDigest.size} bytes stored, recorded ${copy.size}`);
  if (copy.sha256 && storedDigest.sha256 !== copy.sha256) problems.push(`stored sha256 ${storedDigest.sha256}, recorded ${copy.sha256}`);
  const plainDigest = problems.length === 0 || !copy.encrypted ? { sha256: plain.hash.digest('hex'), size: plain.size } : undefined;
  if (plainDigest && copy.plaintextSha256 && plainDigest.sha256 !== copy.plaintextSha256)
    problems.push(`snapshot sha256 ${plainDigest.sha256}, recorded ${copy.plaintextSha256}`);
  return { ok: problems.length === 0, copy, problems, stored: storedDigest, ...(plainDigest ? { plaintext: plainDigest } : {}) };
}
