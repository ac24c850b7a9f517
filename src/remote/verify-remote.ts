// After CompleteMultipartUpload: is the object on the server exactly what was sent? Size first, then the
// strongest check the server allows, in order:
//   server-sha256     the server's SHA-256 checksum (composite over the parts' SHA-256s, which the server
//                     checked on receipt) equals ours;
//   server-md5-parts  the multipart ETag, MD5 over the parts' MD5s (each checked by the server with
//                     Content-MD5), equals ours;
//   server-md5        the ETag is the MD5 of the whole object as the server stored it (s3rver, some
//                     other servers) and equals ours;
//   read-back         download it and hash it (servers without either, SSE-KMS ETags, or `verify: read-back`).
// A server checksum that disagrees is a failure; an ETag that disagrees only sends us to the read-back
// (ETags of encrypted-at-rest objects are not MD5s).
import { createHash } from 'node:crypto';
import type { ObjectHead, ObjectStore } from './object-store.js';
import { adviceFor, RemoteCopyError } from './remote-errors.js';
import type { VerifyMode } from './settings-types.js';

export type VerifiedBy = 'server-sha256' | 'server-md5-parts' | 'server-md5' | 'read-back';

export interface SentObject {
  key: string;
  size: number;
  /** hex */
  sha256: string;
  /** hex MD5 of the whole object, when it was computed. */
  md5?: string;
  parts: { md5?: Buffer; sha256?: Buffer }[];
}

/** S3's composite checksum of a multipart object: base64(H(H(part1) || H(part2) ...))-N. */
export function compositeChecksum(partDigests: readonly Buffer[], algorithm: 'sha256' | 'md5'): Buffer {
  const hash = createHash(algorithm);
  for (const digest of partDigests) hash.update(digest);
  return hash.digest();
}

/** undefined when a part's hash was not computed (the server was not going to check it). */
function digests(sent: SentObject, which: 'md5' | 'sha256'): Buffer[] | undefined {
  const list = sent.parts.map((p) => p[which]);
  return list.every((d): d is Buffer => d !== undefined) ? list : undefined;
}

export function expectedCompositeSha256(sent: SentObject): string | undefined {
  const list = digests(sent, 'sha256');
  return list && `${compositeChecksum(list, 'sha256').toString('base64')}-${sent.parts.length}`;
}

export function expectedMultipartEtag(sent: SentObject): string | undefined {
  const list = digests(sent, 'md5');
  return list && `${compositeChecksum(list, 'md5').toString('hex')}-${sent.parts.length}`;
}

function mismatch(store: ObjectStore, key: string, what: string): RemoteCopyError {
  return new RemoteCopyError(
    `the remote copy ${store.name}/${key} does not match what was sent: ${what}`,
    'verification',
    adviceFor('verification', store.name),
  );
}

/** Decide by what the server keeps, or undefined when it keeps nothing usable. */
export function judgeByServer(head: ObjectHead, sent: SentObject): VerifiedBy | 'mismatch' | undefined {
  if (head.checksumSha256) {
    const full = Buffer.from(sent.sha256, 'hex').toString('base64');
    const composite = expectedCompositeSha256(sent);
    if (head.checksumSha256 === composite || head.checksumSha256 === full) return 'server-sha256';
    // A composite we cannot compute (parts hashed for MD5 only) proves nothing either way.
    if (composite !== undefined || !head.checksumSha256.includes('-')) return 'mismatch';
  }
  const etag = head.etag?.replaceAll('"', '');
  if (etag === undefined) return undefined;
  if (etag === expectedMultipartEtag(sent)) return 'server-md5-parts';
  if (sent.md5 !== undefined && etag === sent.md5) return 'server-md5';
  return undefined;
}

/** Hash the object as the server serves it now; resolves to its size and sha256 (hex). */
export async function readBack(store: ObjectStore, key: string, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  const body = await store.get(key, signal ? { signal } : {});
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

export async function verifyRemoteObject(
  store: ObjectStore,
  sent: SentObject,
  mode: VerifyMode,
  signal?: AbortSignal,
): Promise<{ verifiedBy: VerifiedBy; head: ObjectHead }> {
  const head = await store.head(sent.key, signal ? { signal } : {});
  if (!head) throw mismatch(store, sent.key, 'the object is not there after the upload completed');
  if (head.size !== sent.size) throw mismatch(store, sent.key, `size ${head.size} bytes, expected ${sent.size}`);
  if (mode === 'auto') {
    const verdict = judgeByServer(head, sent);
    if (verdict === 'mismatch') throw mismatch(store, sent.key, `the server's SHA-256 checksum ${head.checksumSha256 ?? ''} differs from ours`);
    if (verdict) return { verifiedBy: verdict, head };
  }
  const back = await readBack(store, sent.key, signal);
  if (back.size !== sent.size || back.sha256 !== sent.sha256)
    throw mismatch(store, sent.key, `read back ${back.size} bytes with sha256 ${back.sha256}, expected ${sent.size} bytes with ${sent.sha256}`);
  return { verifiedBy: 'read-back', head };
}
