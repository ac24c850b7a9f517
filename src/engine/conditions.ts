// `when`, `until`, `changed_when`, `failed_when`: bare expressions (or `{{ }}` templates) made booleans.
import { Deferred, evaluate, isDeferred, render, truthy } from '../template/index.js';
import type { Scope } from './scope.js';

/** true/false, or a Deferred when the answer is only known at run time (dry-run, pre-check). */
export function evaluateCondition(condition: unknown, scope: Scope): boolean | Deferred {
  if (typeof condition === 'boolean') return condition;
  if (condition === null || condition === undefined) return false;
  if (typeof condition === 'number') return condition !== 0;
  const text = typeof condition === 'string' ? condition : JSON.stringify(condition);
  let value: unknown;
  if (text.includes('{{') || text.includes('{%')) {
    value = render(text, scope);
    // `when: "{{ x }} == 1"` renders to an expression text; Ansible evaluates that again.
    if (typeof value === 'string' && !isDeferred(value)) value = evaluateText(value, scope);
  } else {
    value = evaluate(text, scope);
  }
  return isDeferred(value) ? value : truthy(value);
}

function evaluateText(text: string, scope: Scope): unknown {
  const trimmed = text.trim();
  if (/^(true|yes|on)$/i.test(trimmed)) return true;
  if (/^(false|no|off|)$/i.test(trimmed)) return false;
  return evaluate(trimmed, scope);
}

/** All conditions must hold (Ansible joins a list with `and`); Deferred as soon as one is unknown. */
export function allConditions(conditions: readonly unknown[] | undefined, scope: Scope): boolean | Deferred {
  if (!conditions || conditions.length === 0) return true;
  for (const condition of conditions) {
    const value = evaluateCondition(condition, scope);
    if (isDeferred(value)) return value;
    if (!value) return false;
  }
  return true;
}

export function describeCondition(conditions: readonly unknown[] | undefined): string {
  return (conditions ?? []).map(String).join(' and ');
}
