// Path 1, "start as is": start the intact members (playbooks/recover-start.yml), wait for the quorum, then
// replace the broken members one at a time (playbooks/member-replace.yml), journaled so that a re-run
// continues. Nothing here can lose committed data: the members started are a majority of intact ones, and a
// replaced member's old data is moved aside, never deleted.
import { ExitCode } from '../../errors.js';
import type { PhaseOutcome } from '../../engine/phased.js';
import type { ClusterVerdict } from '../../etcd/cluster/verdict.js';
import { archiveRecoverJournal, recoverJournalPath, RecoverJournalWriter, type RecoverJournal } from '../../etcd/member/journal.js';
import { newRunId } from '../../etcd/restore/paths.js';
import { packagePath } from '../../package-root.js';
import { Procedure } from '../procedure.js';
import { now, printablePlan, restoreEventsOf, type PrintablePhase } from '../restore/events.js';
import { failpoint } from '../restore/restore-policy.js';
import { openReplaceProcedure, readMemberConfigs, replaceMembers, type ReplaceOutcome } from './replace-run.js';
import { confirmOrRefuse, preflightOrRefuse, type CommonRunOptions } from './shared.js';

export const recoverStartPlaybookPath = packagePath('playbooks', 'recover-start.yml');

export interface StartPlan {
  start: string[];
  replace: string[];
  leave: { host: string; why: string }[];
}

export interface StartReport {
  runId: string;
  status: 'dry-run' | 'completed' | 'incomplete' | 'failed' | 'interrupted';
  exitCode: number;
  started: string[];
  replaced: { host: string; ok: boolean; oldDataAt?: string; failure?: string }[];
  left: { host: string; why: string }[];
  verdict?: ClusterVerdict;
  failure?: string;
  phases: { id: string; ms: number }[];
  plan?: PrintablePhase[];
  journal: string;
}

/** The full verification runs here only when nothing is replaced (a replace ends with its own) or left out. */
function startSkipTags(plan: StartPlan): string[] {
  return [
    'preflight',
    ...(plan.start.length === 0 ? ['start-etcd'] : []),
    ...(plan.replace.length > 0 || plan.leave.length > 0 ? ['verify-cluster'] : []),
  ];
}

function newJournal(options: CommonRunOptions, plan: StartPlan, token: string): RecoverJournal {
  const at = now();
  return {
    version: 1,
    kind: 'recover',
    runId: newRunId(),
    clusterToken: token,
    inventory: options.inventory.file,
    status: 'in-progress',
    startedAt: at,
    updatedAt: at,
    start: plan.start,
    replace: plan.replace,
    replaced: {},
    begun: [],
    done: {},
    marks: {},
  };
}

async function preview(
  options: CommonRunOptions,
  startProcedure: Procedure,
  replaceProcedure: Procedure,
  plan: StartPlan,
): Promise<PrintablePhase[]> {
  const phases: PrintablePhase[] = [];
  if (plan.start.length > 0)
    phases.push(...printablePlan(await startProcedure.pass({ dryRun: true, skipTags: startSkipTags(plan), onlyHosts: new Set(plan.start) })));
  for (const host of plan.replace) {
    const run = await replaceProcedure.pass({ dryRun: true, skipTags: ['preflight'], onlyHosts: new Set([host]) });
    phases.push(...printablePlan(run).map((p) => ({ ...p, id: `replace ${host}: ${p.id}` })));
  }
  options.emit({ type: 'plan', phases, at: now() });
  return phases;
}

/** Start the intact members and wait for the quorum; the journal skips a start already done. */
async function startIntact(
  options: CommonRunOptions,
  procedure: Procedure,
  writer: RecoverJournalWriter,
  plan: StartPlan,
): Promise<{ ok: boolean; phases: PhaseOutcome[]; failure?: string; interrupted: boolean; verdict?: ClusterVerdict }> {
  const hosts = plan.start.length > 0 ? plan.start : [...new Set([...plan.replace])];
  const run = await procedure.pass({
    dryRun: false,
    skipTags: startSkipTags(plan),
    onlyHosts: new Set(hosts),
    signal: options.signal,
    onEvent: restoreEventsOf(options.emit),
    policy: {
      shouldRun: (phase, host) => !writer.isDone(host, phase),
      onHostDone: async (phase, host) => {
        await writer.markDone(host, phase);
        failpoint(phase, host);
      },
      interruptible: () => false,
    },
  });
  const failed = run.failed;
  // The full verification when it ran (no member replaced or left out), else the quorum's.
  const verify = run.phases.find((p) => p.id === 'verify-cluster' && p.ran.length > 0) ?? run.phases.find((p) => p.id === 'verify-quorum');
  const verdict = verify?.results.get('localhost')?.[0]?.result.result.verdict as ClusterVerdict | undefined;
  return {
    ok: !failed && !run.interrupted,
    phases: run.phases,
    interrupted: run.interrupted,
    ...(verdict ? { verdict } : {}),
    ...(failed ? { failure: `${failed.id}: ${[...failed.failures.values()].join('; ')}` } : {}),
  };
}

