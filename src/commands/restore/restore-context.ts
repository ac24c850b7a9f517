// Everything a restore settles on the deploy host before it contacts any host: the members' identities,
// the journal of an earlier run (continue it, or refuse while a rollback is unfinished), the snapshot
// (verified here: a bad file is refused before any host is touched), the mode, the run id and paths.
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireEtcd } from '../../config/etcd-vars.js';
import type { EtcdMember, Inventory } from '../../config/types.js';
import { ConfigError, RefusedError } from '../../errors.js';
import { checkIdentities, type RestoreTool } from '../../etcd/restore/identity.js';
import { journalPath, readJournal, type RestoreJournal, type RestoreMode } from '../../etcd/restore/journal.js';
import { localCanBump, localFreeBytes, localRestoreTool } from '../../etcd/restore/local-restore.js';
import { newRunId, restorePaths, type MemberRestorePaths } from '../../etcd/restore/paths.js';
import { checkSnapshotFile, formatDuration, type ChosenSnapshot } from '../../etcd/restore/snapshot-source.js';
import { checkTopologyVariable, hostServices, type HostServices } from '../../etcd/restore/unit-commands.js';
import { now, type Emit } from './events.js';
import { bytesNeededFor } from './preflight.js';
import { chooseRestoreSnapshot } from './snapshot-choice.js';
import { DEFAULT_TIMEOUTS, type PlanTimeouts, type RestoreRunOptions } from './restore-run.js';

const DAY_MS = 24 * 3_600_000;

/** How a run reports as it goes, and the time it spends before the first phase (the RTO breakdown). */
export interface RunLog {
  started: number;
  emit: Emit;
  warnings: string[];
  warn(message: string): void;
  preparation: { id: string; ms: number }[];
  lap(id: string): void;
  restartLap(): void;
}

export interface RestoreContext extends RunLog {
  inventory: Inventory;
  members: EtcdMember[];
  services: HostServices[];
  token: string;
  journalFile: string;
  /** The journal found at the start, if any. */
  previous?: RestoreJournal;
  /** An interrupted restore this run continues. */
  resuming?: RestoreJournal;
  snapshot: ChosenSnapshot;
  ageMs: number;
  mode: RestoreMode;
  runId: string;
  paths: Map<string, MemberRestorePaths>;
  /** Deploy-host mode: the tool here and a scratch folder for the member dirs. */
  deployHost?: { tool: RestoreTool; workDir: string; canBump: boolean };
  timeouts: PlanTimeouts;
  dryRun: boolean;
  signal: AbortSignal;
}

export async function prepareRestore(options: RestoreRunOptions): Promise<RestoreContext> {
  const log = runLog(options.emit ?? (() => undefined));
  const { inventory } = options;
  const members = requireEtcd(inventory);
  const identity = checkIdentities(members);
  if (identity.errors.length) throw new ConfigError(identity.errors.map((p) => ({ ...p, loc: p.loc ?? { file: inventory.file, line: 1, col: 1 } })));
  checkTopologyVariable(inventory);
  const token = members[0]?.token ?? 'cluster';
  const journalFile = journalPath(inventory.dir, token);
  const { previous, resuming } = await readEarlierRun(journalFile, members);
  const snapshot = await snapshotFor(inventory, resuming, journalFile, log, options);
  log.lap('check-snapshot');
  const ageMs = Math.max(0, Date.now() - new Date(snapshot.takenAt).getTime());
  if (!resuming) checkSnapshotAge(snapshot, ageMs, log, options);
  if (!snapshot.hasHash) log.warn(`${snapshot.path} has no sha256 trailer (a raw member/snap/db copy): restoring with --skip-hash-check`);
  const mode = resuming?.mode ?? options.mode ?? 'member';
  const runId = resuming?.runId ?? newRunId();
  for (const w of identity.warnings) log.warn(w.message);
  return {
    ...log,
    inventory,
    members,
    services: hostServices(inventory),
    token,
    journalFile,
    ...(previous ? { previous } : {}),
    ...(resuming ? { resuming } : {}),
    snapshot,
    ageMs,
    mode,
    runId,
    paths: new Map(members.map((m) => [m.host, resuming?.members[m.host]?.paths ?? restorePaths(m.dataDir, runId)])),
    ...(mode === 'deploy-host' ? { deployHost: await deployHostScratch(members, snapshot, runId) } : {}),
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    dryRun: options.dryRun === true,
    signal: options.signal ?? new AbortController().signal,
  };
}

export function runLog(emit: Emit): RunLog {
  const started = Date.now();
  const warnings: string[] = [];
  const preparation: { id: string; ms: number }[] = [];
  let lapStarted = started;
  return {
    started,
    emit,
    warnings,
    warn(message) {
      warnings.push(message);
      emit({ type: 'warning', message, at: now() });
    },
    preparation,
    lap(id) {
      const at = Date.now();
      preparation.push({ id, ms: at - lapStarted });
      lapStarted = at;
    },
    restartLap() {
      lapStarted = Date.now();
    },
  };
}

