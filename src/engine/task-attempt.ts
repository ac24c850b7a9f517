// One attempt of a task on a host (one loop item): arguments rendered, the module driven by drivePlan on
// the host, its delegate or the deploy host; `until` retries; changed_when / failed_when.
import { setTimeout as sleep } from 'node:timers/promises';
import { implicitLocalhost } from '../config/host-pattern.js';
import type { Task } from '../config/types.js';
import { UnreachableError } from '../errors.js';
import type { ModuleContext } from '../modules/define.js';
import { drivePlan, InterruptedError } from '../modules/drive-plan.js';
import { transportTarget, type StepTarget } from '../modules/run-step.js';
import type { PlannedStep } from '../modules/step.js';
import type { Masker } from '../util/mask.js';
import { Deferred, isDeferred } from '../template/index.js';
import { containsDeferred, normalizeArgs, renderArgs, showDeferred } from './args.js';
import { allConditions, describeCondition } from './conditions.js';
import { localhostName } from './connections.js';
import type { RunContext, TaskInvocation } from './invocation.js';
import type { Scope } from './scope.js';

/** Ansible's defaults when `until` is set without them. */
const defaultRetries = 3;
const defaultDelaySeconds = 5;

/** How one run of the module went (one loop item, one attempt). */
export interface Attempt {
  status: 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';
  /** The registered value (a Deferred when the module's steps were only planned). */
  value: Record<string, unknown> | Deferred;
  msg?: string;
  planned: boolean;
  note?: string;
}

/** Where the task's steps go and what the module is told about its host. */
export interface AttemptTarget {
  hostName: string;
  scope: Scope;
  masker: Masker;
  steps: PlannedStep[];
  delegatedTo: string | undefined;
}

export async function runWithRetries(invocation: TaskInvocation, at: AttemptTarget): Promise<Attempt> {
  const { task, run } = invocation;
  const retries = task.until === undefined ? 0 : Math.max(0, task.retries ?? defaultRetries);
  const delayMs = (task.delay ?? defaultDelaySeconds) * 1000;
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce(invocation, at);
    if (outcome.status === 'unreachable' || outcome.planned || isDeferred(outcome.value)) return outcome;
    const judged = applyResultConditions(task, outcome, at.scope);
    if (task.until === undefined) return judged;
    const value = judged.value as Record<string, unknown>;
    value.attempts = attempt;
    const done = allConditions([task.until], withRegistered(at.scope, task, value));
    if (isDeferred(done) || done) return judged;
    if (attempt > retries) {
      const msg = `${judged.msg ? `${judged.msg}; ` : ''}until condition "${task.until}" still false after ${attempt} attempts`;
      return { ...judged, status: 'failed', msg, value: { ...value, failed: true } };
    }
    await invocation.onRetry(at.hostName, attempt, retries - attempt + 1, judged.msg);
    if (run.signal.aborted) throw new InterruptedError();
    try {
      await sleep(delayMs, undefined, { signal: run.signal });
    } catch {
      throw new InterruptedError();
    }
  }
}

/** `changed_when` and `failed_when`, evaluated with the registered name bound to this result. */
function applyResultConditions(task: Task, attempt: Attempt, scope: Scope): Attempt {
  if (isDeferred(attempt.value) || (task.changedWhen === undefined && task.failedWhen === undefined)) return attempt;
  if (attempt.status === 'skipped') return attempt;
  const value = { ...attempt.value };
  const bound = withRegistered(scope, task, value);
  let failed = attempt.status === 'failed';
  let changed = value.changed === true;
  let msg = attempt.msg;
  if (task.changedWhen !== undefined) {
    const decided = allConditions(task.changedWhen, bound);
    if (!isDeferred(decided)) {
      changed = decided;
      value.changed = decided;
    }
  }
  if (task.failedWhen !== undefined) {
    const decided = allConditions(task.failedWhen, bound);
    if (!isDeferred(decided)) {
      failed = decided;
      value.failed = decided;
      value.failed_when_result = decided;
      msg = decided ? `failed_when condition "${describeCondition(task.failedWhen)}" is true` : undefined;
      if (decided) value.msg = msg;
    }
  }
  const status: Attempt['status'] = failed ? 'failed' : changed ? 'changed' : 'ok';
  return { ...attempt, status, value, ...(msg !== undefined ? { msg } : { msg: undefined }) };
}

