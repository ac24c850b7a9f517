// What a drilled cluster must contain: the inventory's `drill_expect`, or defaults that hold for every
// Kubernetes cluster. An entry is an exact key (must exist) or a prefix (a key ending in `/`, or
// `prefix:`) with at least `min` keys (default 1):
//
//   drill_expect:
//     - /registry/namespaces/kube-system
//     - /registry/deployments/
//     - { prefix: /registry/pods/, min: 10 }
//     - { key: /registry/services/specs/default/kubernetes }
//
// `drill_expect: []` turns the checks off (an etcd that is not Kubernetes'). Bad entries are reported at
// their file:line:col, all at once, before anything starts.
import { ETCD_GROUP } from '../config/etcd-vars.js';
import { inventoryMeta } from '../config/inventory-meta.js';
import type { Inventory } from '../config/types.js';
import { problemAtOrigin, type Origin } from '../config/origin.js';
import { ConfigError, type ConfigProblem } from '../errors.js';

export interface DrillExpectation {
  /** An exact key, or a prefix. */
  match: 'key' | 'prefix';
  value: string;
  /** At least this many keys (1 for an exact key). */
  min: number;
  /** Where it came from: the inventory or the defaults. */
  origin: 'inventory' | 'default';
}

export const REGISTRY_PREFIX_VAR = 'kube_etcd_prefix';

/** Every Kubernetes cluster has these: its two system namespaces, the API's own Service, at least one
 *  registered node and one Deployment (CoreDNS in kubeadm and kubeasz clusters). */
export function defaultExpectations(registryPrefix = '/registry'): DrillExpectation[] {
  const base = registryPrefix.replace(/\/+$/, '');
  const key = (value: string): DrillExpectation => ({ match: 'key', value: `${base}/${value}`, min: 1, origin: 'default' });
  const prefix = (value: string): DrillExpectation => ({ match: 'prefix', value: `${base}/${value}`, min: 1, origin: 'default' });
  return [
    key('namespaces/default'),
    key('namespaces/kube-system'),
    key('services/specs/default/kubernetes'),
    prefix('minions/'),
    prefix('deployments/'),
  ];
}

/** The first etcd member's value of a variable (it sees `all` and `etcd` group vars) and where it is written. */
function drillVar(inventory: Inventory, name: string): { value: unknown; origin?: Origin } | undefined {
  const host = inventory.groups.get(ETCD_GROUP)?.[0];
  const vars = host === undefined ? inventory.groupVars?.get('all') : inventory.hosts.get(host)?.vars;
  if (!vars || !(name in vars)) return undefined;
  const origin = host === undefined ? undefined : inventoryMeta(inventory)?.varOrigins.get(host)?.get(name);
  return { value: vars[name], ...(origin ? { origin } : {}) };
}

/** Entry `index` of a list variable: its own line in YAML, the variable's in an INI file. */
function entryOrigin(origin: Origin | undefined, index: number): Origin | undefined {
  return origin?.kind === 'yaml' ? { ...origin, path: [...origin.path, index] } : origin;
}

const EXPECTED = 'a key (`/registry/namespaces/kube-system`), a prefix ending in / (`/registry/deployments/`), or { key: K } / { prefix: P, min: N }';

function problem(inventory: Inventory, origin: Origin | undefined, message: string): ConfigProblem {
  const fields = {
    code: 'inventory.drill-expect',
    message,
    expected: EXPECTED,
    hint: 'fix the entry, or write drill_expect: [] to drill without content checks',
  };
  if (origin) return problemAtOrigin(origin, fields);
  return { severity: 'error', ...fields, loc: { file: inventory.file, line: 1, col: 1 } };
}

function parseEntry(entry: unknown): DrillExpectation | string {
  if (typeof entry === 'string') {
    if (entry === '') return 'an empty key';
    return { match: entry.endsWith('/') ? 'prefix' : 'key', value: entry, min: 1, origin: 'inventory' };
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return `${JSON.stringify(entry)} is not a key, a prefix or a mapping`;
  const record = entry as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !['key', 'prefix', 'min'].includes(k));
  if (unknown.length) return `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}`;
  const hasKey = typeof record.key === 'string' && record.key !== '';
  const hasPrefix = typeof record.prefix === 'string' && record.prefix !== '';
  if (hasKey === hasPrefix) return 'give exactly one of key: or prefix: (a non-empty string)';
  const min = record.min ?? 1;
  if (typeof min !== 'number' || !Number.isInteger(min) || min < 1) return `min must be a whole number of at least 1, not ${JSON.stringify(min)}`;
  if (hasKey && min !== 1) return 'an exact key exists once: min applies to a prefix';
  return { match: hasKey ? 'key' : 'prefix', value: String(hasKey ? record.key : record.prefix), min, origin: 'inventory' };
}

/** The expectations for this inventory; a ConfigError listing every bad entry. */
export function drillExpectations(inventory: Inventory): DrillExpectation[] {
  const prefixVar = drillVar(inventory, REGISTRY_PREFIX_VAR);
  if (prefixVar && (typeof prefixVar.value !== 'string' || !prefixVar.value.startsWith('/')))
    throw new ConfigError([
      problem(inventory, prefixVar.origin, `${REGISTRY_PREFIX_VAR} must be the kube-apiserver's --etcd-prefix, such as /registry`),
    ]);
  const registryPrefix = typeof prefixVar?.value === 'string' ? prefixVar.value : '/registry';
  const configured = drillVar(inventory, 'drill_expect');
  if (!configured || configured.value === null || configured.value === undefined) return defaultExpectations(registryPrefix);
  if (!Array.isArray(configured.value)) throw new ConfigError([problem(inventory, configured.origin, 'drill_expect must be a list')]);
  const problems: ConfigProblem[] = [];
  const expectations: DrillExpectation[] = [];
  configured.value.forEach((entry: unknown, index) => {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string')
      problems.push(problem(inventory, entryOrigin(configured.origin, index), `drill_expect entry ${index + 1}: ${parsed}`));
    else expectations.push(parsed);
  });
  if (problems.length) throw new ConfigError(problems);
  return expectations;
}

/** `the key /registry/x`, `at least 3 keys under /registry/pods/`. */
export function describeExpectation(expectation: DrillExpectation): string {
  return expectation.match === 'key'
    ? `the key ${expectation.value}`
    : `at least ${expectation.min} key${expectation.min === 1 ? '' : 's'} under ${expectation.value}`;
}

/** The registry prefix of the inventory (`kube_etcd_prefix`), with a trailing slash. */
export function registryPrefixOf(inventory: Inventory): string {
  const value = drillVar(inventory, REGISTRY_PREFIX_VAR)?.value;
  return `${(typeof value === 'string' ? value : '/registry').replace(/\/+$/, '')}/`;
}
