// The journaled-phase strategy, for procedures (restore, its rollback, backup): the playbook's phases run
// in order; inside a phase every host runs the phase's tasks in order, hosts in parallel (up to --forks,
// or in waves the command chooses), and the phase ends when every host is done. The command's policy
// says, per phase and host, whether it still has to run (the journal of an interrupted run), records what
// finished, and says which phases cancel their commands on Ctrl-C and which still run after a failure.
import type { Play } from '../config/types.js';
import { localhostName } from './connections.js';
import { runTaskOnHost } from './execute-task.js';
import type { TaskInvocation } from './invocation.js';
import { playScopeOf, retryReporter, type StrategyInput } from './linear.js';
import { mapLimit } from './map-limit.js';
import { proceduresPhases, type ProcedurePhase } from './phases.js';
import type { PlayScope } from './scope.js';
import type { HostTaskResult, TaskRef } from './types.js';

export interface PhasePolicy {
  /** False for a host that already did this phase in an earlier, interrupted run. Default: run. */
  shouldRun?(phase: string, host: string): boolean;
  /** Before any host starts the phase (journal: begun). */
  onBegin?(phase: string, hosts: readonly string[]): Promise<void>;
  /** A host starts the phase (its first task). */
  onHostStart?(phase: string, host: string): Promise<void>;
  /** A host finished every task of the phase (journal: done). */
  onHostDone?(phase: string, host: string, results: readonly TaskOutcome[]): Promise<void>;
  /** Groups of hosts run one after the other (asked just before the phase runs, never in a dry-run). */
  waves?(phase: string, hosts: readonly string[]): Promise<string[][]> | undefined;
  /** Ctrl-C cancels this phase's running commands (they change nothing the cluster uses). Default true. */
  interruptible?(phase: string): boolean;
  /** After `failed` failed, this phase still runs (a backup's record and metrics). Default false. */
  runsAfterFailure?(phase: string, failed: string): boolean;
}

/** One task's result on one host, with which task it was. */
export interface TaskOutcome {
  ref: TaskRef;
  result: HostTaskResult;
}

export type PhaseEvent =
  | { type: 'phase-start'; phase: string; title: string; hosts: string[]; at: string }
  | { type: 'task'; phase: string; host: string; ref: TaskRef; result: HostTaskResult; at: string }
  | { type: 'phase-end'; phase: string; ms: number; failures: Record<string, string>; skipped: string[]; at: string };

export interface PhaseOutcome {
  id: string;
  title: string;
  startedAt: Date;
  endedAt: Date;
  ms: number;
  /** Hosts (or `localhost`) the phase ran on. */
  ran: string[];
  /** Hosts left out by the policy (already done). */
  skipped: string[];
  /** Host -> what failed there (`<task name>: <message>`). */
  failures: Map<string, string>;
  /** Host -> the result of each of the phase's tasks, in order. */
  results: Map<string, TaskOutcome[]>;
}

export interface PhasedRun {
  phases: PhaseOutcome[];
  /** The first phase that failed on some host. */
  failed?: PhaseOutcome;
  interrupted: boolean;
}

export interface PhasedInput extends StrategyInput {
  policy: PhasePolicy;
  /** Stops the procedure between tasks and phases (the run context's signal may never fire, see policy.interruptible). */
  interrupt: AbortSignal;
  /** Run only on these hosts (a preflight of the hosts a rollback will touch). */
  onlyHosts?: ReadonlySet<string>;
  onEvent?(event: PhaseEvent): void;
}

const never = new AbortController().signal;

export async function runPhased(input: PhasedInput): Promise<PhasedRun> {
  const phases = proceduresPhases(input.playbook, input.tags, input.run.catalog);
  const outcome: PhasedRun = { phases: [], interrupted: false };
  const playScopes = new Map<Play, PlayScope>();
  for (const phase of phases) {
    if (input.interrupt.aborted && !input.run.dryRun) {
      outcome.interrupted = true;
      break;
    }
    if (outcome.failed && input.policy.runsAfterFailure?.(phase.id, outcome.failed.id) !== true) continue;
    const hosts = (input.playHosts[phase.playIndex] ?? []).filter((host) => input.onlyHosts?.has(host) ?? true);
    if (hosts.length === 0) continue;
    let playScope = playScopes.get(phase.play);
    if (!playScope) {
      playScope = playScopeOf(input, phase.play, hosts, hosts, hosts);
      playScopes.set(phase.play, playScope);
    }
    const ran = await runPhase(input, phase, hosts, playScope);
    outcome.phases.push(ran);
    if (ran.failures.size > 0) outcome.failed ??= ran;
  }
  if (input.interrupt.aborted && !input.run.dryRun) outcome.interrupted = true;
  return outcome;
}

