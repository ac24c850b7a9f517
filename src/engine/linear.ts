// Ansible's linear strategy: each task runs on all hosts of the batch (up to --forks at once) before the
// next begins. A host that fails or cannot be reached leaves the play and the rest of the run.
import type { Playbook } from '../config/types.js';
import { ExitCode } from '../errors.js';
import { runTaskOnHost } from './execute-task.js';
import type { RunContext, TaskInvocation } from './invocation.js';
import { mapLimit } from './map-limit.js';
import type { RunRecorder } from './recorder.js';
import type { PlayScope } from './scope.js';
import type { EngineSession } from './session.js';
import { serialBatches, taskSelected, type TagFilter } from './selection.js';
import type { HostStats, Reporter, RunSummary, TaskRef } from './types.js';

export interface StrategyInput {
  session: EngineSession;
  run: RunContext;
  playbook: Playbook;
  /** Hosts each play selected (from the pre-check). */
  playHosts: string[][];
  forks: number;
  tags: TagFilter;
  reporter: Reporter;
  recorder: RunRecorder;
}

/** Returns whether the run was interrupted. */
export async function runLinear(input: StrategyInput): Promise<boolean> {
  const { run, playbook, reporter, recorder } = input;
  // Read afresh after every await: a Ctrl-C may come while a task runs.
  const interrupted = (): boolean => run.signal.aborted;
  for (const [index, play] of playbook.plays.entries()) {
    const selected = input.playHosts[index] ?? [];
    for (const host of selected) recorder.statsOf(host);
    const hosts = selected.filter((host) => !recorder.gone.has(host));
    const playName = play.name ?? play.hosts;
    await reporter.event({ type: 'play_start', play: playName, hosts });
    if (hosts.length === 0) {
      await reporter.event({ type: 'warning', message: `play "${playName}": no hosts left to run on` });
      continue;
    }
    const tasks = play.tasks.filter((task) => taskSelected(task, input.tags));
    for (const batch of serialBatches(hosts, play.serial)) {
      const playScope = playScopeOf(input, play, hosts, batch, selected);
      for (const task of tasks) {
        if (interrupted()) return true;
        const live = batch.filter((host) => !recorder.gone.has(host));
        if (live.length === 0) break;
        playScope.playHosts = hosts.filter((host) => !recorder.gone.has(host));
        const module = run.catalog.get(task.module);
        const ref: TaskRef = { play: playName, task: task.name ?? module.id, module: module.id, loc: task.loc };
        await reporter.event({ type: 'task_start', ...ref, hosts: task.runOnce ? live.slice(0, 1) : live });
        const invocation: TaskInvocation = { run, play, playScope, task, module, ref, onRetry: retryReporter(reporter, ref) };
        if (task.runOnce) await runOnce(invocation, live, input);
        else await mapLimit(live, input.forks, async (host) => recorder.record(ref, await runTaskOnHost(invocation, host)));
        if (interrupted()) return true;
      }
      if (batch.every((host) => recorder.gone.has(host))) {
        await reporter.event({ type: 'warning', message: `play "${playName}": every host of the batch failed or is unreachable; stopping` });
        return false;
      }
    }
  }
  return interrupted();
}

export function playScopeOf(
  input: Pick<StrategyInput, 'session' | 'run' | 'playbook'>,
  play: Playbook['plays'][number],
  hosts: string[],
  batch: string[],
  selected: string[],
): PlayScope {
  return {
    inventory: input.run.inventory,
    playVars: play.vars,
    extraVars: input.session.extraVars,
    facts: input.session.facts,
    playHosts: hosts,
    batch,
    allPlayHosts: selected,
    checkMode: input.run.dryRun,
    playbookFile: input.playbook.file,
  };
}

export function retryReporter(reporter: Reporter, ref: TaskRef): TaskInvocation['onRetry'] {
  return (host, attempt, retriesLeft, msg) =>
    reporter.event({ type: 'host_retry', ...ref, host, attempt, retriesLeft, ...(msg !== undefined ? { msg } : {}) });
}

/** `run_once`: the first host's result stands for every host of the batch: registered value, facts and, if it failed, the failure. */
export async function runOnce(invocation: TaskInvocation, live: string[], input: Pick<StrategyInput, 'session' | 'recorder'>): Promise<void> {
  const [first, ...others] = live as [string, ...string[]];
  const facts = input.session.facts;
  const before = { ...facts.of(first) };
  const result = await runTaskOnHost(invocation, first);
  await input.recorder.record(invocation.ref, result);
  const after = facts.of(first);
  const changedNames = Object.keys(after).filter((name) => !(name in before) || before[name] !== after[name]);
  for (const host of others) {
    for (const name of changedNames) facts.set(host, name, after[name]);
    await input.recorder.record(invocation.ref, { ...result, host, runOnceFrom: first, steps: [] });
  }
}

export function exitCodeOf(stats: Record<string, HostStats>, interrupted: boolean): RunSummary['exitCode'] {
  if (interrupted) return ExitCode.interrupted;
  const all = Object.values(stats);
  if (all.some((s) => s.failed > 0)) return ExitCode.failed;
  if (all.some((s) => s.unreachable > 0)) return ExitCode.unreachable;
  return ExitCode.ok;
}
