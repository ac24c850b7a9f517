// Filters on lists and dictionaries.
import { entriesOf, isMapping, objectFromEntries, readMember, readOwn, setOwn } from './access.js';
import { isMissing, Missing } from './deferred.js';
import { TemplateError } from './errors.js';
import type { FilterContext, FilterSpec } from './filter-types.js';
import { expectList, expectMapping, expectString, optionalInteger } from './filter-types.js';
import { binaryOperation } from './operators.js';
import { missingMember, readPath } from './paths.js';
import { compare, concrete, contains, equals, isTrue, toJson, toList, toText, typeName } from './values.js';

function length(value: unknown): number {
  if (typeof value === 'string') return Array.from(value).length;
  if (Array.isArray(value)) return value.length;
  if (value instanceof Map) return value.size;
  if (isMapping(value)) return Object.keys(value).length;
  throw new TemplateError(`object of type ${typeName(value)} has no length`);
}

function unique(items: unknown[]): unknown[] {
  const kept: unknown[] = [];
  for (const item of items) if (!kept.some((other) => equals(other, item))) kept.push(item);
  return kept;
}

function concreteItem(value: unknown): unknown {
  if (isMissing(value)) throw value.error;
  return value;
}

/** The value a sort/min/max compares: an attribute, lower-cased unless case-sensitive. */
function sortKey(item: unknown, attribute: unknown, caseSensitive: unknown, ctx: FilterContext, index: number): unknown {
  const value = attribute === undefined || attribute === null ? item : concreteItem(readPath(item, attribute, `${ctx.inputText}[${index}]`));
  concrete(value);
  return typeof value === 'string' && !isTrue(caseSensitive ?? false) ? value.toLowerCase() : value;
}

function sorted(items: unknown[], attribute: unknown, caseSensitive: unknown, ctx: FilterContext): unknown[] {
  const keyed = items.map((item, index) => ({ item, key: sortKey(item, attribute, caseSensitive, ctx, index) }));
  return keyed.sort((a, b) => compare(a.key, b.key)).map(({ item }) => item);
}

function extreme(input: unknown, attribute: unknown, caseSensitive: unknown, ctx: FilterContext, which: 'min' | 'max'): unknown {
  const items = toList(input);
  if (items.length === 0) return new Missing(new TemplateError(`${which}: ${JSON.stringify(ctx.inputText)} is empty`));
  const order = sorted(items, attribute, caseSensitive, ctx);
  return which === 'min' ? order[0] : order.at(-1);
}

function endItem(input: unknown, ctx: FilterContext, which: 'first' | 'last'): unknown {
  const items = toList(input);
  if (items.length === 0) return new Missing(new TemplateError(`${which}: ${JSON.stringify(ctx.inputText)} is empty`));
  return which === 'first' ? items[0] : items.at(-1);
}

function flatten(items: unknown[], levels: number | undefined, skipNulls: boolean): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    if (skipNulls && (item === null || item === 'None')) continue;
    if (Array.isArray(item) && (levels === undefined || levels > 0))
      out.push(...flatten(item, levels === undefined ? undefined : levels - 1, skipNulls));
    else out.push(item);
  }
  return out;
}

/** `test name, args...` for select/reject/selectattr/rejectattr. */
function testOf(args: unknown[], ctx: FilterContext): (value: unknown) => boolean {
  const [name, ...rest] = args;
  if (name === undefined) return (value) => isTrue(value);
  const testName = expectString(name, 'the test name');
  return (value) => ctx.applyTest(testName, value, rest, new Map(), ctx.argTexts.slice(1));
}

function combine(target: Record<string, unknown>, source: unknown, recursive: boolean, listMerge: string): Record<string, unknown> {
  for (const [key, value] of entriesOf(expectMapping(source, 'combine'))) {
    const name = typeof key === 'string' ? key : toText(key);
    const existing = readOwn(target, name);
    const old = existing.found ? existing.value : undefined;
    let merged = value;
    if (recursive && isMapping(old) && isMapping(value)) merged = combine(combine({}, old, true, listMerge), value, true, listMerge);
    else if (Array.isArray(old) && Array.isArray(value)) merged = mergeLists(old, value, listMerge);
    setOwn(target, name, merged);
  }
  return target;
}