async function runPhase(input: PhasedInput, phase: ProcedurePhase, hosts: string[], playScope: PlayScope): Promise<PhaseOutcome> {
  const { policy } = input;
  const startedAt = new Date();
  const targets = phase.once ? [phase.once.onDeployHost ? localhostName : (hosts[0] as string)] : hosts;
  const toRun = targets.filter((host) => policy.shouldRun?.(phase.id, host) ?? true);
  const outcome: PhaseOutcome = {
    id: phase.id,
    title: phase.title,
    startedAt,
    endedAt: startedAt,
    ms: 0,
    ran: toRun,
    skipped: targets.filter((host) => !toRun.includes(host)),
    failures: new Map(),
    results: new Map(),
  };
  input.onEvent?.({ type: 'phase-start', phase: phase.id, title: phase.title, hosts: toRun, at: startedAt.toISOString() });
  if (toRun.length > 0 && !input.run.dryRun) await policy.onBegin?.(phase.id, toRun);
  // A phase whose commands must finish (stopping, swapping, starting) gets a signal that never fires; the
  // interrupt still stops the procedure between tasks.
  const interruptible = policy.interruptible?.(phase.id) ?? true;
  const run = interruptible ? input.run : { ...input.run, signal: never, stepSignal: never };
  const waves = !input.run.dryRun && toRun.length > 1 && policy.waves ? await wavesOf(policy, phase.id, toRun) : [toRun];

  const runHost = async (target: string): Promise<void> => {
    const results: TaskOutcome[] = [];
    outcome.results.set(target, results);
    // A once-phase recorded as `localhost` still runs its tasks for the play's first host (delegated there).
    const hostName = target === localhostName && phase.once ? (hosts[0] as string) : target;
    if (!input.run.dryRun) await policy.onHostStart?.(phase.id, target);
    for (const task of phase.tasks) {
      if (input.interrupt.aborted && !input.run.dryRun) {
        outcome.failures.set(target, 'interrupted before this step');
        return;
      }
      const module = run.catalog.get(task.module);
      const ref: TaskRef = { play: phase.play.name ?? phase.play.hosts, task: task.name ?? module.id, module: module.id, loc: task.loc };
      const invocation: TaskInvocation = { run, play: phase.play, playScope, task, module, ref, onRetry: retryReporter(input.reporter, ref) };
      const before = phase.once ? { ...input.session.facts.of(hostName) } : undefined;
      const result = await runTaskOnHost(invocation, hostName);
      results.push({ ref, result });
      await input.recorder.record(ref, target === hostName ? result : { ...result, host: target });
      if (before) copyNewFacts(input, hostName, before, hosts);
      input.onEvent?.({ type: 'task', phase: phase.id, host: target, ref, result, at: new Date().toISOString() });
      if (result.status === 'unreachable' || (result.status === 'failed' && !result.ignored)) {
        outcome.failures.set(target, `${ref.task}: ${result.msg}`);
        return;
      }
    }
    if (!input.run.dryRun) await policy.onHostDone?.(phase.id, target, results);
  };
  for (const wave of waves) await mapLimit(wave, input.forks, runHost);
  outcome.endedAt = new Date();
  outcome.ms = outcome.endedAt.getTime() - startedAt.getTime();
  const failures = Object.fromEntries(outcome.failures);
  input.onEvent?.({ type: 'phase-end', phase: phase.id, ms: outcome.ms, failures, skipped: outcome.skipped, at: outcome.endedAt.toISOString() });
  return outcome;
}

async function wavesOf(policy: PhasePolicy, phase: string, hosts: string[]): Promise<string[][]> {
  try {
    return (await policy.waves?.(phase, hosts)) ?? [hosts];
  } catch {
    return [hosts];
  }
}

/** What a once-task registered or set is every host's, as with `run_once` in the linear strategy. */
function copyNewFacts(input: PhasedInput, from: string, before: Record<string, unknown>, hosts: readonly string[]): void {
  const facts = input.session.facts;
  const after = facts.of(from);
  const changed = Object.keys(after).filter((name) => !(name in before) || before[name] !== after[name]);
  for (const host of hosts) if (host !== from) for (const name of changed) facts.set(host, name, after[name]);
}
