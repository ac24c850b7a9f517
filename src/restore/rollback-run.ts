// Rollback: put every member's old data dir back (the restored one is moved aside, never deleted), start
// etcd and the services. Used automatically when a restore fails, and by `orchestrate restore --rollback`.
import { requireEtcd } from '../config/etcd-vars.js';
import type { EtcdMember, Inventory } from '../config/types.js';
import { ExitCode, RefusedError } from '../errors.js';
import type { OpenTransportsOptions } from '../transport/open-transports.js';
import type { Transport } from '../transport/types.js';
import {
  DEPLOY_HOST,
  journalPath,
  JournalWriter,
  readJournal,
  rollbackDone,
  type JournalStatus,
  type RestoreJournal,
  type RollbackPhase,
} from './journal.js';
import { buildRollbackPlan, DEFAULT_TIMEOUTS, type PlanTimeouts } from './plan.js';
import { rollbackAccessProblems } from './rollback-access.js';
import type { RestoreReport } from './report.js';
import { hostServices, topologyOf } from '../modules/restore/unit-commands.js';
import { previewPlan, runPhase, type PhaseOutcome, type RestoreEvent } from './run-phases.js';
import { connectAll, disconnectAll, hostsOf, now, type Session } from './session.js';
import type { ClusterVerdict } from '../modules/restore/verify-cluster.js';

export interface RollbackOutcome {
  status: JournalStatus;
  problems: string[];
  warnings: string[];
  verdict?: ClusterVerdict;
  phases: PhaseOutcome[];
  /** Host -> where the restored data was put aside, for members whose swap was undone. */
  restoredDataAt: Map<string, string>;
}

function shouldRunRollback(journal: RestoreJournal, phase: RollbackPhase, host: string): boolean {
  switch (phase) {
    case 'stop-kube-node':
    case 'stop-kube-master':
    case 'stop-etcd':
      return !(journal.rollback?.begun.includes('start-etcd') ?? false);
    case 'start-etcd':
      return !rollbackDone(journal, DEPLOY_HOST, 'verify-cluster');
    default:
      return !rollbackDone(journal, host, phase);
  }
}

/** Stops, swaps back and starts; halts (rollback-failed) when a stop or a swap-back fails, since going on could start etcd on the wrong data. */
export async function executeRollback(session: Session, writer: JournalWriter, reason: string): Promise<RollbackOutcome> {
  const journal = writer.journal;
  await writer.update((j) => {
    j.status = 'rolling-back';
    j.rollback ??= { reason, startedAt: now(), begun: [], done: {} };
  });
  const plan = buildRollbackPlan({ journal, members: session.members, services: session.services, timeouts: session.timeouts });
  const problems: string[] = [];
  const phases: PhaseOutcome[] = [];
  const restoredDataAt = new Map<string, string>();
  const onlyScratch = plan.length === 1;
  for (const phase of plan) {
    const outcome = await runPhase(phase, {
      inventory: session.inventory,
      transports: session.transports,
      dryRun: false,
      // A rollback is not interrupted half-way: it is what leaves the cluster usable.
      signal: new AbortController().signal,
      interruptible: new Set(),
      shouldRun: (id, host) => shouldRunRollback(writer.journal, id as RollbackPhase, host),
      onBegin: (id) =>
        writer.update((j) => {
          if (j.rollback && !j.rollback.begun.includes(id as RollbackPhase)) j.rollback.begun.push(id as RollbackPhase);
        }),
      onHostDone: (id, host, outcomes) => {
        const restoredAt = outcomes[0]?.result?.restored_data_at;
        if (id === 'revert-data' && typeof restoredAt === 'string') restoredDataAt.set(host, restoredAt);
        return writer.update((j) => {
          if (!j.rollback) return;
          const list = (j.rollback.done[host] ??= []);
          if (!list.includes(id as RollbackPhase)) list.push(id as RollbackPhase);
        });
      },
      emit: session.emit,
    });
    phases.push(outcome);
    for (const [host, message] of outcome.failures) problems.push(`${phase.id} on ${host === DEPLOY_HOST ? 'the deploy host' : host}: ${message}`);
    if (outcome.failures.size > 0 && ['stop-kube-node', 'stop-kube-master', 'stop-etcd', 'revert-data'].includes(phase.id)) break;
  }
  const lastVerdict = phases.find((p) => p.id === 'verify-cluster')?.outcomes.get(DEPLOY_HOST)?.[0]?.result?.verdict as ClusterVerdict | undefined;
  const warnings = lastVerdict?.warnings ?? [];
  const status: JournalStatus = problems.length > 0 ? 'rollback-failed' : onlyScratch ? 'aborted' : 'rolled-back';
  await writer.update((j) => {
    j.status = status;
    if (j.rollback) j.rollback.finishedAt = now();
  });
  return { status, problems, warnings, ...(lastVerdict ? { verdict: lastVerdict } : {}), phases, restoredDataAt };
}

/**
 * `--rollback` did what was asked when the old data is back (`rolled-back`), and also when the restore had
 * moved no data dir, so only its scratch had to go (`aborted`): the cluster is as it was before.
 */
export function rollbackExitCode(status: JournalStatus): number {
  return status === 'rolled-back' || status === 'aborted' ? ExitCode.ok : ExitCode.failed;
}

/** The preview of a rollback per member: a swap back only where the restore may have swapped. */
export function rollbackMemberLines(journal: RestoreJournal, members: readonly EtcdMember[]): string[] {
  const swapped = journal.begun.includes('swap-data');
  return members.map((m) => {
    const p = journal.members[m.host]!.paths;
    return swapped
      ? `  ${m.name} (${m.host}): ${p.asideDir} -> ${p.dataDir}; the restored data goes to ${p.restoredAsideDir}`
      : `  ${m.name} (${m.host}): ${p.dataDir} was never moved (it stays); ${p.newDir} and the snapshot copy are removed`;
  });
}