/** The journal of an earlier run: continue an interrupted one; refuse while a rollback is unfinished. */
async function readEarlierRun(
  journalFile: string,
  members: readonly EtcdMember[],
): Promise<{ previous?: RestoreJournal; resuming?: RestoreJournal }> {
  const previous = await readJournal(journalFile);
  if (!previous) return {};
  if (previous.status === 'rolling-back' || previous.status === 'rollback-failed') {
    throw new RefusedError(
      `the restore ${previous.runId} of this cluster was being rolled back and did not finish (${journalFile})`,
      'finish it first: orchestrate restore --rollback INVENTORY',
      'restore.rollback-unfinished',
    );
  }
  if (previous.status !== 'in-progress') return { previous };
  const missing = members.filter((m) => !previous.members[m.host]).map((m) => m.host);
  if (missing.length || Object.keys(previous.members).length !== members.length) {
    throw new RefusedError(
      `an unfinished restore (${previous.runId}) was recorded for other members than the inventory lists now${missing.length ? ` (new: ${missing.join(', ')})` : ''}`,
      `restore the inventory it ran with, then re-run or roll back; the journal is ${journalFile}`,
      'restore.journal-mismatch',
    );
  }
  return { previous, resuming: previous };
}

async function snapshotFor(
  inventory: Inventory,
  resuming: RestoreJournal | undefined,
  journalFile: string,
  log: RunLog,
  options: RestoreRunOptions,
): Promise<ChosenSnapshot> {
  // Either place with backup_remote (a remote-only snapshot is pulled and verified here); else backup_dir.
  if (!resuming) return chooseRestoreSnapshot(inventory, options.snapshot, log);
  const original = resuming.snapshot.decryptedFrom ?? resuming.snapshot.path;
  if (options.snapshot && options.snapshot !== 'latest' && resolve(options.snapshot) !== original) {
    throw new RefusedError(
      `an unfinished restore (${resuming.runId}, from ${original}) must be finished before restoring another snapshot`,
      'run the same command without --snapshot to continue it, or roll it back with --rollback',
      'restore.unfinished',
    );
  }
  // An encrypted snapshot's temporary decryption was removed when the interrupted run ended: decrypted again.
  const checked = resuming.snapshot.decryptedFrom
    ? await chooseRestoreSnapshot(inventory, resuming.snapshot.decryptedFrom, log)
    : await checkSnapshotFile(resuming.snapshot.path, { sha256: resuming.snapshot.sha256 });
  if (checked.sha256 !== resuming.snapshot.sha256) {
    throw new RefusedError(
      `${original} is not the snapshot the unfinished restore ${resuming.runId} used (sha256 ${checked.sha256}, recorded ${resuming.snapshot.sha256})`,
      'put that snapshot back, or roll the restore back with --rollback',
      'restore.snapshot-invalid',
    );
  }
  const snapshot = { ...checked, takenAt: resuming.snapshot.takenAt };
  log.emit({ type: 'info', message: `continuing the interrupted restore ${resuming.runId} (journal ${journalFile})`, at: now() });
  return snapshot;
}

function checkSnapshotAge(snapshot: ChosenSnapshot, ageMs: number, log: RunLog, options: RestoreRunOptions): void {
  const maxAge = options.maxSnapshotAgeMs ?? DAY_MS;
  if (ageMs <= maxAge) return;
  const message = `the snapshot is ${formatDuration(ageMs)} old (limit ${formatDuration(maxAge)}): every write since ${snapshot.takenAt} will be lost`;
  if (options.dryRun) log.warn(`${message}; a real run needs --yes --accept-old-snapshot`);
  else if (!(options.yes && options.acceptOldSnapshot)) {
    throw new RefusedError(
      `${message}; nothing was changed`,
      'restore it anyway with --yes --accept-old-snapshot, or take a fresh backup (or raise --max-snapshot-age)',
      'restore.snapshot-too-old',
    );
  }
}

/** Deploy-host mode needs the tool here and room for every member's archive. */
async function deployHostScratch(
  members: readonly EtcdMember[],
  snapshot: ChosenSnapshot,
  runId: string,
): Promise<{ tool: RestoreTool; workDir: string; canBump: boolean }> {
  const tool = await localRestoreTool();
  if (!tool) {
    throw new RefusedError(
      '--restore-on deploy-host needs etcdutl or etcdctl on the deploy host, and neither is on the PATH',
      'install etcd-client here, or restore on the members',
      'restore.no-local-tool',
    );
  }
  const free = await localFreeBytes(tmpdir());
  const needed = members.length * bytesNeededFor(snapshot.size);
  if (free !== undefined && free < needed) {
    throw new RefusedError(
      `${tmpdir()} on the deploy host has ${Math.floor(free / 1048576)} MiB free; restoring ${members.length} members there needs ${Math.ceil(needed / 1048576)} MiB`,
      'free space or set TMPDIR',
      'restore.no-local-space',
    );
  }
  return { tool, workDir: join(tmpdir(), `orchestrate-restore-${runId}`), canBump: tool === 'etcdutl' && (await localCanBump()) };
}
