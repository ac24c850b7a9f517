// Module arguments: free-form and key=value forms normalised, then templated (shell-quoted where the
// module says its argument is a shell line).
import type { Task } from '../config/types.js';
import type { ModuleDefinition } from '../modules/define.js';
import { isDeferred, render, renderDeep } from '../template/index.js';
import type { Scope } from './scope.js';

export class ArgumentFormError extends Error {}

/** The task's arguments before templating, as an object the module's schema describes. */
export function normalizeArgs(task: Task, module: ModuleDefinition): Record<string, unknown> {
  const args = task.args;
  if (args === undefined || args === null) return {};
  if (typeof args === 'string') return fromRaw(args, {}, module);
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw new ArgumentFormError(`arguments of ${module.id} must be a mapping, got ${Array.isArray(args) ? 'a list' : typeof args}`);
  }
  const { _raw: raw, ...rest } = args as Record<string, unknown>;
  if (raw === undefined) return rest;
  if (typeof raw !== 'string') throw new ArgumentFormError(`the free-form argument of ${module.id} must be text`);
  return fromRaw(raw, rest, module);
}

function fromRaw(raw: string, rest: Record<string, unknown>, module: ModuleDefinition): Record<string, unknown> {
  if (module.freeForm) return { [module.freeForm]: raw, ...rest };
  return { ...parseKeyValues(raw, module.id), ...rest };
}

/** Ansible's `key=value key2="a b"` form; templates may contain spaces and quotes. */
export function parseKeyValues(text: string, moduleId = 'module'): Record<string, string> {
  const result: Record<string, string> = {};
  for (const token of splitTopLevel(text)) {
    const eq = token.indexOf('=');
    if (eq <= 0) {
      throw new ArgumentFormError(`${moduleId} takes key=value arguments; "${token}" has no "="`);
    }
    result[token.slice(0, eq)] = unquote(token.slice(eq + 1));
  }
  return result;
}

function splitTopLevel(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quote: string | undefined;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const pair = text.slice(i, i + 2);
    if (quote) {
      if (c === '\\' && i + 1 < text.length) {
        current += c + (text[i + 1] ?? '');
        i += 1;
        continue;
      }
      if (c === quote && depth === 0) quote = undefined;
      current += c;
      continue;
    }
    if (pair === '{{' || pair === '{%') {
      depth += 1;
      current += pair;
      i += 1;
      continue;
    }
    if ((pair === '}}' || pair === '%}') && depth > 0) {
      depth -= 1;
      current += pair;
      i += 1;
      continue;
    }
    if (depth === 0 && (c === '"' || c === "'")) quote = c;
    if (depth === 0 && /\s/.test(c)) {
      if (current !== '') tokens.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (current !== '') tokens.push(current);
  return tokens;
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
    return value.slice(1, -1).replace(/\\(["'\\])/g, '$1');
  }
  return value;
}

/** Template every argument; the module's shell-line arguments get each interpolated value quoted as one word. */
export function renderArgs(args: Record<string, unknown>, module: ModuleDefinition, scope: Scope): Record<string, unknown> {
  const shellArgs = new Set(module.shellArgs ?? []);
  const rendered: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    rendered[name] = shellArgs.has(name) && typeof value === 'string' ? render(value, scope, { shellQuote: true }) : renderDeep(value, scope);
  }
  return rendered;
}

/** True when a Deferred (a value known only at run time) is anywhere inside. */
export function containsDeferred(value: unknown, depth = 0): boolean {
  if (isDeferred(value)) return true;
  if (depth > 50) return false;
  if (Array.isArray(value)) return value.some((v) => containsDeferred(v, depth + 1));
  if (value && typeof value === 'object' && !(value instanceof Map)) return Object.values(value).some((v) => containsDeferred(v, depth + 1));
  return false;
}

/** Replace every Deferred with its `<deferred: ...>` text, so a plan can still be printed. */
export function showDeferred(value: unknown, depth = 0): unknown {
  // A rendered text keeps its literal parts with the placeholder inside (`echo <deferred: r.stdout>`).
  if (isDeferred(value)) return value.source.includes('<deferred: ') ? value.source : String(value);
  if (depth > 50) return value;
  if (Array.isArray(value)) return value.map((v) => showDeferred(v, depth + 1));
  if (value && typeof value === 'object' && !(value instanceof Map)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, showDeferred(v, depth + 1)]));
  }
  return value;
}
