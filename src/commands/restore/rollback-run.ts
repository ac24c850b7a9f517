// Rollback: playbooks/restore-rollback.yml through the journaled-phase strategy: put every member's old
// data dir back (the restored one is moved aside, never deleted), start etcd and the services. Run on its
// own when a restore fails, and by `orchestrate restore --rollback`.
import { requireEtcd } from '../../config/etcd-vars.js';
import type { EtcdMember, Inventory } from '../../config/types.js';
import { ExitCode, RefusedError } from '../../errors.js';
import type { ConnectionOptions } from '../../engine/connections.js';
import type { PhaseOutcome } from '../../engine/phased.js';
import type { ClusterVerdict } from '../../etcd/cluster/verdict.js';
import { DEPLOY_HOST, journalPath, JournalWriter, readJournal, type JournalStatus, type RestoreJournal } from '../../etcd/restore/journal.js';
import { acquireRestoreLock, type RunLock } from '../../etcd/restore/run-lock.js';
import { checkTopologyVariable } from '../../etcd/restore/unit-commands.js';
import { packagePath } from '../../package-root.js';
import { Procedure } from '../procedure.js';
import { now, printablePlan, restoreEventsOf, type Emit } from './events.js';
import { readPreflight } from './preflight.js';
import type { RestoreReport } from './report.js';
import { stateFromJournal } from './restore-members.js';
import { rollbackPolicy, rollbackSkippedPhases } from './restore-policy.js';
import { RunState } from '../../modules/run-state.js';
import { clusterObserver } from '../../modules/etcd-access.js';
import { DEFAULT_TIMEOUTS, type PlanTimeouts } from './restore-run.js';

export const rollbackPlaybookPath = packagePath('playbooks', 'restore-rollback.yml');
/** Hosts whose Kubernetes services a restore stops and starts; an inventory may have none. */
const KUBE_GROUPS = ['kube_master', 'kube_node'];
const REQUIRED_PHASES = ['stop-etcd', 'revert-data', 'start-etcd', 'verify-cluster'];

export interface RollbackOutcome {
  status: JournalStatus;
  problems: string[];
  warnings: string[];
  verdict?: ClusterVerdict;
  phases: PhaseOutcome[];
  /** Host -> where the restored data was put aside, for members whose swap was undone. */
  restoredDataAt: Map<string, string>;
}

/** The rollback procedure of a journal's run (over the restore's connections when given). */
export async function openRollback(
  inventory: Inventory,
  journal: RestoreJournal,
  timeouts: PlanTimeouts,
  playbook: string | undefined,
  over?: Procedure,
  connection: ConnectionOptions = {},
  forks?: number,
): Promise<Procedure> {
  const members = requireEtcd(inventory);
  // The rollback acts on the members as the restore recorded them, and verifies against what the cluster was.
  const state = new RunState();
  stateFromJournal(state, journal, members);
  return Procedure.open(
    {
      inventory,
      playbookFile: playbook ?? rollbackPlaybookPath,
      extraVars: { restore_run_id: journal.runId, restore_service_timeout: timeouts.serviceSeconds, restore_etcd_timeout: timeouts.etcdSeconds },
      hostFacts: new Map(members.map((m) => [m.host, { restore_had_old_data: journal.members[m.host]?.hadOldData ?? true }])),
      requiredPhases: REQUIRED_PHASES,
      optionalGroups: KUBE_GROUPS,
      connection,
      ...(forks !== undefined ? { forks } : {}),
      state,
    },
    true,
    over,
  );
}

/** Stops, swaps back and starts; halts (rollback-failed) when a stop or a swap-back fails, since going on could start etcd on the wrong data. */
export async function runRollback(
  procedure: Procedure,
  writer: JournalWriter,
  members: readonly EtcdMember[],
  reason: string,
  emit: Emit,
): Promise<RollbackOutcome> {
  await writer.update((j) => {
    j.status = 'rolling-back';
    j.rollback ??= { reason, startedAt: now(), begun: [], done: {} };
  });
  const skipped = rollbackSkippedPhases(writer.journal);
  const restoredDataAt = new Map<string, string>();
  const run = await procedure.pass({
    dryRun: false,
    skipTags: ['preflight', ...skipped],
    policy: rollbackPolicy(writer, members, restoredDataAt, clusterObserver(procedure.session.state, procedure.session.inventory)),
    onEvent: restoreEventsOf(emit),
  });
  const problems = run.phases.flatMap((phase) =>
    [...phase.failures].map(([host, message]) => `${phase.id} on ${host === DEPLOY_HOST ? 'the deploy host' : host}: ${message}`),
  );
  const verdict = run.phases.find((p) => p.id === 'verify-cluster')?.results.get(DEPLOY_HOST)?.[0]?.result.result.verdict as
    ClusterVerdict | undefined;
  const onlyScratch = skipped.includes('start-etcd');
  const status: JournalStatus = problems.length > 0 ? 'rollback-failed' : onlyScratch ? 'aborted' : 'rolled-back';
  await writer.update((j) => {
    j.status = status;
    if (j.rollback) j.rollback.finishedAt = now();
  });
  return { status, problems, warnings: verdict?.warnings ?? [], ...(verdict ? { verdict } : {}), phases: run.phases, restoredDataAt };
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
    const p = journal.members[m.host]?.paths;
    if (!p) return `  ${m.name} (${m.host}): not in the journal`;
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
  emit?: Emit;
  timeouts?: Partial<PlanTimeouts>;
  connect?: ConnectionOptions;
  /** Hosts worked on at once in each phase (--forks; default 50). */
  forks?: number;
  /** The operator's copy of playbooks/restore-rollback.yml. */
  rollbackPlaybook?: string;
}

