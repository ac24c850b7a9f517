// What a restore will change, computed before it runs: the snapshot's live keys (bbolt reader, sorted with
// bounded memory) joined in key order with the cluster's keys (keys-only pages at one revision, each
// bounded by the snapshot's keys: diff-join.ts). Per resource and namespace: objects that come back (in
// the snapshot, gone now), that disappear (there now, not in the snapshot) and that change (both, with
// another mod revision); namespaces that vanish or reappear; and the newest write the restore throws away.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdMember } from '../config/types.js';
import type { KeyRecord } from '../etcd/key-runs.js';
import { LiveKeyReader, type LiveKey } from '../etcd/live-keys.js';
import { objectTime } from '../etcd/object-time.js';
import { DEFAULT_REGISTRY_PREFIX, parseRegistryKey } from '../etcd/registry-key.js';
import { indexSnapshotKeys } from '../etcd/snapshot-key-index.js';
import { joinWindows, type JoinSink } from './diff-join.js';
import { formatDiff } from './restore-diff-text.js';

export interface DiffGroup {
  resource: string;
  namespace?: string;
  /** The folder of the keys: `/registry/pods/default/`. */
  prefix: string;
  kubernetes: boolean;
  comeBack: number;
  disappear: number;
  change: number;
}

export interface LostWrite {
  /** The key (UTF-8). */
  key: string;
  modRevision: number;
  /** `removed`: the key will not exist; `changed`: it goes back to the snapshot's version. */
  effect: 'removed' | 'changed';
  modifiedAt?: string;
  timeSource?: 'managedFields' | 'creationTimestamp';
  timeNote?: string;
}

export interface SnapshotDiff {
  snapshot: { path: string; revision: number; keys: number };
  live: { member: string; endpoint: string; revision: number; keys: number };
  totals: { comeBack: number; disappear: number; change: number; same: number };
  /** Sorted by prefix; capped at `maxGroups` (the rest are counted in `otherGroups`). */
  groups: DiffGroup[];
  otherGroups: { groups: number; comeBack: number; disappear: number; change: number };
  namespaces: { vanish: string[]; reappear: string[]; vanishCount: number; reappearCount: number };
  newestLost?: LostWrite;
  /** Sorted runs written to disk to keep memory bounded (0: everything fit in memory). */
  spilledRuns: number;
  durationMs: number;
}

export type DiffResult = { ok: true; diff: SnapshotDiff; text: string } | { ok: false; reason: string; text: string };

export interface DiffOptions {
  /** Deadline of each call to the cluster. Default 5 s. */
  timeoutMs?: number;
  /** Where sorted runs may spill (an owner-only folder is made inside). Default: the system temp folder. */
  workDir?: string;
  /** Memory for the snapshot's keys before they spill to disk. Default: indexSnapshotKeys' (16 MiB). */
  memoryBytes?: number;
  /** Snapshot keys per live range request. Default 10,000 (tests make it small). */
  window?: number;
  /** Kubernetes' `--etcd-prefix`. Default `/registry/`. */
  registryPrefix?: string;
  maxGroups?: number;
  /** Namespaces named in `vanish` / `reappear` (the counts are always complete). Default 200. */
  maxNamespaces?: number;
  signal?: AbortSignal;
}

const utf8 = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('utf8');

class DiffTally implements JoinSink {
  readonly groups = new Map<string, DiffGroup>();
  readonly other = { groups: 0, comeBack: 0, disappear: 0, change: 0 };
  readonly totals = { comeBack: 0, disappear: 0, change: 0, same: 0 };
  readonly namespaces = { vanish: [] as string[], reappear: [] as string[], vanishCount: 0, reappearCount: 0 };
  newestLost: { key: string; modRevision: number; effect: LostWrite['effect'] } | undefined;
  snapshotKeys = 0;
  liveKeys = 0;
  private readonly overflow = new Set<string>();

  constructor(
    private readonly registryPrefix: string,
    private readonly maxGroups: number,
    private readonly maxNamespaces: number,
  ) {}

  count(key: string, what: 'comeBack' | 'disappear' | 'change'): void {
    this.totals[what]++;
    const parsed = parseRegistryKey(utf8(key), this.registryPrefix);
    let group = this.groups.get(parsed.prefix);
    if (!group && this.groups.size < this.maxGroups) {
      group = { resource: parsed.resource, prefix: parsed.prefix, kubernetes: parsed.kubernetes, comeBack: 0, disappear: 0, change: 0 };
      if (parsed.namespace !== undefined) group.namespace = parsed.namespace;
      this.groups.set(parsed.prefix, group);
    }
    if (group) group[what]++;
    else {
      if (!this.overflow.has(parsed.prefix) && this.overflow.size < 100_000) {
        this.overflow.add(parsed.prefix);
        this.other.groups++;
      }
      this.other[what]++;
    }
    if (parsed.kubernetes && parsed.resource === 'namespaces' && parsed.name && what !== 'change') {
      const list = what === 'comeBack' ? this.namespaces.reappear : this.namespaces.vanish;
      if (list.length < this.maxNamespaces) list.push(parsed.name);
      if (what === 'comeBack') this.namespaces.reappearCount++;
      else this.namespaces.vanishCount++;
    }
  }

