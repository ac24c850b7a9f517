// Ansible host patterns: `a:b` / `a,b` (union), `a:&b` (intersection), `a:!b` (exclusion), `all`, `*`, globs.
import { isIPv6Literal } from './ipv6-literal.js';
import { ConfigError, type ConfigProblem, type SourceLocation } from '../errors.js';
import { nearest } from './suggest.js';
import type { Inventory, InventoryHost } from './types.js';

export interface PatternContext {
  /** Where the pattern was written (a play's `hosts:`); omitted for --limit from the command line. */
  loc?: SourceLocation;
  /** What to call the pattern in messages, e.g. `--limit`. */
  label?: string;
}

/**
 * Host names matched by `pattern` (and by `limit`, if given), in the order Ansible gives them: the union
 * terms in the order written (each group's hosts in file order), then `&` terms intersect and `!` terms remove.
 * A term that matches no group or host is a ConfigError naming it (Ansible only warns; a typo in a
 * backup or restore target should stop the run).
 */
export function selectHosts(inventory: Inventory, pattern: string, limit?: string, context: PatternContext = {}): string[] {
  const problems: ConfigProblem[] = [];
  let hosts = evaluate(inventory, pattern, context.label ?? 'hosts', context.loc, problems);
  if (limit !== undefined && limit.trim() !== '') {
    const limited = new Set(evaluate(inventory, limit, '--limit', undefined, problems));
    hosts = hosts.filter((host) => limited.has(host));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return hosts;
}

/** Split as Ansible does: on commas if there are any, else on colons unless the whole pattern is one IPv6 address or host. */
export function splitPattern(pattern: string, inventory?: Inventory): string[] {
  const trimmed = pattern.trim();
  let parts: string[];
  if (trimmed.includes(',')) parts = trimmed.split(',');
  else if (isIPv6Literal(trimmed) || inventory?.hosts.has(trimmed)) parts = [trimmed];
  else parts = trimmed.split(':');
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

function evaluate(inventory: Inventory, pattern: string, label: string, loc: SourceLocation | undefined, problems: ConfigProblem[]): string[] {
  const terms = splitPattern(pattern, inventory);
  if (terms.length === 0) {
    problems.push(problem('pattern.empty', `${label}: the host pattern is empty`, loc, 'a group name, a host name or all'));
    return [];
  }
  const unions = terms.filter((term) => !term.startsWith('&') && !term.startsWith('!'));
  const intersections = terms.filter((term) => term.startsWith('&')).map((term) => term.slice(1));
  const exclusions = terms.filter((term) => term.startsWith('!')).map((term) => term.slice(1));

  const match = (term: string): string[] => {
    const found = matchTerm(inventory, term);
    if (found === undefined) {
      const candidates = [...inventory.groups.keys(), ...inventory.hosts.keys()];
      const suggestion = nearest(term, candidates);
      problems.push(
        problem(
          'pattern.unknown',
          `${label}: "${term}" is neither a group nor a host of ${inventory.file}`,
          loc,
          `one of the groups: ${[...inventory.groups.keys()].join(', ')}; or a host name`,
          suggestion === undefined ? undefined : `did you mean "${suggestion}"?`,
        ),
      );
      return [];
    }
    return found;
  };

  // Only `&` or `!` terms: Ansible starts from all hosts.
  const selected: string[] = [];
  const seen = new Set<string>();
  for (const host of unions.length > 0 ? unions.flatMap(match) : (inventory.groups.get('all') ?? [])) {
    if (!seen.has(host)) {
      seen.add(host);
      selected.push(host);
    }
  }
  let result = selected;
  for (const term of intersections) {
    const keep = new Set(match(term));
    result = result.filter((host) => keep.has(host));
  }
  for (const term of exclusions) {
    const drop = new Set(match(term));
    result = result.filter((host) => !drop.has(host));
  }
  return result;
}

/** The deploy host's name in a play's hosts when the inventory does not list it (Ansible's implicit localhost). */
export const IMPLICIT_LOCALHOST = 'localhost';

/**
 * The implicit localhost as a host: in no group, with the variables of group `all` (as in Ansible), run on
 * the deploy host. Undefined for any other name, or when the inventory lists `localhost` itself.
 */
export function implicitLocalhost(inventory: Inventory, name: string): InventoryHost | undefined {
  if (name !== IMPLICIT_LOCALHOST || inventory.hosts.has(name)) return undefined;
  return { name, vars: { ...(inventory.groupVars?.get('all') ?? {}), ansible_connection: 'local' }, groups: ['all'] };
}

/** Hosts of one term, or undefined when nothing in the inventory goes by that name. */
function matchTerm(inventory: Inventory, term: string): string[] | undefined {
  if (term === 'all' || term === '*') return inventory.groups.get('all') ?? [];
  const group = inventory.groups.get(term);
  if (group) return group;
  if (inventory.hosts.has(term)) return [term];
  // As in Ansible: named explicitly, the deploy host runs a play even when the inventory does not list it
  // (kubeasz's 94.backup.yml is a `hosts: localhost` play); it is never part of `all` or a group.
  if (term === IMPLICIT_LOCALHOST) return [term];
  if (term.includes('*') || term.includes('?')) {
    const glob = new RegExp(
      `^${term
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '.*')
        .replaceAll('?', '.')}$`,
    );
    const hosts = new Set<string>();
    for (const [name, members] of inventory.groups) if (glob.test(name)) for (const host of members) hosts.add(host);
    for (const name of inventory.hosts.keys()) if (glob.test(name)) hosts.add(name);
    const all = inventory.groups.get('all') ?? [...inventory.hosts.keys()];
    return hosts.size > 0 ? all.filter((host) => hosts.has(host)) : undefined;
  }
  return undefined;
}

function problem(code: string, message: string, loc: SourceLocation | undefined, expected: string, hint?: string): ConfigProblem {
  const out: ConfigProblem = { severity: 'error', code, message, expected };
  if (hint !== undefined) out.hint = hint;
  if (loc) out.loc = loc;
  return out;
}
