// Python/Jinja value semantics on JavaScript values: truthiness, str(), equality, ordering, json.dumps.
import { Deferred, DeferredEncountered, isMissing } from './deferred.js';
import { TemplateError } from './errors.js';
import { entriesOf, isMapping, isPlainObject } from './access.js';

export type Scope = Record<string, unknown>;

/** Python's type names, used in messages. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  if (isMapping(value)) return 'dict';
  if (value instanceof Deferred) return 'deferred';
  if (isMissing(value)) return 'undefined';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Meets a Deferred or an undefined value where a concrete one is needed. */
export function concrete(value: unknown): void {
  if (value instanceof Deferred) throw new DeferredEncountered(value);
  if (isMissing(value)) throw value.error;
}

/** Python truthiness. */
export function isTrue(value: unknown): boolean {
  concrete(value);
  if (value === null || value === undefined || value === false) return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map) return value.size > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

export function numberToString(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

/** Python's str(): True/False/None for scalars; containers as JSON (Ansible would print a Python repr). */
export function toText(value: unknown): string {
  concrete(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberToString(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  return toJson(value);
}

export interface JsonOptions {
  indent?: number;
  sortKeys?: boolean;
}

/** Python's json.dumps: `", "` and `": "` separators, like Ansible's to_json. */
export function toJson(value: unknown, options: JsonOptions = {}, depth = 0): string {
  concrete(value);
  if (depth > 100) throw new TemplateError('value is nested too deeply (or refers to itself) to serialise');
  const { indent } = options;
  const pad = (level: number): string => (indent === undefined ? '' : '\n' + ' '.repeat(indent * level));
  const itemSeparator = indent === undefined ? ', ' : ',';
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => pad(depth + 1) + toJson(item, options, depth + 1));
    return `[${items.join(itemSeparator)}${pad(depth)}]`;
  }
  if (isMapping(value)) {
    const entries = entriesOf(value).map(([key, item]) => [keyText(key), item] as const);
    if (entries.length === 0) return '{}';
    if (options.sortKeys) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const items = entries.map(([key, item]) => `${pad(depth + 1)}${JSON.stringify(key)}: ${toJson(item, options, depth + 1)}`);
    return `{${items.join(itemSeparator)}${pad(depth)}}`;
  }
  throw new TemplateError(`cannot serialise a value of type ${typeName(value)}`);
}

function keyText(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'boolean' || key === null) return toJson(key);
  throw new TemplateError(`cannot serialise a dictionary key of type ${typeName(key)}`);
}

function isNumeric(value: unknown): value is number | boolean {
  return typeof value === 'number' || typeof value === 'boolean';
}

/** Python ==: deep for lists and dicts, 1 == 1.0 == True. */
export function equals(a: unknown, b: unknown): boolean {
  concrete(a);
  concrete(b);
  if (a === b) return true;
  if (isNumeric(a) && isNumeric(b)) return Number(a) === Number(b);
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => equals(item, b[i]));
  if (isMapping(a) && isMapping(b)) {
    const left = entriesOf(a);
    const right = new Map(entriesOf(b));
    if (left.length !== right.size) return false;
    return left.every(([key, item]) => right.has(key) && equals(item, right.get(key)));
  }
  return false;
}

/** Python ordering for numbers, strings and lists; anything else is an error, as in Python 3. */
export function compare(a: unknown, b: unknown): number {
  concrete(a);
  concrete(b);
  if (isNumeric(a) && isNumeric(b)) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const order = compare(a[i], b[i]);
      if (order !== 0) return order;
    }
    return a.length - b.length;
  }
  throw new TemplateError(`cannot compare ${typeName(a)} with ${typeName(b)}`);
}

/** Python's `in`. */
export function contains(container: unknown, item: unknown): boolean {
  concrete(container);
  concrete(item);
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw new TemplateError(`'in <string>' requires a string on the left, not ${typeName(item)}`);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((element) => equals(element, item));
  if (container instanceof Map) return container.has(item) || (typeof item === 'number' && container.has(String(item)));
  if (isPlainObject(container)) return (typeof item === 'string' || typeof item === 'number') && Object.hasOwn(container, String(item));
  throw new TemplateError(`cannot test membership in ${typeName(container)}`);
}

/** Items a for loop or a list filter sees: list items, string characters, dictionary keys. */
export function toList(value: unknown): unknown[] {
  concrete(value);
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (typeof value === 'string') return Array.from(value);
  if (value instanceof Map) return [...value.keys()];
  if (isPlainObject(value)) return Object.keys(value);
  throw new TemplateError(`cannot iterate over ${typeName(value)}`);
}
