// `orchestrate recover`: diagnose every member (read-only), choose the way out that loses least, show the
// table and the choice, then run it with the preview, confirmation, journal and verification of a restore:
// path 1 through playbooks/recover-start.yml and member-replace.yml, paths 2 and 3 through the restore itself
// (playbooks/restore.yml, with its automatic rollback), from a copy of the freshest db or the newest snapshot.
// An interrupted run is continued first, whatever a new diagnosis would say.
import { rm } from 'node:fs/promises';
import { requireEtcd } from '../../config/etcd-vars.js';
import { ExitCode, RefusedError } from '../../errors.js';
import { decideRecovery, type FromOverride, type RecoveryChoice, type RecoveryDecision, type RecoveryOption } from '../../etcd/diagnose/decide.js';
import { readRecoverJournal, recoverJournalPath } from '../../etcd/member/journal.js';
import { journalPath, readJournal } from '../../etcd/restore/journal.js';
import { now } from '../restore/events.js';
import type { RestoreReport } from '../restore/report.js';
import { diagnoseCluster, type Diagnosis } from './diagnose-run.js';
import { takeRebuildSource } from './rebuild-source.js';
import type { CommonRunOptions } from './shared.js';
import { runStartPath, type StartReport } from './start-run.js';
import { decisionText } from './table.js';

export interface RecoverOptions extends CommonRunOptions {
  from?: FromOverride;
  acceptOldSnapshot?: boolean;
  maxSnapshotAgeMs?: number;
}

export interface RecoverReport {
  kind: 'recover';
  dryRun: boolean;
  status: 'nothing-to-do' | 'dry-run' | 'completed' | 'incomplete' | 'failed' | 'interrupted' | 'rolled-back' | 'continued';
  exitCode: number;
  diagnosis?: { ms: number; reads: number; bytes: number; members: DiagnosedRow[]; snapshot?: Diagnosis['snapshot'] };
  options?: RecoveryOption[];
  choice?: RecoveryChoice;
  start?: StartReport;
  restore?: RestoreReport;
  /** What the path chosen loses (0 for start as is). */
  lost?: { revisions?: number; entries?: number; ms?: number };
  wallMs: number;
  failure?: string;
}

export interface DiagnosedRow {
  host: string;
  name: string;
  state: string;
  detail: string;
  revision?: number;
  consistentIndex?: number;
  wal?: { state: string; lastIndex: number; commitIndex: number; problem?: string };
  certificates: { file: string; role: string; notAfter?: string; problem?: string }[];
}

function rows(decision: RecoveryDecision): DiagnosedRow[] {
  return decision.members.map((m) => {
    const d = m.diagnosis;
    return {
      host: d.host,
      name: d.name,
      state: m.state,
      detail: m.detail,
      ...(d.db?.ok ? { revision: d.db.revision, consistentIndex: d.db.consistentIndex } : {}),
      ...(d.wal
        ? {
            wal: {
              state: d.wal.state,
              lastIndex: d.wal.lastIndex,
              commitIndex: d.wal.commitIndex,
              ...(d.wal.problem ? { problem: d.wal.problem } : {}),
            },
          }
        : {}),
      certificates: d.certificates.map((c) => ({
        file: c.file,
        role: c.role,
        ...(c.notAfter ? { notAfter: c.notAfter } : {}),
        ...(c.problem ? { problem: c.problem } : {}),
      })),
    };
  });
}

/** An unfinished restore (paths 2 and 3) or start/replace run is continued before anything is diagnosed again. */
async function continueUnfinished(options: RecoverOptions, started: number): Promise<RecoverReport | undefined> {
  const token = requireEtcd(options.inventory)[0]?.token ?? 'cluster';
  const restoreJournal = await readJournal(journalPath(options.inventory.dir, token));
  if (
    restoreJournal &&
    (restoreJournal.status === 'in-progress' || restoreJournal.status === 'rolling-back' || restoreJournal.status === 'rollback-failed')
  ) {
    options.emit({
      type: 'info',
      message: `an unfinished restore (${restoreJournal.runId}, from ${restoreJournal.snapshot.path}) is continued first`,
      at: now(),
    });
    const restore = await restoreWith(options, undefined);
    return {
      kind: 'recover',
      dryRun: options.dryRun,
      status: restore.dryRun ? 'dry-run' : 'continued',
      exitCode: restore.exitCode,
      restore,
      wallMs: Date.now() - started,
      ...(restore.failure ? { failure: restore.failure } : {}),
    };
  }
  const journal = await readRecoverJournal(recoverJournalPath(options.inventory.dir, token));
  if (journal?.status !== 'in-progress') return undefined;
  if (journal.kind === 'member-replace') {
    throw new RefusedError(
      `an unfinished member replace (${journal.runId}) is recorded for this cluster`,
      'finish it first: orchestrate member replace INVENTORY HOST (the same host)',
      'recover.replace-unfinished',
    );
  }
  options.emit({
    type: 'info',
    message: `continuing the interrupted recovery ${journal.runId} (start ${journal.start.join(', ') || 'none'}, replace ${journal.replace.join(', ') || 'none'})`,
    at: now(),
  });
  const start = await runStartPath(options, { start: journal.start, replace: journal.replace, leave: [] }, token, journal);
  return {
    kind: 'recover',
    dryRun: options.dryRun,
    status: start.status === 'dry-run' ? 'dry-run' : start.status,
    exitCode: start.exitCode,
    start,
    wallMs: Date.now() - started,
    ...(start.failure ? { failure: start.failure } : {}),
  };
}

