// `loop` / `with_items`: the task once per item, each item's scope rebuilt so an earlier item's set_fact
// is visible to the next (kubeasz builds lists this way); Ansible's `results` list as the registered value.
import type { Task } from '../config/types.js';
import { Deferred, isDeferred, render, renderDeep } from '../template/index.js';
import { allConditions, describeCondition } from './conditions.js';
import { taskExtras } from './execute-task.js';
import type { TaskInvocation } from './invocation.js';
import { buildScope, type Scope } from './scope.js';
import { runWithRetries, type Attempt, type AttemptTarget } from './task-attempt.js';

export function skippedAttempt(task: Task): Attempt {
  const reason = `Conditional result was False (${describeCondition(task.when)})`;
  return {
    status: 'skipped',
    value: { changed: false, skipped: true, skip_reason: reason, false_condition: describeCondition(task.when) },
    msg: reason,
    planned: false,
  };
}

export async function runLoop(invocation: TaskInvocation, at: AttemptTarget): Promise<Attempt> {
  const { task, playScope } = invocation;
  const loopVar = task.loopVar ?? 'item';
  const extras = taskExtras(task);
  const items = loopItems(task.loop, buildScope(playScope, at.hostName, extras));
  if (isDeferred(items)) {
    // The list itself is known only at run time: plan one pass with a placeholder item.
    const scope = buildScope(playScope, at.hostName, { ...extras, loopVar, item: items });
    const attempt = await runWithRetries(invocation, { ...at, scope });
    return { ...attempt, planned: true, value: new Deferred(task.register ?? 'results'), note: `loops over ${String(items)}` };
  }
  const results: unknown[] = [];
  let changed = false;
  let failed = false;
  let planned = false;
  let allSkipped = true;
  let firstFailure: string | undefined;
  for (const item of items) {
    const scope = buildScope(playScope, at.hostName, { ...extras, loopVar, item });
    const when = allConditions(task.when, scope);
    const attempt = when === false ? skippedAttempt(task) : await runWithRetries(invocation, { ...at, scope });
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
  if (Array.isArray(value)) return value as unknown[];
  if (value instanceof Map) return [...(value as Map<unknown, unknown>).keys()];
  // JSON.stringify returns undefined for undefined (and functions), whatever its declared type says.
  throw new Error(
    `loop must be a list, got ${value === null ? 'null' : typeof value} (${((JSON.stringify(value) as string | undefined) ?? 'undefined').slice(0, 80)})`,
  );
}
