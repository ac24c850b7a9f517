// One task on one host: when, loop, retries, the module's steps, changed_when/failed_when, register.
import { implicitLocalhost } from '../config/host-pattern.js';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Inventory, Play, Task } from '../config/types.js';
import { UnreachableError } from '../errors.js';
import type { ModuleContext, ModuleDefinition, ModuleOutcome } from '../modules/define.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { Transport } from '../transport/types.js';
import { Deferred, isDeferred, render, renderDeep } from '../template/index.js';
import { containsDeferred, normalizeArgs, renderArgs, showDeferred } from './args.js';
import { allConditions, describeCondition } from './conditions.js';
import { localhostName, type ConnectionPool } from './connections.js';
import { Masker, secretsInScope } from './mask.js';
import { buildScope, type PlayScope, type Scope } from './scope.js';
import { InterruptedError, isCleanupStep, runStep, type StepTarget } from './step-runner.js';
import type { HostTaskResult, PlannedStep, ResultDisplay, TaskRef } from './types.js';

export interface RunContext {
  inventory: Inventory;
  catalog: ModuleRegistry;
  connections: ConnectionPool;
  dryRun: boolean;
  signal: AbortSignal;
}

export interface TaskInvocation {
  run: RunContext;
  play: Play;
  playScope: PlayScope;
  task: Task;
  module: ModuleDefinition;
  ref: TaskRef;
  onRetry(host: string, attempt: number, retriesLeft: number, msg: string | undefined): void | Promise<void>;
}

/** Ansible's defaults when `until` is set without them. */
const defaultRetries = 3;
const defaultDelaySeconds = 5;

/** How one run of the module went (one loop item, one attempt). */
interface Attempt {
  status: 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';
  /** The registered value (a Deferred when the module's steps were only planned). */
  value: Record<string, unknown> | Deferred;
  msg?: string;
  planned: boolean;
  note?: string;
}

export async function runTaskOnHost(invocation: TaskInvocation, hostName: string): Promise<HostTaskResult> {
  const { task, playScope, run } = invocation;
  const started = performance.now();
  const steps: PlannedStep[] = [];
  const baseExtras = { ...(task.vars ? { taskVars: task.vars } : {}), ...(task.roleDefaults ? { roleDefaults: task.roleDefaults } : {}) };
  const scope = buildScope(playScope, hostName, baseExtras);
  const masker = new Masker(secretsInScope(scope));
  let delegatedTo: string | undefined;

  const finish = (attempt: Attempt): HostTaskResult => {
    const registered = attempt.value;
    if (task.register) playScope.facts.set(hostName, task.register, registered);
    const result = isDeferred(registered) ? { deferred: String(registered) } : registered;
    const base = {
      host: hostName,
      ...(delegatedTo !== undefined ? { delegatedTo } : {}),
      durationMs: performance.now() - started,
      result,
      display: displayOf(result, attempt.msg, masker),
      steps,
      ...(attempt.planned ? { planned: true } : {}),
      ...(attempt.note !== undefined ? { note: masker.mask(attempt.note) } : {}),
    };
    switch (attempt.status) {
      case 'failed':
        return { ...base, status: 'failed', msg: masker.mask(attempt.msg ?? 'failed'), ignored: task.ignoreErrors === true };
      case 'unreachable':
        return { ...base, status: 'unreachable', msg: masker.mask(attempt.msg ?? 'unreachable') };
      case 'skipped':
        return { ...base, status: 'skipped', reason: attempt.msg ?? 'Conditional result was False' };
      default:
        return { ...base, status: attempt.status };
    }
  };

  try {
    if (task.delegateTo !== undefined && !invocation.module.local) {
      delegatedTo = resolveDelegate(render(task.delegateTo, scope), run);
    }
    if (task.loop === undefined) {
      const when = allConditions(task.when, scope);
      if (when === false) return finish(skippedAttempt(task));
      const attempt = await runWithRetries(invocation, hostName, scope, masker, steps, delegatedTo);
      if (isDeferred(when)) attempt.note = `runs only if ${describeCondition(task.when)} (${String(when)})`;
      return finish(isDeferred(when) ? { ...attempt, planned: true, value: new Deferred(task.register ?? 'result') } : attempt);
    }
    return finish(await runLoop(invocation, hostName, masker, steps, delegatedTo));
  } catch (error) {
    if (error instanceof UnreachableError)
      return finish({ status: 'unreachable', value: { unreachable: true, msg: error.message }, msg: error.message, planned: false });
    if (error instanceof InterruptedError || run.signal.aborted) {
      return finish({ status: 'failed', value: { failed: true, msg: 'interrupted' }, msg: 'interrupted', planned: false });
    }
    // Errors of the task itself (a template, a module's planning), located so the operator can find it.
    const msg = `${messageOf(error)} (${task.loc.file}:${task.loc.line})`;
    return finish({ status: 'failed', value: { failed: true, changed: false, msg }, msg, planned: false });
  }
}

