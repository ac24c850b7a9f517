// What a drill is asked to do and what it hands back.
import type { Inventory } from '../config/types.js';
import type { ResourceCount } from './content-digest.js';
import type { DrillCheck, ExpectationResult } from './drill-checks.js';
import type { SnapshotOpener } from './drill-snapshot.js';

export interface DrillOptions {
  inventory: Inventory;
  /** `latest` (default: the newest verified snapshot in backup_dir), a file (`.age`: decrypted by `opener`) or `s3://bucket/key`. */
  snapshot?: string;
  /** Members of the throwaway cluster (default: the inventory's member count). */
  members?: number;
  /** Deadline for the members to reach quorum and agree on a leader (default 60 s). */
  timeoutMs?: number;
  /** Folder the temporary cluster is made in (default: the system temp folder, or `drill_work_dir`). */
  workDir?: string;
  /** Where to look for etcd, etcdutl and etcdctl (default: $PATH). */
  path?: string;
  /** Revision bump for restore tools that support it (etcdutl 3.5+); 0 turns it off. Default 1,000,000,000. */
  bumpRevision?: number;
  /** Write the result to the drill catalog and the drill metrics (default true). */
  record?: boolean;
  /** Override the backup metrics file (the drill metrics go beside it). */
  metricsFile?: string;
  signal?: AbortSignal;
  /** Reads an age-encrypted snapshot or an s3:// address into a temporary clear file (commands/drill gives one). */
  opener?: SnapshotOpener;
  /** Progress, for a live display. */
  emit?: (event: DrillEvent) => void;
}

export type DrillStage = 'snapshot' | 'tools' | 'space' | 'restore' | 'start' | 'quorum' | 'checks' | 'expectations' | 'teardown' | 'interrupted';

export interface DrillEvent {
  stage: DrillStage;
  message: string;
  /** ms since the drill began. */
  atMs: number;
  ok: boolean;
}

export interface DrillResult {
  ok: boolean;
  /** 0 passed; 3 a check failed or the cluster did not come up; 5 refused before anything started; 130 interrupted. */
  exitCode: number;
  id: string;
  cluster: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  snapshot: { path: string; sha256?: string; size?: number; revision?: number; totalKey?: number; hasHash?: boolean; takenAt?: string };
  tools?: { etcd: string; restore: string; notes: string[] };
  members: { name: string; clientUrl: string; peerUrl: string }[];
  /** The revision the cluster must serve (the snapshot's, plus a bump). */
  expectedRevision?: number;
  bumpRevision?: number;
  timings: { timeToQuorumMs?: number; timeToLastCheckMs?: number; stages: { stage: DrillStage; ms: number }[] };
  /** Peak resident memory of orchestrate itself (not the etcd members), MiB. */
  peakRssMiB?: number;
  checks: DrillCheck[];
  expectations: ExpectationResult[];
  /** Objects per resource and namespace, as the restored cluster serves them. */
  resources: ResourceCount[];
  /** Live keys: in the snapshot file and in the restored cluster. */
  keys?: { snapshot: number; cluster: number };
  failure?: { stage: DrillStage; message: string };
  /** Whatever teardown could not remove (empty after every drill that worked as designed). */
  leftBehind: { pids: number[]; dir?: string };
  workDir?: string;
  recorded?: { catalogFile: string; metricsFile: string; warning?: string };
}
