// The shape of filters and tests, and Python-style binding of their arguments.
import { TemplateError } from './errors.js';
import { didYouMean } from './suggest.js';
import { typeName } from './values.js';
import { isMapping } from './access.js';

export interface FilterContext {
  /** Source text of the filter's input and positional arguments, for messages. */
  inputText: string;
  argTexts: string[];
  /** `argTexts`: source text of `args`, for messages of the inner filter. */
  applyFilter(name: string, input: unknown, args: unknown[], kwargs: Map<string, unknown>, argTexts?: string[]): unknown;
  applyTest(name: string, value: unknown, args: unknown[], kwargs: Map<string, unknown>, argTexts?: string[]): boolean;
}

export interface FilterSpec {
  /**
   * Parameter names in order. `*name` takes the remaining positional arguments (as a list) and makes
   * later parameters keyword-only; `**name` takes unknown keyword arguments (as a Map).
   */
  params: string[];
  /** Receives an undefined input instead of failing on it (default, mandatory). */
  acceptsUndefined?: boolean;
  /** Bound arguments: `undefined` where not given. */
  apply(input: unknown, args: unknown[], ctx: FilterContext): unknown;
}

export interface TestSpec {
  params: string[];
  acceptsUndefined?: boolean;
  apply(value: unknown, args: unknown[], ctx: FilterContext): boolean;
}

export function bindArguments(what: string, params: readonly string[], args: readonly unknown[], kwargs: ReadonlyMap<string, unknown>): unknown[] {
  const bound: unknown[] = params.map(() => undefined);
  let positional = 0;
  let keywordOnly = false;
  params.forEach((param, i) => {
    if (param.startsWith('**')) {
      bound[i] = new Map<string, unknown>();
    } else if (param.startsWith('*')) {
      bound[i] = args.slice(positional);
      positional = args.length;
      keywordOnly = true;
    } else if (!keywordOnly && positional < args.length) {
      bound[i] = args[positional++];
    }
  });
  if (positional < args.length) {
    throw new TemplateError(`${what} takes at most ${positional} positional argument(s), ${args.length} given`);
  }
  const named = params.filter((param) => !param.startsWith('*'));
  const collector = params.findIndex((param) => param.startsWith('**'));
  for (const [key, value] of kwargs) {
    const index = params.indexOf(key);
    if (index < 0) {
      const extra = bound[collector];
      if (extra instanceof Map) {
        extra.set(key, value);
        continue;
      }
      throw new TemplateError(`${what} got an unexpected keyword argument "${key}"${didYouMean(key, named)}`);
    }
    if (bound[index] !== undefined) throw new TemplateError(`${what} got multiple values for argument "${key}"`);
    bound[index] = value;
  }
  return bound;
}

export function expectString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TemplateError(`${what} expects a string, not ${typeName(value)}`);
  return value;
}

export function expectNumber(value: unknown, what: string): number {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value !== 'number') throw new TemplateError(`${what} expects a number, not ${typeName(value)}`);
  return value;
}

export function expectList(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new TemplateError(`${what} expects a list, not ${typeName(value)}`);
  return value;
}

export function expectMapping(value: unknown, what: string): Record<string, unknown> | Map<unknown, unknown> {
  if (!isMapping(value)) throw new TemplateError(`${what} expects a dictionary, not ${typeName(value)}`);
  return value;
}

export function optionalInteger(value: unknown, fallback: number, what: string): number {
  if (value === undefined || value === null) return fallback;
  const number = expectNumber(value, what);
  if (!Number.isInteger(number)) throw new TemplateError(`${what} expects an integer, not ${number}`);
  return number;
}