  comeBack(record: KeyRecord): void {
    this.snapshotKeys++;
    this.count(record.key, 'comeBack');
  }

  disappear(live: LiveKey): void {
    this.liveKeys++;
    this.count(live.key, 'disappear');
    this.lost(live, 'removed');
  }

  /** A key on both sides: the same when both revisions are; else the restore takes it back. */
  both(record: KeyRecord, live: LiveKey): void {
    this.snapshotKeys++;
    this.liveKeys++;
    if (record.modRevision === live.modRevision && record.createRevision === live.createRevision) this.totals.same++;
    else {
      this.count(record.key, 'change');
      if (live.modRevision > record.modRevision) this.lost(live, 'changed');
    }
  }

  lost(live: LiveKey, effect: LostWrite['effect']): void {
    if (!this.newestLost || live.modRevision > this.newestLost.modRevision)
      this.newestLost = { key: live.key, modRevision: live.modRevision, effect };
  }
}

/**
 * The data diff between a snapshot file and the live cluster. `ok: false` (with the reason) when no member
 * answers; a snapshot that cannot be read throws.
 */
export async function diffSnapshotAgainstCluster(
  snapshotPath: string,
  members: readonly EtcdMember[],
  options: DiffOptions = {},
): Promise<DiffResult> {
  const started = Date.now();
  const signal = options.signal;
  let reader: LiveKeyReader;
  try {
    reader = await LiveKeyReader.connect(members, { ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), ...(signal ? { signal } : {}) });
  } catch (error) {
    const reason = (error as Error).message;
    return { ok: false, reason, text: `data diff: not available, the cluster does not answer (${reason})\n` };
  }
  const work = await mkdtemp(join(options.workDir ?? tmpdir(), 'orchestrate-diff-'));
  try {
    const index = await indexSnapshotKeys(snapshotPath, {
      workDir: work,
      ...(options.memoryBytes ? { memoryBytes: options.memoryBytes } : {}),
      ...(signal ? { signal } : {}),
    });
    try {
      if (index.summary.problems.length > 0)
        throw new Error(`the snapshot ${snapshotPath} is damaged: ${index.summary.problems.slice(0, 3).join('; ')}`);
      const tally = new DiffTally(options.registryPrefix ?? DEFAULT_REGISTRY_PREFIX, options.maxGroups ?? 5_000, options.maxNamespaces ?? 200);
      await joinWindows(index, reader, tally, { ...(signal ? { signal } : {}), ...(options.window ? { window: options.window } : {}) });
      const diff = await summarize(tally, index.summary.revision, index.runs, snapshotPath, reader, started);
      return { ok: true, diff, text: formatDiff(diff) };
    } finally {
      await index.dispose();
    }
  } finally {
    reader.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function summarize(
  tally: DiffTally,
  snapshotRevision: number,
  runs: number,
  snapshotPath: string,
  reader: LiveKeyReader,
  started: number,
): Promise<SnapshotDiff> {
  let newestLost: LostWrite | undefined;
  if (tally.newestLost) {
    const { key, modRevision, effect } = tally.newestLost;
    // One value read, for the time it was written (Kubernetes records it in the object's metadata).
    const time = objectTime(await reader.value(key).catch(() => undefined));
    newestLost = { key: utf8(key), modRevision, effect };
    if (time.at) newestLost.modifiedAt = time.at;
    if (time.source) newestLost.timeSource = time.source;
    if (time.note) newestLost.timeNote = time.note;
  }
  const groups = [...tally.groups.values()].sort((x, y) => (x.prefix < y.prefix ? -1 : x.prefix > y.prefix ? 1 : 0));
  return {
    snapshot: { path: snapshotPath, revision: snapshotRevision, keys: tally.snapshotKeys },
    live: { member: reader.member.name, endpoint: reader.member.clientUrl, revision: reader.revision, keys: tally.liveKeys },
    totals: tally.totals,
    groups,
    otherGroups: tally.other,
    namespaces: tally.namespaces,
    ...(newestLost ? { newestLost } : {}),
    spilledRuns: runs,
    durationMs: Date.now() - started,
  };
}
