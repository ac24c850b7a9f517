// Jinja and Ansible tests: `x is defined`, `result is failed`, `v is version('3.5', '>=')`.
import { isMapping, readMember } from './access.js';
import { isMissing } from './deferred.js';
import { TemplateError } from './errors.js';
import type { TestSpec } from './filter-types.js';
import { expectNumber, expectString } from './filter-types.js';
import { compileRegex } from './regex.js';
import { compare, contains, equals, isTrue, toList, toText, typeName } from './values.js';

/** Ansible's registered-result tests only make sense on a result dictionary. */
function resultFlag(value: unknown, flag: string, test: string): boolean {
  if (!isMapping(value)) throw new TemplateError(`the "${test}" test expects a registered task result (a dictionary), not ${typeName(value)}`);
  const lookup = readMember(value, flag);
  if (lookup.found) return isTrue(lookup.value);
  if (flag === 'changed') {
    const results = readMember(value, 'results');
    return results.found && Array.isArray(results.value) && results.value.some((item) => isMapping(item) && resultFlag(item, 'changed', test));
  }
  return false;
}

function versionParts(version: string): (number | string)[] {
  return (version.match(/\d+|[a-z]+/gi) ?? []).map((part) => (/^\d+$/.test(part) ? Number(part) : part.toLowerCase()));
}

/** LooseVersion comparison, Ansible's default for the `version` test. */
export function compareVersions(a: string, b: string): number {
  const left = versionParts(a);
  const right = versionParts(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] as number | string;
    const y = right[i] as number | string;
    if (x === y) continue;
    if (typeof x === typeof y) return x < y ? -1 : 1;
    return typeof x === 'number' ? 1 : -1;
  }
  return left.length - right.length;
}

const versionOperators: Record<string, (order: number) => boolean> = {
  '<': (o) => o < 0,
  lt: (o) => o < 0,
  '<=': (o) => o <= 0,
  le: (o) => o <= 0,
  '>': (o) => o > 0,
  gt: (o) => o > 0,
  '>=': (o) => o >= 0,
  ge: (o) => o >= 0,
  '==': (o) => o === 0,
  '=': (o) => o === 0,
  eq: (o) => o === 0,
  '!=': (o) => o !== 0,
  '<>': (o) => o !== 0,
  ne: (o) => o !== 0,
};

function regexTest(kind: 'match' | 'search'): TestSpec {
  return {
    params: ['pattern', 'ignorecase', 'multiline'],
    apply(value, [pattern, ignorecase, multiline]) {
      const regex = compileRegex(expectString(pattern, kind), {
        ignorecase: isTrue(ignorecase ?? false),
        multiline: isTrue(multiline ?? false),
        sticky: kind === 'match',
      });
      return regex.test(expectString(value, `the "${kind}" test`));
    },
  };
}

const compareTest = (check: (order: number) => boolean): TestSpec => ({ params: ['other'], apply: (value, [other]) => check(compare(value, other)) });
const equalTest: TestSpec = { params: ['other'], apply: (value, [other]) => equals(value, other) };
const notEqualTest: TestSpec = { params: ['other'], apply: (value, [other]) => !equals(value, other) };
const typeTest = (check: (value: unknown) => boolean): TestSpec => ({ params: [], apply: (value) => check(value) });
const flagTest = (flag: string, name: string, negate = false): TestSpec => ({
  params: [],
  apply: (value) => resultFlag(value, flag, name) !== negate,
});
const versionTest: TestSpec = {
  params: ['version', 'operator', 'strict', 'version_type'],
  apply(value, [version, operator]) {
    const check = versionOperators[toText(operator ?? 'eq')];
    if (!check)
      throw new TemplateError(`version: unknown operator ${JSON.stringify(operator)} (use one of ${Object.keys(versionOperators).join(' ')})`);
    return check(compareVersions(toText(value), toText(version)));
  },
};

export const tests: Record<string, TestSpec> = {
  defined: { params: [], acceptsUndefined: true, apply: (value) => !isMissing(value) },
  undefined: { params: [], acceptsUndefined: true, apply: (value) => isMissing(value) },
  none: typeTest((value) => value === null),
  string: typeTest((value) => typeof value === 'string'),
  number: typeTest((value) => typeof value === 'number'),
  integer: typeTest((value) => typeof value === 'number' && Number.isInteger(value)),
  float: typeTest((value) => typeof value === 'number' && !Number.isInteger(value)),
  boolean: typeTest((value) => typeof value === 'boolean'),
  mapping: typeTest((value) => isMapping(value)),
  iterable: typeTest((value) => typeof value === 'string' || Array.isArray(value) || isMapping(value)),
  sequence: typeTest((value) => typeof value === 'string' || Array.isArray(value) || isMapping(value)),
  callable: typeTest(() => false),
  eq: equalTest,
  equalto: equalTest,
  '==': equalTest,
  ne: notEqualTest,
  '!=': notEqualTest,
  sameas: { params: ['other'], apply: (value, [other]) => value === other },
  lt: compareTest((o) => o < 0),
  '<': compareTest((o) => o < 0),
  le: compareTest((o) => o <= 0),
  '<=': compareTest((o) => o <= 0),
  gt: compareTest((o) => o > 0),
  '>': compareTest((o) => o > 0),
  ge: compareTest((o) => o >= 0),
  '>=': compareTest((o) => o >= 0),
  in: { params: ['seq'], apply: (value, [seq]) => contains(seq, value) },
  contains: { params: ['item'], apply: (value, [item]) => contains(value, item) },
  divisibleby: { params: ['num'], apply: (value, [num]) => expectNumber(value, 'divisibleby') % expectNumber(num, 'divisibleby') === 0 },
  even: typeTest((value) => expectNumber(value, 'even') % 2 === 0),
  odd: typeTest((value) => Math.abs(expectNumber(value, 'odd') % 2) === 1),
  lower: typeTest((value) => typeof value === 'string' && value === value.toLowerCase()),
  upper: typeTest((value) => typeof value === 'string' && value === value.toUpperCase()),
  truthy: {
    params: ['convert_bool'],
    apply: (value, [convert]) =>
      isTrue(convert ?? false) && typeof value === 'string' ? ['yes', 'on', '1', 'true'].includes(value.toLowerCase()) : isTrue(value),
  },
  falsy: {
    params: ['convert_bool'],
    apply: (value, [convert]) =>
      !(isTrue(convert ?? false) && typeof value === 'string' ? ['yes', 'on', '1', 'true'].includes(value.toLowerCase()) : isTrue(value)),
  },
  succeeded: flagTest('failed', 'succeeded', true),
  success: flagTest('failed', 'success', true),
  failed: flagTest('failed', 'failed'),
  failure: flagTest('failed', 'failure'),
  changed: flagTest('changed', 'changed'),
  change: flagTest('changed', 'change'),
  skipped: flagTest('skipped', 'skipped'),
  skip: flagTest('skipped', 'skip'),
  unreachable: flagTest('unreachable', 'unreachable'),
  reachable: flagTest('unreachable', 'reachable', true),
  match: regexTest('match'),
  search: regexTest('search'),
  regex: regexTest('search'),
  version: versionTest,
  version_compare: versionTest,
  subset: { params: ['superset'], apply: (value, [superset]) => toList(value).every((item) => contains(toList(superset), item)) },
  superset: { params: ['subset'], apply: (value, [subset]) => toList(subset).every((item) => contains(toList(value), item)) },
  any: typeTest((value) => toList(value).some((item) => isTrue(item))),
  all: typeTest((value) => toList(value).every((item) => isTrue(item))),
};
