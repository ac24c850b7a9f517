// Every filter and test by name (the parser rejects unknown names before anything runs).
import type { FilterSpec, TestSpec } from './filter-types.js';
import { collectionFilters } from './filters-collections.js';
import { regexFilters } from './filters-regex.js';
import { textFilters } from './filters-text.js';
import { tests as allTests } from './tests.js';

export const filters: Record<string, FilterSpec> = { ...textFilters, ...collectionFilters, ...regexFilters, d: textFilters.default as FilterSpec };
export const tests: Record<string, TestSpec> = allTests;
export const filterNames: ReadonlySet<string> = new Set(Object.keys(filters));
export const testNames: ReadonlySet<string> = new Set(Object.keys(tests));

export function lookupFilter(name: string): FilterSpec | undefined {
  return Object.hasOwn(filters, name) ? filters[name] : undefined;
}

export function lookupTest(name: string): TestSpec | undefined {
  return Object.hasOwn(tests, name) ? tests[name] : undefined;
}
