// One task on one host: delegation, `when`, loops, then the attempts (task-attempt.ts), and the result as
// the strategies and reporters see it (registered value, masked display, steps).
import { performance } from 'node:perf_hooks';
import type { Task } from '../config/types.js';
import { UnreachableError } from '../errors.js';
import { InterruptedError, messageOf } from '../modules/drive-plan.js';
import type { PlannedStep } from '../modules/step.js';
import { Masker } from '../util/mask.js';
import { Deferred, isDeferred, render } from '../template/index.js';
import { allConditions, describeCondition } from './conditions.js';
import type { RunContext, TaskInvocation } from './invocation.js';
import { secretsInScope } from './mask.js';
import { buildScope } from './scope.js';
import { runWithRetries, type Attempt } from './task-attempt.js';
import { runLoop, skippedAttempt } from './task-loop.js';
import type { HostTaskResult, ResultDisplay } from './types.js';

export type { RunContext, TaskInvocation } from './invocation.js';

export async function runTaskOnHost(invocation: TaskInvocation, hostName: string): Promise<HostTaskResult> {
  const { task, playScope, run } = invocation;
  const started = performance.now();
  const steps: PlannedStep[] = [];
  const scope = buildScope(playScope, hostName, taskExtras(task));
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
    if (task.delegateTo !== undefined && invocation.module.meta.runsOn === 'host') {
      delegatedTo = resolveDelegate(render(task.delegateTo, scope), run);
    }
    const at = { hostName, scope, masker, steps, delegatedTo };
    if (task.loop !== undefined) return finish(await runLoop(invocation, at));
    const when = allConditions(task.when, scope);
    if (when === false) return finish(skippedAttempt(task));
    const attempt = await runWithRetries(invocation, at);
    if (!isDeferred(when)) return finish(attempt);
    const note = `runs only if ${describeCondition(task.when)} (${String(when)})`;
    return finish({ ...attempt, note, planned: true, value: new Deferred(task.register ?? 'result') });
  } catch (error) {
    if (error instanceof UnreachableError) {
      return finish({ status: 'unreachable', value: { unreachable: true, msg: error.message }, msg: error.message, planned: false });
    }
    if (error instanceof InterruptedError || run.signal.aborted) {
      return finish({ status: 'failed', value: { failed: true, msg: 'interrupted' }, msg: 'interrupted', planned: false });
    }
    // Errors of the task itself (a template, a module's planning), located so the operator can find it.
    const msg = `${messageOf(error)} (${task.loc.file}:${task.loc.line})`;
    return finish({ status: 'failed', value: { failed: true, changed: false, msg }, msg, planned: false });
  }
}

export function taskExtras(task: Task): { taskVars?: Task['vars']; roleDefaults?: Task['roleDefaults'] } {
  return { ...(task.vars ? { taskVars: task.vars } : {}), ...(task.roleDefaults ? { roleDefaults: task.roleDefaults } : {}) };
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