function mergeLists(old: unknown[], value: unknown[], listMerge: string): unknown[] {
  switch (listMerge) {
    case 'replace':
      return value;
    case 'keep':
      return old;
    case 'append':
      return [...old, ...value];
    case 'prepend':
      return [...value, ...old];
    case 'append_rp':
      return [...old.filter((item) => !value.some((other) => equals(other, item))), ...value];
    case 'prepend_rp':
      return [...value, ...old.filter((item) => !value.some((other) => equals(other, item)))];
    default:
      throw new TemplateError(
        `combine: list_merge must be one of replace, keep, append, prepend, append_rp, prepend_rp, not ${JSON.stringify(listMerge)}`,
      );
  }
}

export const collectionFilters: Record<string, FilterSpec> = {
  length: { params: [], apply: (input) => length(input) },
  count: { params: [], apply: (input) => length(input) },
  first: { params: [], apply: (input, _args, ctx) => endItem(input, ctx, 'first') },
  last: { params: [], apply: (input, _args, ctx) => endItem(input, ctx, 'last') },
  list: { params: [], apply: (input) => toList(input) },
  attr: {
    params: ['name'],
    apply(input, [name], ctx) {
      const lookup = readMember(input, name);
      return lookup.found ? lookup.value : missingMember(ctx.inputText, input, name);
    },
  },
  items: { params: [], apply: (input) => entriesOf(expectMapping(input, 'items')) },
  unique: { params: ['case_sensitive', 'attribute'], apply: (input) => unique(toList(input)) },
  sort: {
    params: ['reverse', 'case_sensitive', 'attribute'],
    apply(input, [reverse, caseSensitive, attribute], ctx) {
      const order = sorted(toList(input), attribute, caseSensitive, ctx);
      return isTrue(reverse ?? false) ? order.reverse() : order;
    },
  },
  reverse: {
    params: [],
    apply: (input) => (typeof input === 'string' ? Array.from(input).reverse().join('') : toList(input).reverse()),
  },
  join: {
    params: ['d', 'attribute'],
    apply: (input, [separator, attribute], ctx) =>
      toList(input)
        .map((item, index) => toText(attribute === undefined ? item : concreteItem(readPath(item, attribute, `${ctx.inputText}[${index}]`))))
        .join(toText(separator ?? '')),
  },
  map: {
    params: ['*args', 'attribute', 'default', '**kwargs'],
    apply(input, [args, attribute, fallback, kwargs], ctx) {
      const items = toList(input);
      if (attribute !== undefined) {
        return items.map((item, index) => {
          const value = readPath(item, attribute, `${ctx.inputText}[${index}]`);
          return isMissing(value) && fallback !== undefined ? fallback : concreteItem(value);
        });
      }
      const [name, ...rest] = args as unknown[];
      if (name === undefined) throw new TemplateError('map needs a filter name or attribute=...');
      const filterName = expectString(name, 'map');
      return items.map((item) => concreteItem(ctx.applyFilter(filterName, item, rest, kwargs as Map<string, unknown>, ctx.argTexts.slice(1))));
    },
  },
  select: { params: ['*args'], apply: (input, [args], ctx) => toList(input).filter(testOf(args as unknown[], ctx)) },
  reject: { params: ['*args'], apply: (input, [args], ctx) => toList(input).filter((item) => !testOf(args as unknown[], ctx)(item)) },
  selectattr: {
    params: ['attribute', '*args'],
    apply(input, [attribute, args], ctx) {
      const test = testOf(args as unknown[], ctx);
      return toList(input).filter((item, index) => test(readPath(item, attribute, `${ctx.inputText}[${index}]`)));
    },
  },
  rejectattr: {
    params: ['attribute', '*args'],
    apply(input, [attribute, args], ctx) {
      const test = testOf(args as unknown[], ctx);
      return toList(input).filter((item, index) => !test(readPath(item, attribute, `${ctx.inputText}[${index}]`)));
    },
  },
  dict2items: {
    params: ['key_name', 'value_name'],
    apply: (input, [keyName, valueName]) =>
      entriesOf(expectMapping(input, 'dict2items')).map(([key, value]) =>
        objectFromEntries([
          [toText(keyName ?? 'key'), key],
          [toText(valueName ?? 'value'), value],
        ]),
      ),
  },
  items2dict: {
    params: ['key_name', 'value_name'],
    apply(input, [keyName, valueName], ctx) {
      const keyField = toText(keyName ?? 'key');
      const valueField = toText(valueName ?? 'value');
      return objectFromEntries(
        expectList(input, 'items2dict').map((item, index) => {
          const key = concreteItem(readPath(item, keyField, `${ctx.inputText}[${index}]`));
          const value = concreteItem(readPath(item, valueField, `${ctx.inputText}[${index}]`));
          concrete(key);
          return [typeof key === 'string' ? key : toText(key), value] as const;
        }),
      );
    },
  },
  combine: {
    params: ['*dicts', 'recursive', 'list_merge'],
    apply(input, [dicts, recursive, listMerge]) {
      const sources = [input, ...(dicts as unknown[]).flatMap((item): unknown[] => (Array.isArray(item) ? (item as unknown[]) : [item]))];
      return sources.reduce<Record<string, unknown>>(
        (target, source) => combine(target, source, isTrue(recursive ?? false), toText(listMerge ?? 'replace')),
        {},
      );
    },
  },
  zip: {
    params: ['*others'],
    apply(input, [others]) {
      const lists = [toList(input), ...(others as unknown[]).map((other) => toList(other))];
      const size = Math.min(...lists.map((list) => list.length));
      return Array.from({ length: size }, (_, i) => lists.map((list) => list[i]));
    },
  },
  zip_longest: {
    params: ['*others', 'fillvalue'],
    apply(input, [others, fill]) {
      const lists = [toList(input), ...(others as unknown[]).map((other) => toList(other))];
      const size = Math.max(...lists.map((list) => list.length));
      return Array.from({ length: size }, (_, i) => lists.map((list) => (i < list.length ? list[i] : (fill ?? null))));
    },
  },
  flatten: {
    params: ['levels', 'skip_nulls'],
    apply: (input, [levels, skipNulls]) =>
      flatten(
        expectList(input, 'flatten'),
        levels === undefined || levels === null ? undefined : optionalInteger(levels, 0, 'flatten'),
        isTrue(skipNulls ?? true),
      ),
  },
  union: { params: ['other'], apply: (input, [other]) => unique([...toList(input), ...toList(other)]) },
  intersect: { params: ['other'], apply: (input, [other]) => unique(toList(input).filter((item) => contains(toList(other), item))) },
  difference: { params: ['other'], apply: (input, [other]) => unique(toList(input).filter((item) => !contains(toList(other), item))) },
  symmetric_difference: {
    params: ['other'],
    apply(input, [other]) {
      const a = toList(input);
      const b = toList(other);
      return unique([...a.filter((item) => !contains(b, item)), ...b.filter((item) => !contains(a, item))]);
    },
  },
  min: { params: ['attribute', 'case_sensitive'], apply: (input, [attribute, cs], ctx) => extreme(input, attribute, cs, ctx, 'min') },
  max: { params: ['attribute', 'case_sensitive'], apply: (input, [attribute, cs], ctx) => extreme(input, attribute, cs, ctx, 'max') },
  sum: {
    params: ['attribute', 'start'],
    apply: (input, [attribute, start], ctx) =>
      toList(input).reduce(
        (total, item, index) =>
          binaryOperation('+', total, attribute === undefined ? item : concreteItem(readPath(item, attribute, `${ctx.inputText}[${index}]`))),
        start ?? 0,
      ),
  },
  extract: {
    params: ['container', 'morekeys'],
    apply(input, [container, moreKeys], ctx) {
      if (container === undefined) throw new TemplateError('extract needs a container: item | extract(hostvars)');
      concrete(input);
      const keys: unknown[] = [
        input,
        ...(moreKeys === undefined || moreKeys === null ? [] : Array.isArray(moreKeys) ? (moreKeys as unknown[]) : [moreKeys]),
      ];
      let current: unknown = container;
      let text = ctx.argTexts[0] ?? 'container';
      for (const key of keys) {
        concrete(current);
        const lookup = readMember(current, key);
        if (!lookup.found) {
          return isMapping(current) || typeof key !== 'number' ? missingKey(text, current, key) : missingMember(text, current, key);
        }
        current = lookup.value;
        text += `[${toJson(key)}]`;
      }
      return current;
    },
  },
};

function missingKey(text: string, container: unknown, key: unknown): Missing {
  const missing = missingMember(text, container, key);
  return new Missing(new TemplateError(missing.error.message.replace(' has no attribute ', ' has no key '), missing.error.variable));
}
