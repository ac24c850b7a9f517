// Reading from template values: only own data properties of plain objects, arrays, strings and Maps.
// Nothing reachable through a prototype (constructors, functions, __proto__) is ever returned.
import { TemplateError } from './errors.js';
import { resolveLazy } from './lazy.js';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function isMapping(value: unknown): value is Record<string, unknown> | Map<unknown, unknown> {
  return isPlainObject(value) || value instanceof Map;
}

const forbiddenNames = new Set(['__proto__', 'constructor', 'prototype']);

export function assertAllowedName(key: unknown): void {
  if (typeof key === 'string' && (forbiddenNames.has(key) || /^__.*__$/.test(key))) {
    throw new TemplateError(`access to "${key}" is not allowed in templates`);
  }
}

export type Lookup = { found: true; value: unknown } | { found: false };
const notFound: Lookup = { found: false };

function found(value: unknown): Lookup {
  // An explicitly undefined property (optional fields of engine objects) reads as missing.
  if (value === undefined || typeof value === 'function') return notFound;
  return { found: true, value: resolveLazy(value) };
}

/** Python-style index: negative counts from the end; anything else is not an index. */
export function normaliseIndex(key: unknown, length: number): number | undefined {
  if (typeof key !== 'number' || !Number.isInteger(key)) return undefined;
  const index = key < 0 ? length + key : key;
  return index >= 0 && index < length ? index : undefined;
}

/** `container.key` / `container[key]`. */
export function readMember(container: unknown, key: unknown): Lookup {
  assertAllowedName(key);
  if (container instanceof Map) {
    if (container.has(key)) return found(container.get(key));
    if (typeof key === 'number' && container.has(String(key))) return found(container.get(String(key)));
    return notFound;
  }
  if (Array.isArray(container)) {
    const index = normaliseIndex(key, container.length);
    return index === undefined ? notFound : found(container[index]);
  }
  if (typeof container === 'string') {
    const chars = Array.from(container);
    const index = normaliseIndex(key, chars.length);
    return index === undefined ? notFound : found(chars[index]);
  }
  if (isPlainObject(container) && (typeof key === 'string' || typeof key === 'number')) {
    const descriptor = Object.getOwnPropertyDescriptor(container, String(key));
    return descriptor && 'value' in descriptor ? found(descriptor.value) : notFound;
  }
  return notFound;
}

/** Keys of a mapping, for messages and iteration. */
export function keysOf(container: unknown): unknown[] {
  if (container instanceof Map) return [...container.keys()];
  if (isPlainObject(container)) return Object.keys(container);
  return [];
}

/** Key/value pairs of a mapping, lazy values rendered, functions and undefined skipped. */
export function entriesOf(container: Record<string, unknown> | Map<unknown, unknown>): [unknown, unknown][] {
  const entries: [unknown, unknown][] = [];
  for (const key of keysOf(container)) {
    const lookup = container instanceof Map ? found(container.get(key)) : readOwn(container, key as string);
    if (lookup.found) entries.push([key, lookup.value]);
  }
  return entries;
}

/** An own data property, whatever its name (for merging data that may hold a `__proto__` key). */
export function readOwn(container: Record<string, unknown>, key: string): Lookup {
  const descriptor = Object.getOwnPropertyDescriptor(container, key);
  return descriptor && 'value' in descriptor ? found(descriptor.value) : notFound;
}

/** Set a key on a new object without ever invoking the `__proto__` setter. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function objectFromEntries(entries: Iterable<readonly [unknown, unknown]>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of entries) setOwn(result, typeof key === 'string' ? key : String(key), value);
  return result;
}