export function withRegistered(scope: Scope, task: Task, value: Record<string, unknown>): Scope {
  if (!task.register) return scope;
  const bound = Object.create(null) as Scope;
  Object.assign(bound, scope);
  bound[task.register] = value;
  return bound;
}

async function attemptOnce(invocation: TaskInvocation, at: AttemptTarget): Promise<Attempt> {
  const { run, task, module, playScope } = invocation;
  const { hostName, delegatedTo } = at;
  const rendered = renderArgs(normalizeArgs(task, module), module, at.scope);
  const deferredArgs = containsDeferred(rendered);
  // Modules that work on the deploy host (set_fact, debug, assert) keep run-time values as they are, so a
  // fact set from one stays a run-time value; the others get its `<deferred: ...>` text to plan with.
  const onDeployHost = module.meta.runsOn === 'deploy-host';
  const args = deferredArgs && !onDeployHost ? (showDeferred(rendered) as Record<string, unknown>) : rendered;
  // A delegate chosen by an earlier task that only ran as a plan (dry-run): plan against its placeholder.
  const delegateUnknown = delegatedTo !== undefined && !run.connections.isKnown(delegatedTo);
  const target = await stepTarget(run, onDeployHost, delegatedTo, delegateUnknown, hostName);
  if (target instanceof UnreachableError) {
    const msg = `${delegatedTo ? `delegate ${delegatedTo} is unreachable: ` : ''}${target.message}${target.hint ? ` (fix: ${target.hint})` : ''}`;
    return { status: 'unreachable', value: { unreachable: true, msg }, msg, planned: false };
  }
  const host = run.inventory.hosts.get(hostName) ?? implicitLocalhost(run.inventory, hostName);
  if (!host) throw new Error(`host ${hostName} is not in the inventory`);
  const become = task.become ?? invocation.play.become ?? run.connections.specFor(hostName).become;
  const context: ModuleContext = { host, inventory: run.inventory, vars: at.scope, dryRun: run.dryRun, become, state: run.state };
  const driven = await drivePlan(module, context, args, target, {
    dryRun: run.dryRun,
    deferredArgs: deferredArgs || delegateUnknown,
    become,
    signal: run.signal,
    ...(run.stepSignal ? { stepSignal: run.stepSignal } : {}),
    masker: at.masker,
  });
  at.steps.push(...driven.steps);
  const { outcome } = driven;
  if (outcome.facts && module.meta.setsFacts) playScope.facts.merge(hostName, outcome.facts);
  const status: Attempt['status'] = outcome.failed ? 'failed' : outcome.skipped ? 'skipped' : outcome.changed ? 'changed' : 'ok';
  if (driven.planned && (run.dryRun || deferredArgs || delegateUnknown)) {
    // Steps that were only printed have no results: later tasks see this as a run-time value.
    return { status, value: new Deferred(task.register ?? 'result'), ...(outcome.msg ? { msg: outcome.msg } : {}), planned: true };
  }
  const value: Record<string, unknown> = {
    ...(outcome.result ?? {}),
    changed: outcome.changed,
    failed: outcome.failed === true,
    ...(outcome.msg !== undefined ? { msg: outcome.msg } : {}),
    ...(outcome.skipped ? { skipped: true } : {}),
  };
  return { status, value, ...(outcome.msg !== undefined ? { msg: outcome.msg } : {}), planned: false };
}

async function stepTarget(
  run: RunContext,
  onDeployHost: boolean,
  delegatedTo: string | undefined,
  delegateUnknown: boolean,
  hostName: string,
): Promise<StepTarget | UnreachableError> {
  if (onDeployHost) return transportTarget(localhostName, undefined);
  if (delegateUnknown && delegatedTo !== undefined) return transportTarget(delegatedTo, undefined);
  const name = delegatedTo ?? hostName;
  const transport = await run.connections.get(name);
  if (transport instanceof UnreachableError) return transport;
  return transportTarget(name, transport, (other) => connectionTo(other, run));
}

/** Steps that name a host (`ExecStep.host`) reach only inventory hosts, over the run's own connections. */
async function connectionTo(name: string, run: RunContext): ReturnType<RunContext['connections']['get']> {
  if (!run.inventory.hosts.has(name)) throw new Error(`a step names host "${name}", which is not in the inventory`);
  return run.connections.get(name);
}