export interface RollbackRunOptions {
  inventory: Inventory;
  dryRun?: boolean;
  yes?: boolean;
  confirm?: (question: string) => Promise<boolean>;
  emit?: (event: RestoreEvent) => void;
  timeouts?: Partial<PlanTimeouts>;
  connect?: OpenTransportsOptions;
  /** Opens the connections instead of SSH from the inventory (unit tests pass fakes). */
  openConnections?: (hosts: readonly string[]) => Promise<Map<string, Transport>>;
}

/** `orchestrate restore --rollback INVENTORY`: undo the last restore recorded in the journal. */
export async function rollbackCluster(options: RollbackRunOptions): Promise<RestoreReport> {
  const started = Date.now();
  const emit = options.emit ?? (() => undefined);
  const { inventory } = options;
  const members = requireEtcd(inventory);
  topologyOf(inventory);
  const services = hostServices(inventory);
  const timeouts: PlanTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const journalFile = journalPath(inventory.dir, members[0]!.token);
  const journal = await readJournal(journalFile);
  if (!journal) {
    throw new RefusedError(
      `no restore of this cluster is recorded (${journalFile} does not exist); nothing to roll back`,
      'a rollback undoes a restore made by orchestrate from this inventory',
      'restore.nothing-to-roll-back',
    );
  }
  if (journal.status === 'rolled-back' || journal.status === 'aborted') {
    throw new RefusedError(
      `the last restore (${journal.runId}) ${journal.status === 'aborted' ? 'changed no data dir' : 'was already rolled back'}; nothing to roll back`,
      `its record is ${journalFile}`,
      'restore.nothing-to-roll-back',
    );
  }
  const unknown = members.filter((m) => !journal.members[m.host]).map((m) => m.host);
  if (unknown.length)
    throw new RefusedError(
      `the journal of restore ${journal.runId} has no record of ${unknown.join(', ')}`,
      'roll back with the inventory the restore ran with',
      'restore.journal-mismatch',
    );

  const plan = buildRollbackPlan({ journal, members, services, timeouts });
  const lines = [
    `Rollback of restore ${journal.runId} (${journal.status}) of etcd cluster "${journal.clusterToken}"`,
    ...rollbackMemberLines(journal, members),
    `  journal   ${journalFile}`,
  ];
  emit({ type: 'summary', text: `${lines.join('\n')}\n`, at: now() });
  const report: RestoreReport = {
    kind: 'rollback',
    runId: journal.runId,
    mode: journal.mode,
    dryRun: Boolean(options.dryRun),
    resumed: false,
    status: 'dry-run',
    exitCode: ExitCode.ok,
    snapshot: {
      path: journal.snapshot.path,
      sha256: journal.snapshot.sha256,
      revision: journal.snapshot.revision,
      totalKey: journal.snapshot.totalKey,
      size: journal.snapshot.size,
      takenAt: journal.snapshot.takenAt,
    },
    rto: { wallMs: 0, phases: [] },
    rpoMs: 0,
    members: members.map((m) => ({ host: m.host, name: m.name, dataDir: journal.members[m.host]!.paths.dataDir })),
    journal: journalFile,
    warnings: [],
  };
  // Reachability is checked under --dry-run too: a preview that cannot be carried out is worth knowing about.
  const hosts = hostsOf(members, services);
  const transports = options.openConnections ? await options.openConnections(hosts) : await connectAll(inventory, hosts, options.connect ?? {}, true);
  try {
    // Refuse up front, journal untouched, when a login cannot act as root: otherwise the rollback would stop
    // part-way (some members back on their old data, others not). Under --dry-run too, like the restore preflight.
    const accessProblems = await rollbackAccessProblems({ inventory, members, journal, plan, transports });
    if (accessProblems.length > 0) {
      throw new RefusedError(
        `rollback refused: commands must run as root on every host it touches; nothing was changed:\n  - ${accessProblems.join('\n  - ')}`,
        'fix what each line says (the journal is as it was), then run restore --rollback again',
        'restore.rollback-access',
      );
    }
    const printable = await previewPlan(plan, inventory, transports);
    emit({ type: 'plan', phases: printable, at: now() });
    if (options.dryRun) return { ...report, plan: printable };
    if (!options.yes) {
      if (!options.confirm)
        throw new RefusedError(
          'refusing to roll back without confirmation: no terminal and no --yes; nothing was changed',
          'run again with --yes',
          'restore.not-confirmed',
        );
      if (!(await options.confirm(`Put the old data dirs back on all ${members.length} members?`)))
        throw new RefusedError('not confirmed; nothing was changed', undefined, 'restore.not-confirmed');
    }
    const writer = new JournalWriter(journalFile, journal);
    const session: Session = { inventory, members, services, transports, timeouts, signal: new AbortController().signal, emit };
    const outcome = await executeRollback(session, writer, 'requested with --rollback');
    report.status = outcome.status;
    report.exitCode = rollbackExitCode(outcome.status);
    if (outcome.problems.length) report.failure = outcome.problems.join('; ');
    report.warnings.push(...outcome.warnings);
    if (outcome.verdict) report.verdict = outcome.verdict;
    report.rto = { wallMs: Date.now() - started, phases: outcome.phases.map((p) => ({ id: p.id, ms: p.ms })) };
    report.members = members.map((m) => {
      const restoredDataAt = outcome.restoredDataAt.get(m.host);
      return { host: m.host, name: m.name, dataDir: journal.members[m.host]!.paths.dataDir, ...(restoredDataAt ? { restoredDataAt } : {}) };
    });
    return report;
  } finally {
    await disconnectAll(transports);
  }
}
