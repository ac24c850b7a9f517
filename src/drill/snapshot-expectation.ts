// What a cluster restored from a snapshot must serve, computed from the file while the members restore:
// the live keys with their revisions and versions (a digest, a count, objects per resource) and the HashKV
// every member must report (which covers every value and every revision of the history).
import { indexSnapshotKeys } from '../etcd/snapshot-key-index.js';
import { KeepSet, snapshotHashKv, type ExpectedHash } from '../etcd/snapshot-hashkv.js';
import { ContentDigest, type ContentSummary } from './content-digest.js';

export interface SnapshotExpectation {
  content: ContentSummary;
  hash?: ExpectedHash;
  /** Why no expected hash could be computed. */
  hashNote?: string;
}

export async function expectFromSnapshot(
  path: string,
  options: { workDir: string; registryPrefix: string; bumpTo?: number; signal?: AbortSignal },
): Promise<SnapshotExpectation> {
  const { signal } = options;
  const index = await indexSnapshotKeys(path, { workDir: options.workDir, ...(signal ? { signal } : {}) });
  const { finishedCompactRevision, scheduledCompactRevision } = index.summary;
  // A compaction scheduled but not finished when the snapshot was taken is finished by etcd when it starts.
  const compactRevision = options.bumpTo ?? Math.max(finishedCompactRevision, scheduledCompactRevision);
  const digest = new ContentDigest(options.registryPrefix);
  const keep = new KeepSet();
  let liveKeys = 0;
  try {
    for await (const record of index) {
      digest.add({ key: record.key, createRevision: record.createRevision, modRevision: record.modRevision, version: record.version });
      if (record.main <= compactRevision) keep.add(record.main, record.sub);
      if (++liveKeys % 50_000 === 0) signal?.throwIfAborted();
    }
  } finally {
    await index.dispose();
  }
  const content = digest.summary();
  if (keep.overflow) return { content, hashNote: 'revisions too large to compute the expected HashKV here' };
  const hash = await snapshotHashKv(path, keep, compactRevision, {
    liveKeys,
    ...(options.bumpTo !== undefined ? { bumpTo: options.bumpTo } : {}),
    ...(signal ? { signal } : {}),
  });
  return { content, hash };
}