function skippedAttempt(task: Task): Attempt {
  const reason = `Conditional result was False (${describeCondition(task.when)})`;
  return {
    status: 'skipped',
    value: { changed: false, skipped: true, skip_reason: reason, false_condition: describeCondition(task.when) },
    msg: reason,
    planned: false,
  };
}

async function runLoop(
  invocation: TaskInvocation,
  hostName: string,
  masker: Masker,
  steps: PlannedStep[],
  delegatedTo: string | undefined,
): Promise<Attempt> {
  const { task, playScope } = invocation;
  const loopVar = task.loopVar ?? 'item';
  const extras = { ...(task.vars ? { taskVars: task.vars } : {}), ...(task.roleDefaults ? { roleDefaults: task.roleDefaults } : {}) };
  const items = loopItems(task.loop, buildScope(playScope, hostName, extras));
  if (isDeferred(items)) {
    // The list itself is known only at run time: plan one pass with a placeholder item.
    const scope = buildScope(playScope, hostName, { ...extras, loopVar, item: items });
    const attempt = await runWithRetries(invocation, hostName, scope, masker, steps, delegatedTo);
    return { ...attempt, planned: true, value: new Deferred(task.register ?? 'results'), note: `loops over ${String(items)}` };
  }
  const results: unknown[] = [];
  let changed = false;
  let failed = false;
  let planned = false;
  let allSkipped = true;
  let firstFailure: string | undefined;
  for (const item of items) {
    // Rebuilt per item: a set_fact in an earlier item is visible to the next (kubeasz builds lists this way).
    const scope = buildScope(playScope, hostName, { ...extras, loopVar, item });
    const when = allConditions(task.when, scope);
    let attempt: Attempt;
    if (when === false) attempt = skippedAttempt(task);
    else attempt = await runWithRetries(invocation, hostName, scope, masker, steps, delegatedTo);
    if (attempt.status === 'unreachable') return attempt;
    const value = isDeferred(attempt.value) ? { deferred: String(attempt.value) } : attempt.value;
    results.push({ ...value, [loopVar]: item, ansible_loop_var: loopVar });
    planned ||= attempt.planned || isDeferred(when);
    if (attempt.status !== 'skipped') allSkipped = false;
    if (attempt.status === 'changed') changed = true;
    if (attempt.status === 'failed') {
      failed = true;
      firstFailure ??= attempt.msg;
    }
  }
  const msg = failed ? `One or more items failed${firstFailure ? `: ${firstFailure}` : ''}` : 'All items completed';
  const status: Attempt['status'] = failed ? 'failed' : allSkipped && items.length > 0 ? 'skipped' : changed ? 'changed' : 'ok';
  const value: Record<string, unknown> = { results, changed, failed, msg, ...(status === 'skipped' ? { skipped: true } : {}) };
  return {
    status,
    value: planned ? new Deferred(task.register ?? 'results') : value,
    msg: status === 'skipped' ? 'all items skipped' : msg,
    planned,
  };
}

function loopItems(loop: unknown, scope: Scope): unknown[] | Deferred {
  const value = typeof loop === 'string' ? render(loop, scope) : renderDeep(loop, scope);
  if (isDeferred(value)) return value;
  if (Array.isArray(value)) return value;
  if (value instanceof Map) return [...value.keys()];
  throw new Error(`loop must be a list, got ${value === null ? 'null' : typeof value} (${JSON.stringify(value)?.slice(0, 80)})`);
}

