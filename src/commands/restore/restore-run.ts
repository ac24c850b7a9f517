// `orchestrate restore`: the snapshot verified here, then playbooks/restore.yml run through the engine's
// journaled-phase strategy in three passes over one set of connections: the preflight (read-only), the
// preview (the whole procedure with only its read-only steps), and after confirmation the run itself,
// with a journal written after every phase of every host, automatic rollback when etcd is not healthy and
// verified, and a report with RTO and RPO. A re-run after an interruption continues from the journal.
import { rm } from 'node:fs/promises';
import { discardDecryptedSnapshots } from '../../remote/local-encryption.js';
import type { Inventory } from '../../config/types.js';
import { ConfigError, ExitCode, RefusedError } from '../../errors.js';
import type { ConnectionOptions } from '../../engine/connections.js';
import type { PhasedRun } from '../../engine/phased.js';
import type { ObserveCluster } from '../../etcd/cluster/observe.js';
import type { ClusterVerdict } from '../../etcd/cluster/verdict.js';
import { archiveJournal, DEPLOY_HOST, JournalWriter, type RestoreJournal } from '../../etcd/restore/journal.js';
import { acquireRestoreLock, type RunLock } from '../../etcd/restore/run-lock.js';
import { requireEtcd } from '../../config/etcd-vars.js';
import { packagePath } from '../../package-root.js';
import { Procedure } from '../procedure.js';
import { now, printablePlan, restoreEventsOf, type Emit } from './events.js';
import { readPreflight, type PreflightReading } from './preflight.js';
import { journalMembers, memberFacts, servicesByTopology, setSettledFacts, settleMembers, stateFromJournal } from './restore-members.js';
import { RunState } from '../../modules/run-state.js';
import { clusterObserver, observeClusterKey } from '../../modules/etcd-access.js';
import type { RestoreReport } from './report.js';
import { restorePolicy } from './restore-policy.js';
import { reportedDiff, restoreDataDiff } from './data-diff.js';
import { prepareRestore, type RestoreContext } from './restore-context.js';
import { openRollback, runRollback } from './rollback-run.js';
import { interruptedFailure, memberReports, rtoOf, summaryText, type PlanMember } from './summary.js';

export interface PlanTimeouts {
  /** Each group of units to stop or start, waiting for the state. */
  serviceSeconds: number;
  /** Quorum and verification after etcd starts. */
  etcdSeconds: number;
  /** One restore. */
  dataSeconds: number;
}

export const DEFAULT_TIMEOUTS: PlanTimeouts = { serviceSeconds: 90, etcdSeconds: 60, dataSeconds: 1800 };

export interface RestoreRunOptions {
  inventory: Inventory;
  /** A file, or `latest` (default): the newest verified snapshot. */
  snapshot?: string;
  dryRun?: boolean;
  yes?: boolean;
  acceptOldSnapshot?: boolean;
  /** Default 24 h. */
  maxSnapshotAgeMs?: number;
  /** `member` (default): each member restores its own dir; `deploy-host`: restored here and uploaded. */
  mode?: 'member' | 'deploy-host';
  /** Asks the operator on a terminal; leave out when there is none (then --yes is required). */
  confirm?: (question: string) => Promise<boolean>;
  emit?: Emit;
  timeouts?: Partial<PlanTimeouts>;
  connect?: ConnectionOptions;
  /** Hosts worked on at once in each phase (--forks; default 50). */
  forks?: number;
  /** Ctrl-C: stop at the next step boundary; the journal lets a re-run continue. */
  signal?: AbortSignal;
  /** The operator's copy of playbooks/restore.yml. */
  playbook?: string;
  /** The operator's copy of playbooks/restore-rollback.yml. */
  rollbackPlaybook?: string;
  /** How the members are asked for their state (tests give a fake; default: the etcd client). */
  observe?: ObserveCluster;
  /** false: no data diff in the preview (--no-diff; it reads every key of the snapshot and of the cluster). */
  diff?: boolean;
}