/** `orchestrate restore --rollback INVENTORY`: undo the last restore recorded in the journal. */
export async function rollbackCluster(options: RollbackRunOptions): Promise<RestoreReport> {
  // The same lock as a restore of the cluster: never two runs moving its data dirs at once.
  const lock = options.dryRun ? undefined : await acquireRestoreLock(options.inventory.dir, requireEtcd(options.inventory)[0]?.token ?? 'cluster');
  try {
    return await rollbackLocked(options, lock);
  } finally {
    await lock?.release();
  }
}

async function rollbackLocked(options: RollbackRunOptions, lock: RunLock | undefined): Promise<RestoreReport> {
  const started = Date.now();
  const emit = options.emit ?? (() => undefined);
  const { inventory } = options;
  const members = requireEtcd(inventory);
  checkTopologyVariable(inventory);
  const timeouts: PlanTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const journalFile = journalPath(inventory.dir, members[0]?.token ?? 'cluster');
  const journal = await journalToUndo(journalFile, members);
  await lock?.setRunId(journal.runId);
  for (const note of lock?.notes ?? []) emit({ type: 'warning', message: note, at: now() });
  const lines = [
    `Rollback of restore ${journal.runId} (${journal.status}) of etcd cluster "${journal.clusterToken}"`,
    ...rollbackMemberLines(journal, members),
    `  journal   ${journalFile}`,
  ];
  emit({ type: 'summary', text: `${lines.join('\n')}\n`, at: now() });
  const report = rollbackReport(journal, journalFile, members, options.dryRun === true);
  // Reachability and the login are checked under --dry-run too: a preview that cannot be carried out is worth knowing about.
  const procedure = await openRollback(inventory, journal, timeouts, options.rollbackPlaybook, undefined, options.connect ?? {}, options.forks);
  try {
    await checkRollbackAccess(procedure, members, journal);
    const preview = await procedure.pass({ dryRun: true, skipTags: ['preflight', ...rollbackSkippedPhases(journal)] });
    const plan = printablePlan(preview);
    emit({ type: 'plan', phases: plan, at: now() });
    if (options.dryRun) return { ...report, plan };
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
    const outcome = await runRollback(procedure, new JournalWriter(journalFile, journal), members, 'requested with --rollback', emit);
    report.status = outcome.status;
    report.exitCode = rollbackExitCode(outcome.status);
    if (outcome.problems.length) report.failure = outcome.problems.join('; ');
    report.warnings.push(...outcome.warnings);
    if (outcome.verdict) report.verdict = outcome.verdict;
    report.rto = { wallMs: Date.now() - started, phases: outcome.phases.map((p) => ({ id: p.id, ms: p.ms })) };
    report.members = members.map((m) => {
      const restoredDataAt = outcome.restoredDataAt.get(m.host);
      return {
        host: m.host,
        name: m.name,
        dataDir: journal.members[m.host]?.paths.dataDir ?? m.dataDir,
        ...(restoredDataAt ? { restoredDataAt } : {}),
      };
    });
    return report;
  } finally {
    await procedure.close();
  }
}

async function journalToUndo(journalFile: string, members: readonly EtcdMember[]): Promise<RestoreJournal> {
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
  return journal;
}

/** Refuse up front, journal untouched, when a login cannot act as root: otherwise the rollback would stop part-way. */
async function checkRollbackAccess(procedure: Procedure, members: readonly EtcdMember[], journal: RestoreJournal): Promise<void> {
  // Only the hosts the rollback will touch (dropping scratch touches the members only).
  const touched = procedure.hostsOf({ skipTags: ['preflight', ...rollbackSkippedPhases(journal)] });
  const preflight = readPreflight(await procedure.pass({ dryRun: true, tags: ['preflight'], onlyHosts: touched }), members, { memberFacts: false });
  if (preflight.problems.length === 0) return;
  throw new RefusedError(
    `rollback refused: commands must run as root on every host it touches; nothing was changed:\n  - ${preflight.problems.join('\n  - ')}`,
    'fix what each line says (the journal is as it was), then run restore --rollback again',
    'restore.rollback-access',
  );
}

function rollbackReport(journal: RestoreJournal, journalFile: string, members: readonly EtcdMember[], dryRun: boolean): RestoreReport {
  return {
    kind: 'rollback',
    runId: journal.runId,
    mode: journal.mode,
    dryRun,
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
    members: members.map((m) => ({ host: m.host, name: m.name, dataDir: journal.members[m.host]?.paths.dataDir ?? m.dataDir })),
    journal: journalFile,
    warnings: [],
  };
}