async function runWithRetries(
  invocation: TaskInvocation,
  hostName: string,
  scope: Scope,
  masker: Masker,
  steps: PlannedStep[],
  delegatedTo: string | undefined,
): Promise<Attempt> {
  const { task, run } = invocation;
  const retries = task.until === undefined ? 0 : Math.max(0, task.retries ?? defaultRetries);
  const delayMs = (task.delay ?? defaultDelaySeconds) * 1000;
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce(invocation, hostName, scope, masker, steps, delegatedTo);
    if (outcome.status === 'unreachable' || outcome.planned || isDeferred(outcome.value)) return outcome;
    const judged = applyResultConditions(task, outcome, scope);
    if (task.until === undefined) return judged;
    const value = judged.value as Record<string, unknown>;
    value.attempts = attempt;
    const done = allConditions([task.until], withRegistered(scope, task, value));
    if (isDeferred(done) || done) return judged;
    if (attempt > retries) {
      return {
        ...judged,
        status: 'failed',
        msg: `${judged.msg ? `${judged.msg}; ` : ''}until condition "${task.until}" still false after ${attempt} attempts`,
        value: { ...value, failed: true },
      };
    }
    await invocation.onRetry(hostName, attempt, retries - attempt + 1, judged.msg);
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
  const value = { ...attempt.value };
  const bound = withRegistered(scope, task, value);
  let failed = attempt.status === 'failed';
  let changed = value.changed === true;
  let msg = attempt.msg;
  if (task.changedWhen !== undefined && attempt.status !== 'skipped') {
    const decided = allConditions(task.changedWhen, bound);
    if (!isDeferred(decided)) {
      changed = decided;
      value.changed = decided;
    }
  }
  if (task.failedWhen !== undefined && attempt.status !== 'skipped') {
    const decided = allConditions(task.failedWhen, bound);
    if (!isDeferred(decided)) {
      failed = decided;
      value.failed = decided;
      value.failed_when_result = decided;
      if (decided) {
        msg = `failed_when condition "${describeCondition(task.failedWhen)}" is true`;
        value.msg = msg;
      } else {
        msg = undefined;
      }
    }
  }
  const status: Attempt['status'] = attempt.status === 'skipped' ? 'skipped' : failed ? 'failed' : changed ? 'changed' : 'ok';
  return { ...attempt, status, value, ...(msg !== undefined ? { msg } : { msg: undefined }) };
}

function withRegistered(scope: Scope, task: Task, value: Record<string, unknown>): Scope {
  if (!task.register) return scope;
  const bound = Object.create(null) as Scope;
  Object.assign(bound, scope);
  bound[task.register] = value;
  return bound;
}

