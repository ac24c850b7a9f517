// Ansible's linear strategy: each task runs on all hosts of the batch (up to --forks at once) before the
// next begins. A host that fails or cannot be reached leaves the play and the rest of the run.
import type { Playbook, Vars } from '../config/types.js';
import { ExitCode } from '../errors.js';
import { runTaskOnHost, type RunContext, type TaskInvocation } from './execute-task.js';
import type { FactStore } from './facts.js';
import { mapLimit } from './map-limit.js';
import type { PlayScope } from './scope.js';
import { serialBatches, taskSelected, type TagFilter } from './selection.js';
import type { HostPlan, HostStats, HostTaskResult, Reporter, RunEvent, RunSummary, TaskRef } from './types.js';

export interface LinearInput {
  run: RunContext;
  playbook: Playbook;
  /** Hosts each play selected (from the pre-check). */
  playHosts: string[][];
  extraVars: Vars;
  facts: FactStore;
  forks: number;
  tags: TagFilter;
  reporter: Reporter;
}

export interface LinearOutcome {
  stats: Record<string, HostStats>;
  results: RunSummary['results'];
  plan: HostPlan[];
  interrupted: boolean;
}

export async function runLinear(input: LinearInput): Promise<LinearOutcome> {
  const { run, playbook, reporter } = input;
  const stats = new Map<string, HostStats>();
  const results: RunSummary['results'] = [];
  const plans = new Map<string, HostPlan>();
  /** Hosts out of the run: failed (not ignored) or unreachable. */
  const gone = new Set<string>();
  const emit = async (event: RunEvent): Promise<void> => {
    await reporter.event(event);
  };
  const statsOf = (host: string): HostStats => {
    let entry = stats.get(host);
    if (!entry) {
      entry = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, ignored: 0 };
      stats.set(host, entry);
    }
    return entry;
  };
  const record = async (ref: TaskRef, result: HostTaskResult): Promise<void> => {
    const entry = statsOf(result.host);
    switch (result.status) {
      case 'ok':
        entry.ok += 1;
        break;
      case 'changed':
        entry.ok += 1;
        entry.changed += 1;
        break;
      case 'skipped':
        entry.skipped += 1;
        break;
      case 'unreachable':
        entry.unreachable += 1;
        gone.add(result.host);
        break;
      case 'failed':
        if (result.ignored) entry.ignored += 1;
        else {
          entry.failed += 1;
          gone.add(result.host);
        }
        break;
    }
    results.push({ ...ref, result });
    if (run.dryRun) {
      let plan = plans.get(result.host);
      if (!plan) {
        plan = { host: result.host, tasks: [] };
        plans.set(result.host, plan);
      }
      plan.tasks.push({
        ...ref,
        status: result.status,
        planned: result.planned === true,
        steps: result.steps,
        ...(result.note !== undefined
          ? { note: result.note }
          : result.status === 'skipped'
            ? { note: result.reason }
            : ref.module === 'debug' && result.display.msg !== undefined
              ? { note: result.display.msg }
              : {}),
        ...(result.status === 'failed' || result.status === 'unreachable' ? { note: result.msg } : {}),
      });
    }
    await emit({ type: 'host_result', ...ref, result });
  };

  let interrupted = false;
  plays: for (const [index, play] of playbook.plays.entries()) {
    const selected = input.playHosts[index] ?? [];
    for (const host of selected) statsOf(host);
    const hosts = selected.filter((host) => !gone.has(host));
    const playName = play.name ?? play.hosts;
    await emit({ type: 'play_start', play: playName, hosts });
    if (hosts.length === 0) {
      await emit({ type: 'warning', message: `play "${playName}": no hosts left to run on` });
      continue;
    }
    const tasks = play.tasks.filter((task) => taskSelected(task, input.tags));
    for (const batch of serialBatches(hosts, play.serial)) {
      const playScope: PlayScope = {
        inventory: run.inventory,
        playVars: play.vars,
        extraVars: input.extraVars,
        facts: input.facts,
        playHosts: hosts.filter((host) => !gone.has(host)),
        batch,
        allPlayHosts: selected,
        checkMode: run.dryRun,
        playbookFile: playbook.file,
      };
      for (const task of tasks) {
        if (run.signal.aborted) {
          interrupted = true;
          break plays;
        }
        const live = batch.filter((host) => !gone.has(host));
        if (live.length === 0) break;
        playScope.playHosts = hosts.filter((host) => !gone.has(host));
        const module = run.catalog.get(task.module);
        const ref: TaskRef = { play: playName, task: task.name ?? module.id, module: module.id, loc: task.loc };
        await emit({ type: 'task_start', ...ref, hosts: task.runOnce ? live.slice(0, 1) : live });
        const invocation: TaskInvocation = {
          run,
          play,
          playScope,
          task,
          module,
          ref,
          onRetry: (host, attempt, retriesLeft, msg) =>
            emit({ type: 'host_retry', ...ref, host, attempt, retriesLeft, ...(msg !== undefined ? { msg } : {}) }),
        };
        if (task.runOnce) {
          const [first] = live as [string, ...string[]];
          const before = { ...input.facts.of(first) };
          const result = await runTaskOnHost(invocation, first);
          await record(ref, result);
          // The one result stands for every host of the batch: registered value, facts and, if it failed, the failure.
          const after = input.facts.of(first);
          const changedNames = Object.keys(after).filter((name) => !(name in before) || before[name] !== after[name]);
          for (const host of live.slice(1)) {
            for (const name of changedNames) input.facts.set(host, name, after[name]);
            await record(ref, { ...result, host, runOnceFrom: first, steps: [] });
          }
        } else {
          await mapLimit(live, input.forks, async (host) => {
            const result = await runTaskOnHost(invocation, host);
            await record(ref, result);
          });
        }
        if (run.signal.aborted) {
          interrupted = true;
          break plays;
        }
      }
      if (batch.every((host) => gone.has(host))) {
        await emit({ type: 'warning', message: `play "${playName}": every host of the batch failed or is unreachable; stopping` });
        break plays;
      }
    }
  }
  return {
    stats: Object.fromEntries(stats),
    results,
    // Hosts in the order the plays selected them, not the order their results arrived.
    plan: [...stats.keys()].map((host) => plans.get(host)).filter((plan): plan is HostPlan => plan !== undefined),
    interrupted: interrupted || run.signal.aborted,
  };
}

export function exitCodeOf(stats: Record<string, HostStats>, interrupted: boolean): RunSummary['exitCode'] {
  if (interrupted) return ExitCode.interrupted;
  const all = Object.values(stats);
  if (all.some((s) => s.failed > 0)) return ExitCode.failed;
  if (all.some((s) => s.unreachable > 0)) return ExitCode.unreachable;
  return ExitCode.ok;
}
