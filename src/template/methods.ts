// The few Python methods playbooks call on values (`x.split(',')`, `d.items()`), implemented here:
// nothing is ever looked up on a JavaScript prototype.
import { entriesOf, isMapping, readMember } from './access.js';
import { TemplateError } from './errors.js';
import { bindArguments, expectString, optionalInteger } from './filter-types.js';
import { pythonSplit, pythonStrip } from './filters-text.js';
import { equals, toList, toText } from './values.js';

type Method = { params: string[]; call(self: never, args: unknown[]): unknown };

function prefixes(value: unknown): string[] {
  return Array.isArray(value) ? value.map((item) => toText(item)) : [expectString(value, 'startswith/endswith')];
}

const stringMethods: Record<string, Method> = {
  split: { params: ['sep', 'maxsplit'], call: (self: string, [sep, max]) => pythonSplit(self, sep, optionalInteger(max, -1, 'split')) },
  splitlines: { params: [], call: (self: string) => self.split(/\r\n|\r|\n/).filter((line, i, all) => i < all.length - 1 || line !== '') },
  strip: { params: ['chars'], call: (self: string, [chars]) => pythonStrip(self, chars, 'both') },
  lstrip: { params: ['chars'], call: (self: string, [chars]) => pythonStrip(self, chars, 'start') },
  rstrip: { params: ['chars'], call: (self: string, [chars]) => pythonStrip(self, chars, 'end') },
  startswith: { params: ['prefix'], call: (self: string, [prefix]) => prefixes(prefix).some((p) => self.startsWith(p)) },
  endswith: { params: ['suffix'], call: (self: string, [suffix]) => prefixes(suffix).some((s) => self.endsWith(s)) },
  lower: { params: [], call: (self: string) => self.toLowerCase() },
  upper: { params: [], call: (self: string) => self.toUpperCase() },
  replace: { params: ['old', 'new'], call: (self: string, [old, replacement]) => self.split(toText(old)).join(toText(replacement)) },
  find: { params: ['sub'], call: (self: string, [sub]) => self.indexOf(toText(sub)) },
  join: {
    params: ['iterable'],
    call: (self: string, [items]) =>
      toList(items)
        .map((item) => toText(item))
        .join(self),
  },
  isdigit: { params: [], call: (self: string) => /^\d+$/.test(self) },
};

const mappingMethods: Record<string, Method> = {
  items: { params: [], call: (self: Record<string, unknown>) => entriesOf(self) },
  keys: { params: [], call: (self: Record<string, unknown>) => entriesOf(self).map(([key]) => key) },
  values: { params: [], call: (self: Record<string, unknown>) => entriesOf(self).map(([, value]) => value) },
  get: {
    params: ['key', 'default'],
    call(self: Record<string, unknown>, [key, fallback]) {
      const lookup = readMember(self, key);
      return lookup.found ? lookup.value : (fallback ?? null);
    },
  },
};

const listMethods: Record<string, Method> = {
  index: {
    params: ['value'],
    call(self: unknown[], [value]) {
      const index = self.findIndex((item) => equals(item, value));
      if (index < 0) throw new TemplateError(`${toText(value)} is not in the list`);
      return index;
    },
  },
  count: { params: ['value'], call: (self: unknown[], [value]) => self.filter((item) => equals(item, value)).length },
};

function methodsOf(value: unknown): Record<string, Method> {
  if (typeof value === 'string') return stringMethods;
  if (Array.isArray(value)) return listMethods;
  if (isMapping(value)) return mappingMethods;
  return {};
}

export function methodNames(value: unknown): string[] {
  return Object.keys(methodsOf(value));
}

export function callMethod(self: unknown, name: string, args: unknown[], kwargs: Map<string, unknown>): { found: boolean; value?: unknown } {
  const table = methodsOf(self);
  const method = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!method) return { found: false };
  const bound = bindArguments(`${name}()`, method.params, args, kwargs);
  return { found: true, value: method.call(self as never, bound) };
}

/** Functions callable by name: `range(3)`, `dict(a=1)`. */
export const globalFunctions: Record<string, Method> = {
  range: {
    params: ['start', 'stop', 'step'],
    call(_self: never, [first, second, third]) {
      const start = second === undefined ? 0 : optionalInteger(first, 0, 'range');
      const stop = second === undefined ? optionalInteger(first, 0, 'range') : optionalInteger(second, 0, 'range');
      const step = optionalInteger(third, 1, 'range');
      if (step === 0) throw new TemplateError('range() step must not be zero');
      const size = Math.max(0, Math.ceil((stop - start) / step));
      if (size > 100_000) throw new TemplateError('range() is too long (more than 100000 items)');
      return Array.from({ length: size }, (_, i) => start + i * step);
    },
  },
};