async function attemptOnce(
  invocation: TaskInvocation,
  hostName: string,
  scope: Scope,
  masker: Masker,
  steps: PlannedStep[],
  delegatedTo: string | undefined,
): Promise<Attempt> {
  const { run, task, module, playScope } = invocation;
  const rendered = renderArgs(normalizeArgs(task, module), module, scope);
  const deferredArgs = containsDeferred(rendered);
  if (!deferredArgs) {
    const problems = run.catalog.validate(module.id, rendered);
    if (problems.length > 0) {
      const msg = `invalid arguments for ${module.id}: ${problems.join('; ')}`;
      return { status: 'failed', value: { failed: true, changed: false, msg }, msg, planned: false };
    }
  }
  // Modules that run here (set_fact, debug, assert) keep run-time values as they are, so a fact set from
  // one stays a run-time value; the others get its `<deferred: ...>` text to plan with.
  const args = deferredArgs && !module.local ? (showDeferred(rendered) as Record<string, unknown>) : rendered;
  // A delegate chosen by an earlier task that only ran as a plan (dry-run): plan against its placeholder.
  const delegateUnknown = delegatedTo !== undefined && !run.connections.isKnown(delegatedTo);

  let target: StepTarget;
  if (module.local) {
    target = { name: localhostName };
  } else if (delegateUnknown) {
    target = { name: delegatedTo };
  } else {
    const name = delegatedTo ?? hostName;
    const transport = await run.connections.get(name);
    if (transport instanceof UnreachableError) {
      const msg = delegatedTo ? `delegate ${delegatedTo} is unreachable: ${transport.message}` : transport.message;
      const hint = transport.hint ? ` (fix: ${transport.hint})` : '';
      return { status: 'unreachable', value: { unreachable: true, msg: msg + hint }, msg: msg + hint, planned: false };
    }
    target = { transport, name, connect: (other) => connectionTo(other, run) };
  }

  const host = run.inventory.hosts.get(hostName) ?? implicitLocalhost(run.inventory, hostName);
  if (!host) throw new Error(`host ${hostName} is not in the inventory`);
  const become = task.become ?? invocation.play.become ?? run.connections.specFor(hostName).become;
  const context: ModuleContext = { host, inventory: run.inventory, vars: scope, dryRun: run.dryRun, become };
  const stepOptions = { dryRun: run.dryRun, deferredArgs: deferredArgs || delegateUnknown, become, signal: run.signal, masker };

  let planned = stepOptions.deferredArgs;
  let outcome: ModuleOutcome;
  const plan = module.plan(context, args);
  // After an interrupt only cleanup steps run. The plan hears of the interrupt once (through the error of
  // the step it stopped, or an InterruptedError at its next step), so it can yield them; then it is stopped.
  let toldOfInterrupt = false;
  try {
    let next = await plan.next();
    while (!next.done) {
      const pending = next.value;
      if (run.signal.aborted && !isCleanupStep(pending)) {
        if (toldOfInterrupt) throw new InterruptedError();
        toldOfInterrupt = true;
        next = await plan.throw(new InterruptedError());
        continue;
      }
      let ran: Awaited<ReturnType<typeof runStep>>;
      try {
        ran = await runStep(pending, target, stepOptions);
      } catch (error) {
        // Thrown into the plan at its yield: a plan that catches it can clean up or try another host.
        if (run.signal.aborted) toldOfInterrupt = true;
        next = await plan.throw(error);
        continue;
      }
      steps.push(ran.planned);
      if (!ran.planned.ran) planned = true;
      next = await plan.next(ran.result);
    }
    outcome = next.value;
  } catch (error) {
    if (stepOptions.deferredArgs && !(error instanceof InterruptedError)) {
      // A placeholder value the module could not plan with: say what it depends on instead of guessing.
      steps.push({ kind: 'exec', text: `(planned when known: ${messageOf(error)})`, readOnly: false, ran: false, on: target.name });
      return { status: 'changed', value: new Deferred(task.register ?? 'result'), planned: true };
    }
    throw error;
  }

  if (outcome.facts) playScope.facts.merge(hostName, outcome.facts);
  const status: Attempt['status'] = outcome.failed ? 'failed' : outcome.skipped ? 'skipped' : outcome.changed ? 'changed' : 'ok';
  if (planned && run.dryRun) {
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

/** Steps that name a host (`ExecStep.host`) reach only inventory hosts, over the run's own connections. */
async function connectionTo(name: string, run: RunContext): Promise<Transport | UnreachableError> {
  if (!run.inventory.hosts.has(name)) throw new Error(`a step names host "${name}", which is not in the inventory`);
  return run.connections.get(name);
}

/** `delegate_to`: an inventory host, or `localhost` for the deploy host. */
function resolveDelegate(value: unknown, run: RunContext): string {
  if (isDeferred(value)) {
    if (run.dryRun) return String(value);
    throw new Error(`delegate_to is known only at run time (${String(value)})`);
  }
  const name = String(value).trim();
  if (!run.connections.isKnown(name)) {
    throw new Error(`delegate_to "${name}" is not a host of the inventory (or localhost)`);
  }
  return name;
}

const tailLines = 10;
const tailChars = 2000;

function tail(text: unknown): string | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  const lines = text.split('\n');
  const kept = lines.slice(-tailLines).join('\n');
  return kept.length > tailChars ? kept.slice(-tailChars) : kept;
}

function displayOf(result: Record<string, unknown>, msg: string | undefined, masker: Masker): ResultDisplay {
  const display: ResultDisplay = {};
  const text = msg ?? (typeof result.msg === 'string' ? result.msg : undefined);
  if (text !== undefined) display.msg = masker.mask(text);
  if (typeof result.rc === 'number') display.rc = result.rc;
  const stdout = tail(result.stdout);
  const stderr = tail(result.stderr);
  if (stdout !== undefined) display.stdoutTail = masker.mask(stdout);
  if (stderr !== undefined) display.stderrTail = masker.mask(stderr);
  return display;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
