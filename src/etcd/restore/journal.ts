// The restore journal on the deploy host: what each host has done, written (temporary file, fsync, rename,
// fsync of the folder) after every phase of every host, so a re-run after Ctrl-C, a dropped connection or
// a dead deploy host knows where each member's data is and can continue or roll back.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RefusedError } from '../../errors.js';
import type { RestoreTool } from './identity.js';
import type { MemberRestorePaths, SwapMode } from './paths.js';
import { clusterFileName } from '../backup/locations.js';

export type RestoreMode = 'member' | 'deploy-host';

/**
 * Phases are the procedure's (playbooks/restore.yml: each task's first tag); these are the ones the command
 * gives a meaning to (resume, marks, rollback). Host-level phases are recorded per host, once-phases run on
 * the deploy host (verification) under DEPLOY_HOST.
 */
export type RestorePhase = string;
export type RollbackPhase = string;

/** Key under which deploy-host phases (verification) are recorded. */
export const DEPLOY_HOST = 'localhost';

export type JournalStatus = 'in-progress' | 'completed' | 'rolling-back' | 'rolled-back' | 'rollback-failed' | 'aborted';

export interface JournalMember {
  name: string;
  /** The member as the restore acted on it (checked against its configuration and the live cluster). */
  identity?: {
    peerUrl: string;
    clientUrl: string;
    dataDir: string;
    walDir?: string;
    topology: 'systemd' | 'kubeadm';
    mode: SwapMode;
    walMode?: SwapMode;
  };
  paths: MemberRestorePaths;
  /** The data dir existed when the restore began (it is moved aside, never deleted). */
  hadOldData: boolean;
  tool?: RestoreTool;
  service: string;
}

export interface JournalSnapshot {
  path: string;
  sha256: string;
  size: number;
  revision: number;
  totalKey: number;
  hasHash: boolean;
  /** When it was taken (catalog record or file mtime), ISO. */
  takenAt: string;
  /** `path` is a temporary decryption of this age-encrypted snapshot (removed when the run ends; a re-run decrypts it again). */
  decryptedFrom?: string;
}

export interface PhaseTiming {
  phase: string;
  kind: 'restore' | 'rollback';
  /** ISO times. `end` is absent while the phase runs (or when the run died in it). */
  start: string;
  end?: string;
  result?: 'ok' | 'failed' | 'interrupted';
  error?: string;
}

/** Host (`localhost` for the deploy host) to every phase it ran, in the order they began. */
export type JournalTimings = Record<string, PhaseTiming[]>;

export interface RestoreJournal {
  version: 1;
  runId: string;
  clusterToken: string;
  inventory: string;
  mode: RestoreMode;
  status: JournalStatus;
  startedAt: string;
  updatedAt: string;
  snapshot: JournalSnapshot;
  members: Record<string, JournalMember>;
  /** Phases begun (a begun but unfinished stop means services may be down). */
  begun: RestorePhase[];
  /** Host (or DEPLOY_HOST) -> phases finished there. */
  done: Record<string, RestorePhase[]>;
  /** Wall-clock marks for the report (ISO). */
  marks: Record<string, string>;
  /** Revisions were raised by this much (etcd 3.5.10+); 0 or absent: not bumped. */
  bumpRevision?: number;
  /** The live member list when the restore began: what a rollback must find again. */
  membersBefore?: { name: string; peerUrls: string[] }[];
  /** Per host (`localhost` for the deploy host), every phase it ran, in the order they began: the report's timeline. */
  timings?: JournalTimings;
  rollback?: {
    reason: string;
    startedAt: string;
    begun: RollbackPhase[];
    done: Record<string, RollbackPhase[]>;
    finishedAt?: string;
  };
  /** Why the run stopped, when it did not complete. */
  error?: string;
}

export function journalPath(inventoryDir: string, clusterToken: string): string {
  return join(inventoryDir, '.orchestrate', 'restore-journal', `${clusterFileName(clusterToken)}.json`);
}

export async function readJournal(path: string): Promise<RestoreJournal | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RefusedError(
      `cannot read the restore journal ${path}: ${(error as Error).message}`,
      'check the file permissions',
      'restore.journal-unreadable',
    );
  }
  try {
    const parsed = JSON.parse(text) as RestoreJournal;
    // Read from disk: the declared type is what it should be, not what it is.
    const shape = parsed as { version?: unknown; runId?: unknown; members?: unknown };
    if (shape.version !== 1 || typeof shape.runId !== 'string' || typeof shape.members !== 'object') throw new Error('unknown format');
    return parsed;
  } catch (error) {
    throw new RefusedError(
      `the restore journal ${path} is damaged (${(error as Error).message})`,
      "inspect it by hand: it records where each member's old data dir was moved; move it away only once every member is known to be fine",
      'restore.journal-damaged',
    );
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Atomic, durable write of a small JSON file, owner-only. */
export async function writeJsonDurably(path: string, value: unknown): Promise<void> {
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await fsyncDir(dir);
}

/**
 * Holds the journal in memory and writes it after each change. Hosts finish phases concurrently: writes are
 * chained, and a change made while a write runs is carried by the next write.
 */
export class JournalWriter {
  private inFlight: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(
    readonly path: string,
    readonly journal: RestoreJournal,
  ) {}

  /**
   * Apply a change and wait until it is on disk. Changes made while a write runs are carried together by
   * the next one (hosts finishing a phase at the same moment cost one fsync, not one each).
   */
  update(change: (journal: RestoreJournal) => void): Promise<void> {
    change(this.journal);
    this.journal.updatedAt = new Date().toISOString();
    this.queued ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        this.inFlight = writeJsonDurably(this.path, structuredClone(this.journal));
        return this.inFlight;
      });
    return this.queued;
  }

  markBegun(phase: RestorePhase): Promise<void> {
    return this.update((j) => {
      if (!j.begun.includes(phase)) j.begun.push(phase);
    });
  }

  markDone(host: string, phase: RestorePhase): Promise<void> {
    return this.update((j) => {
      const list = (j.done[host] ??= []);
      if (!list.includes(phase)) list.push(phase);
    });
  }

  /** When a host started and finished a phase of the restore or of its rollback (the report's timeline). */
  time(kind: PhaseTiming['kind'], phase: string, host: string, edge: 'start' | 'end', at: Date = new Date()): Promise<void> {
    return this.update((j) => {
      const list = ((j.timings ??= {})[host] ??= []);
      const open = list.findLast((t) => t.kind === kind && t.phase === phase && t.end === undefined);
      if (edge === 'start') list.push({ phase, kind, start: at.toISOString() });
      else if (open) {
        open.end = at.toISOString();
        open.result = 'ok';
      }
    });
  }

  mark(name: string, at: Date = new Date()): Promise<void> {
    return this.update((j) => {
      j.marks[name] = at.toISOString();
    });
  }
}

export function isDone(journal: RestoreJournal, host: string, phase: RestorePhase): boolean {
  return journal.done[host]?.includes(phase) ?? false;
}

export function rollbackDone(journal: RestoreJournal, host: string, phase: RollbackPhase): boolean {
  return journal.rollback?.done[host]?.includes(phase) ?? false;
}

/** Where journals of earlier runs go when a new run starts: kept, next to the current one. */
export function archivedJournalPath(path: string, runId: string): string {
  return path.replace(/\.json$/, `.${runId}.json`);
}

export async function archiveJournal(path: string, journal: RestoreJournal): Promise<string> {
  const target = archivedJournalPath(path, journal.runId);
  await rename(path, target);
  return target;
}