async function restoreWith(options: RecoverOptions, snapshot: string | undefined): Promise<RestoreReport> {
  const { restoreCluster } = await import('../restore/restore-run.js');
  return restoreCluster({
    inventory: options.inventory,
    dryRun: options.dryRun,
    yes: options.yes,
    emit: options.emit,
    ...(options.confirm ? { confirm: options.confirm } : {}),
    connect: options.connect,
    signal: options.signal,
    timeouts: { serviceSeconds: options.timeouts.serviceSeconds, etcdSeconds: options.timeouts.etcdSeconds },
    ...(snapshot ? { snapshot } : {}),
    ...(options.acceptOldSnapshot ? { acceptOldSnapshot: true } : {}),
    ...(options.maxSnapshotAgeMs !== undefined ? { maxSnapshotAgeMs: options.maxSnapshotAgeMs } : {}),
  });
}

function restoreStatus(restore: RestoreReport): RecoverReport['status'] {
  if (restore.dryRun) return 'dry-run';
  if (restore.status === 'completed') return restore.exitCode === ExitCode.ok ? 'completed' : 'failed';
  if (restore.exitCode === ExitCode.interrupted) return 'interrupted';
  return restore.status === 'rolled-back' ? 'rolled-back' : 'failed';
}

export async function recoverCluster(options: RecoverOptions): Promise<RecoverReport> {
  const started = Date.now();
  const continued = await continueUnfinished(options, started);
  if (continued) return continued;
  const diagnosis = await diagnoseCluster(options.inventory, options.connect);
  const decision = decideRecovery({
    members: diagnosis.members,
    ...(diagnosis.snapshot ? { snapshot: diagnosis.snapshot } : {}),
    ...(options.from ? { from: options.from } : {}),
  });
  options.emit({ type: 'summary', text: decisionText(diagnosis, decision), at: now() });
  const report: RecoverReport = {
    kind: 'recover',
    dryRun: options.dryRun,
    status: options.dryRun ? 'dry-run' : 'completed',
    exitCode: ExitCode.ok,
    diagnosis: {
      ms: diagnosis.ms,
      reads: diagnosis.reads,
      bytes: diagnosis.bytes,
      members: rows(decision),
      ...(diagnosis.snapshot ? { snapshot: diagnosis.snapshot } : {}),
    },
    options: decision.options,
    choice: decision.choice,
    wallMs: 0,
  };
  const { choice } = decision;
  const chosen = decision.options.find((o) => o.path === (choice.kind === 'refuse' || choice.kind === 'nothing' ? '' : choice.kind));
  if (chosen)
    report.lost = {
      ...(chosen.lostRevisions !== undefined ? { revisions: chosen.lostRevisions } : {}),
      ...(chosen.lostEntries !== undefined ? { entries: chosen.lostEntries } : {}),
      ...(chosen.lostMs !== undefined ? { ms: chosen.lostMs } : {}),
    };
  const token = requireEtcd(options.inventory)[0]?.token ?? 'cluster';
  if (choice.kind === 'nothing') report.status = 'nothing-to-do';
  else if (choice.kind === 'refuse') throw new RefusedError(`${choice.reason}; nothing was changed`, choice.fix, 'recover.no-way-out');
  else if (choice.kind === 'start') {
    const start = await runStartPath(options, choice, token);
    Object.assign(report, { start, status: start.status, exitCode: start.exitCode, ...(start.failure ? { failure: start.failure } : {}) });
  } else {
    let scratch: string | undefined;
    try {
      let snapshot: string;
      if (choice.kind === 'rebuild') {
        const member = requireEtcd(options.inventory).find((m) => m.host === choice.source);
        const diagnosed = diagnosis.members.find((m) => m.host === choice.source);
        if (!member || !diagnosed) throw new Error(`the rebuild source ${choice.source} is not a diagnosed member`);
        const source = await takeRebuildSource(options.inventory, member, diagnosed, options.connect, options.dryRun);
        scratch = source.scratch;
        snapshot = source.path;
        options.emit({
          type: 'info',
          message: `copied the db of ${member.name} (${source.how}) to ${source.path}; every member is restored from it with its own identity`,
          at: now(),
        });
      } else snapshot = choice.snapshot.path;
      // A rebuild's copy is as old as the last write the member applied: its age is not data lost.
      const restore = await restoreWith(choice.kind === 'rebuild' ? { ...options, acceptOldSnapshot: true } : options, snapshot);
      Object.assign(report, {
        restore,
        status: restoreStatus(restore),
        exitCode: restore.exitCode,
        ...(restore.failure ? { failure: restore.failure } : {}),
      });
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }
  report.wallMs = Date.now() - started;
  return report;
}