export const restorePlaybookPath = packagePath('playbooks', 'restore.yml');
/** Phases the restore's journal, rollback and report rely on. */
/** Hosts whose Kubernetes services a restore stops and starts; an inventory may have none. */
const KUBE_GROUPS = ['kube_master', 'kube_node'];
const REQUIRED_PHASES = ['preflight', 'restore-data', 'stop-etcd', 'swap-data', 'start-etcd', 'verify-cluster'];

export async function restoreCluster(options: RestoreRunOptions): Promise<RestoreReport> {
  // One restore or rollback of a cluster at a time; a dry run changes nothing and takes no lock.
  const lock = options.dryRun ? undefined : await acquireRestoreLock(options.inventory.dir, requireEtcd(options.inventory)[0]?.token ?? 'cluster');
  try {
    return await restoreLocked(options, lock);
  } finally {
    // An encrypted snapshot's clear temporary copy never outlives the run (a re-run decrypts it again).
    await discardDecryptedSnapshots();
    await lock?.release();
  }
}

async function restoreLocked(options: RestoreRunOptions, lock: RunLock | undefined): Promise<RestoreReport> {
  const ctx = await prepareRestore(options);
  await lock?.setRunId(ctx.runId);
  for (const note of lock?.notes ?? []) ctx.warn(note);
  const state = new RunState();
  if (options.observe) state.set(observeClusterKey, options.observe);
  const observe = (): ObserveCluster => clusterObserver(state, ctx.inventory);
  // A resumed run acts on the members as its journal recorded them, not as they read now (half of them moved).
  if (ctx.resuming) stateFromJournal(state, ctx.resuming, ctx.members);
  const procedure = await Procedure.open(
    {
      inventory: ctx.inventory,
      playbookFile: options.playbook ?? restorePlaybookPath,
      extraVars: restoreVars(ctx),
      hostFacts: memberFacts(ctx),
      requiredPhases: REQUIRED_PHASES,
      optionalGroups: KUBE_GROUPS,
      connection: options.connect ?? {},
      ...(options.forks !== undefined ? { forks: options.forks } : {}),
      state,
    },
    !ctx.resuming,
  );
  ctx.lap('connect');
  try {
    const preflight = await runPreflight(ctx, procedure);
    const { planMembers, bump } = settleMembers(ctx, preflight, state);
    setSettledFacts(ctx.inventory, planMembers, bump, ctx.snapshot.revision, (host, name, value) => procedure.setHostFact(host, name, value));
    if (bump === 0 && !ctx.resuming) ctx.warn(noBumpWarning(ctx.snapshot.revision));
    const current = ctx.resuming ? [] : await observe()(ctx.members, { timeoutMs: 2_000 });
    ctx.lap('preflight');
    // A resumed run shows no diff: the cluster is half restored, and the first run showed it.
    const diff = ctx.resuming || options.diff === false ? undefined : await restoreDataDiff(ctx, current);
    if (diff) ctx.lap('data-diff');
    const preview = await procedure.pass({ dryRun: true, skipTags: ['preflight', 'identities'] });
    const plan = printablePlan(preview);
    const services = servicesByTopology(ctx, state);
    const summary = summaryText({ ...ctx, services, current, planMembers, resuming: Boolean(ctx.resuming), preflight: preflight.facts, bump });
    ctx.emit({ type: 'summary', text: diff ? `${summary}\n${diff.text}` : summary, at: now() });
    ctx.emit({ type: 'plan', phases: plan, at: now() });
    ctx.lap('plan');
    const dataDiff = diff ? { dataDiff: reportedDiff(diff) } : {};
    if (options.dryRun) return { ...baseReport(ctx, planMembers), plan, ...dataDiff };
    await confirm(ctx, options);
    const writer = await startJournal(ctx, planMembers, state, bump, preflight.liveMembers);
    const run = await procedure.pass({
      dryRun: false,
      skipTags: ['preflight', 'identities'],
      policy: restorePolicy(writer, ctx.members, observe()),
      signal: ctx.signal,
      onEvent: restoreEventsOf(ctx.emit),
    });
    const startedKubeMaster = run.phases.find((p) => p.id === 'start-kube-master');
    if (startedKubeMaster && startedKubeMaster.ran.length > 0 && startedKubeMaster.failures.size === 0)
      await writer.mark('api-up', startedKubeMaster.endedAt);
    return { ...(await conclude(ctx, procedure, writer, run, planMembers, options)), ...dataDiff };
  } finally {
    await procedure.close();
    if (ctx.deployHost) await rm(ctx.deployHost.workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** What a restore without a revision bump means, for the preview. */
function noBumpWarning(revision: number): string {
  return (
    `revisions are not bumped (only etcd 3.5.10+'s etcdutl can): the restored cluster starts again at revision ${revision}, lower than ` +
    'what Kubernetes watchers last saw, so informers and watch caches may miss changes until they relist; restart kube-apiserver and the controllers after the restore'
  );
}

/** The variables restore.yml reads (documented at its top). */
function restoreVars(ctx: RestoreContext): Record<string, unknown> {
  return {
    restore_run_id: ctx.runId,
    restore_snapshot: ctx.snapshot.path,
    restore_snapshot_sha256: ctx.snapshot.sha256,
    restore_snapshot_revision: ctx.snapshot.revision,
    restore_snapshot_has_hash: ctx.snapshot.hasHash,
    restore_on: ctx.mode,
    restore_tool_here: ctx.deployHost?.tool ?? 'etcdutl',
    restore_work_dir: ctx.deployHost?.workDir ?? '',
    restore_service_timeout: ctx.timeouts.serviceSeconds,
    restore_etcd_timeout: ctx.timeouts.etcdSeconds,
    restore_data_timeout: ctx.timeouts.dataSeconds,
  };
}

/** Read-only: every host's access and configuration, every member's checks, then (unless resuming) the identities. */
async function runPreflight(ctx: RestoreContext, procedure: Procedure): Promise<PreflightReading> {
  const run = await procedure.pass({ dryRun: true, tags: ctx.resuming ? ['preflight'] : ['preflight', 'identities'] });
  const preflight = readPreflight(run, ctx.members);
  for (const warning of preflight.warnings) ctx.warn(warning);
  for (const note of preflight.notes) ctx.emit({ type: 'info', message: note, at: now() });
  if (preflight.problems.length > 0) {
    throw new RefusedError(
      `preflight failed, nothing was changed:\n  - ${preflight.problems.join('\n  - ')}`,
      'fix the problems above and run again',
      'restore.preflight-failed',
    );
  }
  return preflight;
}

async function confirm(ctx: RestoreContext, options: RestoreRunOptions): Promise<void> {
  if (options.yes) return;
  if (!options.confirm) {
    throw new RefusedError(
      'refusing to restore without confirmation: there is no terminal to ask on and --yes was not given; nothing was changed',
      'review the plan with --dry-run, then run again with --yes',
      'restore.not-confirmed',
    );
  }
  const question = `Replace the data of all ${ctx.members.length} etcd members with this snapshot (revision ${ctx.snapshot.revision}, ${Math.round(ctx.ageMs / 60_000)} min old)?`;
  if (!(await options.confirm(question)))
    throw new RefusedError('not confirmed; nothing was changed', 'run again and answer yes, or pass --yes', 'restore.not-confirmed');
  ctx.restartLap(); // the time spent waiting for an answer at the prompt is not the tool's
}

async function startJournal(
  ctx: RestoreContext,
  planMembers: readonly PlanMember[],
  state: RunState,
  bump: number,
  membersBefore: { name: string; peerUrls: string[] }[] | undefined,
): Promise<JournalWriter> {
  if (ctx.previous && !ctx.resuming) await archiveJournal(ctx.journalFile, ctx.previous);
  const { snapshot } = ctx;
  const journal: RestoreJournal = ctx.resuming ?? {
    version: 1,
    runId: ctx.runId,
    clusterToken: ctx.token,
    inventory: ctx.inventory.file,
    mode: ctx.mode,
    status: 'in-progress',
    startedAt: new Date(ctx.started).toISOString(),
    updatedAt: now(),
    snapshot: {
      path: snapshot.path,
      sha256: snapshot.sha256,
      size: snapshot.size,
      revision: snapshot.revision,
      totalKey: snapshot.totalKey,
      hasHash: snapshot.hasHash,
      takenAt: snapshot.takenAt,
      ...(snapshot.decryptedFrom ? { decryptedFrom: snapshot.decryptedFrom } : {}),
    },
    members: journalMembers(planMembers, state),
    begun: [],
    done: {},
    marks: {},
    bumpRevision: bump,
    ...(membersBefore ? { membersBefore } : {}),
  };
  const writer = new JournalWriter(ctx.journalFile, journal);
  await writer.update((j) => {
    j.marks[ctx.resuming ? `resumed-${Object.keys(j.marks).length}` : 'started'] = now();
    delete j.error;
  });
  return writer;
}

function baseReport(ctx: RestoreContext, planMembers: readonly PlanMember[]): RestoreReport {
  const { snapshot } = ctx;
  return {
    kind: 'restore',
    runId: ctx.runId,
    mode: ctx.mode,
    dryRun: ctx.dryRun,
    resumed: Boolean(ctx.resuming),
    status: 'dry-run',
    exitCode: ExitCode.ok,
    snapshot: {
      path: snapshot.path,
      sha256: snapshot.sha256,
      revision: snapshot.revision,
      totalKey: snapshot.totalKey,
      size: snapshot.size,
      takenAt: snapshot.takenAt,
    },
    rto: { wallMs: Date.now() - ctx.started, phases: [] },
    rpoMs: ctx.ageMs,
    members: planMembers.map((m) => ({
      host: m.member.host,
      name: m.member.name,
      dataDir: m.paths.dataDir,
      ...(m.hadOldData ? { oldDataAt: m.paths.asideDir } : {}),
    })),
    journal: ctx.journalFile,
    warnings: ctx.warnings,
  };
}

function describeFailures(run: PhasedRun): string {
  const failed = run.failed;
  if (!failed) return '';
  return `${failed.id} failed on ${[...failed.failures].map(([host, message]) => `${host === DEPLOY_HOST ? 'the deploy host' : host}: ${message}`).join('; ')}`;
}

/** After the run: interrupted (no rollback: the operator chooses), failed (rolled back), or completed. */
async function conclude(
  ctx: RestoreContext,
  procedure: Procedure,
  writer: JournalWriter,
  run: PhasedRun,
  planMembers: readonly PlanMember[],
  options: RestoreRunOptions,
): Promise<RestoreReport> {
  const report = baseReport(ctx, planMembers);
  const hadOld = new Map(planMembers.map((m) => [m.member.host, m.hadOldData]));
  const verdict = run.phases.find((p) => p.id === 'verify-cluster')?.results.get(DEPLOY_HOST)?.[0]?.result.result.verdict as
    ClusterVerdict | undefined;
  if (verdict) report.verdict = verdict;
  const failed = run.failed;
  if (run.interrupted) {
    await writer.update((j) => {
      j.error = 'interrupted';
    });
    report.status = writer.journal.status;
    report.exitCode = ExitCode.interrupted;
    report.failure = interruptedFailure(writer.journal, ctx.journalFile, failed?.id, run.phases.at(-1)?.id);
  } else if (
    failed &&
    (failed.id === 'start-kube-master' || failed.id === 'start-kube-node' || failed.id === 'cleanup' || isAfterVerification(run, failed.id))
  ) {
    // etcd is restored and verified: rolling its data back would not bring these services up.
    const copiesLeft = failed.id === 'cleanup' ? [...failed.failures.keys()] : await cleanUpAnyway(ctx, procedure, writer);
    await writer.update((j) => {
      j.status = 'completed';
      j.error = describeFailures(run);
      j.marks.finished = now();
    });
    report.status = 'completed';
    report.exitCode = failed.id === 'cleanup' ? ExitCode.ok : ExitCode.failed;
    const left = copiesLeftText(ctx, copiesLeft);
    if (failed.id === 'cleanup') ctx.warn(`cleanup: ${describeFailures(run)}${left}`);
    else report.failure = `${describeFailures(run)} - etcd itself is restored and verified; fix the service and start it${left}`;
  } else if (failed) {
    return rollBackAfterFailure(ctx, procedure, writer, run, report, options, hadOld);
  } else {
    await writer.update((j) => {
      j.status = 'completed';
      j.marks.finished = now();
    });
    report.status = 'completed';
  }
  report.members = memberReports(ctx.members, writer.journal, ctx.paths, hadOld);
  report.rto = rtoOf(writer.journal, ctx.started, run.phases, ctx.preparation);
  return report;
}

/**
 * A service failed to start after the verification, so the run stopped before its cleanup phase, and no later
 * command would run it: remove the snapshot copies now on every member that answers. Returns where they stay.
 */
async function cleanUpAnyway(ctx: RestoreContext, procedure: Procedure, writer: JournalWriter): Promise<string[]> {
  if (!procedure.hostsOf({ tags: ['cleanup'] }).size) return [];
  const cleanup = await procedure.pass({ dryRun: false, tags: ['cleanup'], policy: restorePolicy(writer, ctx.members), signal: ctx.signal });
  return cleanup.interrupted ? ctx.members.map((m) => m.host) : [...(cleanup.failed?.failures.keys() ?? [])];
}

/** "; the snapshot copy stays on ...: remove it once the member answers" (the copies are owner-only, but hold every Secret). */
function copiesLeftText(ctx: RestoreContext, hosts: readonly string[]): string {
  if (ctx.mode !== 'member') return '';
  const copies = hosts.flatMap((host) => {
    const copy = ctx.paths.get(host)?.snapshotCopy;
    return copy ? [`${host}:${copy}`] : [];
  });
  return copies.length ? `; the snapshot copy was not removed from ${copies.join(', ')}: remove it once the member answers` : '';
}

/** A phase the operator added after the verification failed: the data is restored and verified. */
function isAfterVerification(run: PhasedRun, failedId: string): boolean {
  const ids = run.phases.map((p) => p.id);
  const verified = ids.indexOf('verify-cluster');
  const verification = run.phases[verified];
  return verified >= 0 && ids.indexOf(failedId) > verified && verification !== undefined && verification.failures.size === 0;
}

async function rollBackAfterFailure(
  ctx: RestoreContext,
  procedure: Procedure,
  writer: JournalWriter,
  run: PhasedRun,
  report: RestoreReport,
  options: RestoreRunOptions,
  hadOld: Map<string, boolean>,
): Promise<RestoreReport> {
  const reason = describeFailures(run);
  ctx.emit({ type: 'warning', message: `${reason}; rolling back`, at: now() });
  await writer.update((j) => {
    j.error = reason;
  });
  let rollback;
  try {
    // A connection the failure dropped (an SSH session cut mid-step) is opened again first.
    await procedure.session.connections.reconnect();
    const rollbackProcedure = await openRollback(ctx.inventory, writer.journal, ctx.timeouts, options.rollbackPlaybook, procedure, {}, options.forks);
    rollback = await runRollback(rollbackProcedure, writer, ctx.members, reason, ctx.emit);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    rollback = await failedRollback(writer, error);
  }
  report.status = rollback.status;
  report.exitCode = ExitCode.failed;
  report.failure = reason;
  report.rollback = { status: rollback.status, problems: rollback.problems, warnings: rollback.warnings };
  report.members = memberReports(ctx.members, writer.journal, ctx.paths, hadOld, rollback);
  report.rto = rtoOf(writer.journal, ctx.started, [...run.phases, ...rollback.phases], ctx.preparation);
  return report;
}

/** The rollback could not even start (a host unreachable): the journal says so, and --rollback finishes it. */
async function failedRollback(writer: JournalWriter, error: unknown): Promise<Awaited<ReturnType<typeof runRollback>>> {
  const message = error instanceof Error ? error.message : String(error);
  await writer.update((j) => {
    j.status = 'rollback-failed';
    j.rollback ??= { reason: j.error ?? 'restore failed', startedAt: now(), begun: [], done: {} };
  });
  return { status: 'rollback-failed', problems: [`the rollback could not start: ${message}`], warnings: [], phases: [], restoredDataAt: new Map() };
}