function startVars(options: CommonRunOptions, runId: string): Record<string, string | number> {
  return { recover_run_id: runId, recover_service_timeout: options.timeouts.serviceSeconds, recover_etcd_timeout: options.timeouts.etcdSeconds };
}

export async function runStartPath(options: CommonRunOptions, plan: StartPlan, token: string, resuming?: RecoverJournal): Promise<StartReport> {
  const journalFile = recoverJournalPath(options.inventory.dir, token);
  const journal = resuming ?? newJournal(options, plan, token);
  const connection = options.connect;
  const startProcedure = await Procedure.open(
    {
      inventory: options.inventory,
      playbookFile: recoverStartPlaybookPath,
      extraVars: startVars(options, journal.runId),
      requiredPhases: ['preflight', 'start-etcd', 'verify-quorum'],
      connection,
      allowUnreachable: true,
    },
    !resuming,
  );
  const report: StartReport = {
    runId: journal.runId,
    status: 'dry-run',
    exitCode: ExitCode.ok,
    started: plan.start,
    replaced: [],
    left: plan.leave,
    phases: [],
    journal: journalFile,
  };
  try {
    const replaceProcedure = await openReplaceProcedure(options.inventory, journal.runId, options.timeouts, connection, startProcedure);
    await preflightOrRefuse(startProcedure, options.inventory, new Set([...plan.start, ...plan.replace]), 'recover.preflight-failed');
    // The replace's own preflight reads each broken member's configuration: its join is checked before anything starts.
    if (plan.replace.length > 0) await readMemberConfigs(replaceProcedure);
    if (plan.replace.length > 0) await preflightOrRefuse(replaceProcedure, options.inventory, new Set(plan.replace), 'recover.preflight-failed');
    report.plan = await preview(options, startProcedure, replaceProcedure, plan);
    if (options.dryRun) return report;
    await confirmOrRefuse(
      options,
      `Start ${plan.start.length ? plan.start.join(', ') : 'no member'} as they are${plan.replace.length ? ` and replace ${plan.replace.join(', ')} (old data moved aside)` : ''}?`,
      'recover.not-confirmed',
    );
    const resumed = resuming !== undefined;
    const writer = new RecoverJournalWriter(journalFile, journal);
    await writer.update((j) => void (j.marks[resumed ? `resumed-${Object.keys(j.marks).length}` : 'started'] = now()));
    const started = await startIntact(options, startProcedure, writer, plan);
    report.phases.push(...started.phases.filter((p) => p.ran.length > 0).map((p) => ({ id: p.id, ms: p.ms })));
    if (started.verdict) report.verdict = started.verdict;
    if (!started.ok)
      return await finish(
        writer,
        report,
        started.interrupted ? 'interrupted' : 'failed',
        `the intact members did not come back with a quorum: ${started.failure ?? 'interrupted'}`,
      );
    const outcomes: ReplaceOutcome[] = await replaceMembers(replaceProcedure, writer, plan.replace, options.emit, options.signal);
    report.replaced = outcomes.map((o) => ({
      host: o.host,
      ok: o.ok,
      ...(o.asideDir ? { oldDataAt: o.asideDir } : {}),
      ...(o.failure ? { failure: o.failure } : {}),
    }));
    for (const o of outcomes) report.phases.push(...o.phases.map((p) => ({ id: `replace ${o.host}: ${p.id}`, ms: p.ms })));
    const last = outcomes.at(-1);
    if (last?.verdict) report.verdict = last.verdict;
    if (last && !last.ok)
      return await finish(
        writer,
        report,
        last.interrupted ? 'interrupted' : 'failed',
        `replacing ${last.host} ${last.interrupted ? 'was interrupted' : `failed: ${last.failure ?? ''}`}; the cluster keeps its quorum; run recover again to finish`,
      );
    if (plan.leave.length > 0)
      return await finish(
        writer,
        report,
        'incomplete',
        `the quorum is back, but ${plan.leave.map((l) => `${l.host} (${l.why})`).join('; ')} was left as it is`,
      );
    return await finish(writer, report, 'completed');
  } finally {
    await startProcedure.close();
  }
}

async function finish(writer: RecoverJournalWriter, report: StartReport, status: StartReport['status'], failure?: string): Promise<StartReport> {
  report.status = status;
  report.exitCode = status === 'completed' ? ExitCode.ok : status === 'interrupted' ? ExitCode.interrupted : ExitCode.failed;
  if (failure) report.failure = failure;
  // An interrupted or failed run stays in progress: the next recover continues it.
  const done = status === 'completed' || status === 'incomplete';
  await writer.update((j) => {
    j.status = done ? 'completed' : 'in-progress';
    if (failure) j.error = failure;
    if (done) j.marks.finished = now();
  });
  if (done) await archiveRecoverJournal(writer.path, writer.journal.runId);
  return report;
}
