// What a drill compares between the snapshot file and the cluster restored from it: every live key in key
// order with its create and mod revision, version, value size and value CRC-32C, folded into one sha256.
// (The snapshot's own `etcdctl snapshot status` hash cannot be compared: a restore rewrites the member and
// meta buckets by design.) The same pass counts objects per Kubernetes resource and namespace.
import { createHash, type Hash } from 'node:crypto';
import { parseRegistryKey } from '../etcd/registry-key.js';

export interface DigestInput {
  key: string;
  createRevision: number;
  modRevision: number;
  version: number;
  valueSize?: number;
  valueCrc?: number;
}

export interface ResourceCount {
  resource: string;
  /** Absent for cluster-scoped resources. */
  namespace?: string;
  count: number;
}

export interface ContentSummary {
  keys: number;
  /** sha256 in hex. */
  digest: string;
  resources: ResourceCount[];
  /** Resource/namespace pairs beyond the cap, folded into one count. */
  otherResources: number;
}

const MAX_RESOURCE_ROWS = 2_000;

export class ContentDigest {
  private readonly hash: Hash = createHash('sha256');
  private readonly fixed = Buffer.alloc(4 + 8 * 3 + 4 + 4);
  private keys = 0;
  private readonly counts = new Map<string, ResourceCount>();
  private other = 0;

  constructor(private readonly registryPrefix: string) {}

  add(entry: DigestInput): void {
    const keyBytes = Buffer.from(entry.key, 'latin1');
    const f = this.fixed;
    f.writeUInt32LE(keyBytes.length, 0);
    f.writeDoubleLE(entry.createRevision, 4);
    f.writeDoubleLE(entry.modRevision, 12);
    f.writeDoubleLE(entry.version, 20);
    f.writeUInt32LE((entry.valueSize ?? 0) >>> 0, 28);
    f.writeUInt32LE((entry.valueCrc ?? 0) >>> 0, 32);
    this.hash.update(f);
    this.hash.update(keyBytes);
    this.keys++;
    if (!entry.key.startsWith(this.registryPrefix)) return;
    const parsed = parseRegistryKey(Buffer.from(entry.key, 'latin1').toString('utf8'), this.registryPrefix);
    const id = `${parsed.resource}\u0000${parsed.namespace ?? ''}`;
    const row = this.counts.get(id);
    if (row) row.count++;
    else if (this.counts.size < MAX_RESOURCE_ROWS) {
      this.counts.set(id, { resource: parsed.resource, ...(parsed.namespace !== undefined ? { namespace: parsed.namespace } : {}), count: 1 });
    } else this.other++;
  }

  summary(): ContentSummary {
    const resources = [...this.counts.values()].sort((a, b) =>
      a.resource === b.resource ? (a.namespace ?? '').localeCompare(b.namespace ?? '') : a.resource.localeCompare(b.resource),
    );
    return { keys: this.keys, digest: this.hash.copy().digest('hex'), resources, otherResources: this.other };
  }
}

/** Feed a key-ordered stream; returns the summary. */
export async function digestStream(stream: AsyncIterable<DigestInput>, registryPrefix: string, signal?: AbortSignal): Promise<ContentSummary> {
  const digest = new ContentDigest(registryPrefix);
  let n = 0;
  for await (const entry of stream) {
    digest.add(entry);
    if (++n % 50_000 === 0) signal?.throwIfAborted();
  }
  return digest.summary();
}
