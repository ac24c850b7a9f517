// Groups, hosts and variables as written (from a YAML or an INI inventory) assembled into an Inventory with
// Ansible's rules: children flattened into parents, `ungrouped`, and variable precedence by group depth,
// `ansible_group_priority` and name, host variables last.
import * as path from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { expandHome } from './connection.js';
import { InventoryMeta, attachInventoryMeta } from './inventory-meta.js';
import { problemAtOrigin, type Origin } from './origin.js';
import type { Inventory, InventoryHost, Vars } from './types.js';

export interface VarEntry {
  value: unknown;
  origin: Origin;
}

export interface GroupSpec {
  name: string;
  /** Hosts listed directly in this group. */
  hosts: Set<string>;
  /** Child group to where the link was written. */
  children: Map<string, Origin>;
  parents: Set<string>;
  vars: Map<string, VarEntry>;
  /** The first definition; undefined for the implicit `all` and `ungrouped`. */
  origin?: Origin;
}

export interface HostSpec {
  name: string;
  vars: Map<string, VarEntry>;
  origin: Origin;
  order: number;
}

/** Groups and hosts in the order they were first written. */
export class InventoryModel {
  readonly groups = new Map<string, GroupSpec>();
  readonly hosts = new Map<string, HostSpec>();

  group(name: string, origin?: Origin): GroupSpec {
    let group = this.groups.get(name);
    if (!group) {
      group = { name, hosts: new Set(), children: new Map(), parents: new Set(), vars: new Map(), ...(origin ? { origin } : {}) };
      this.groups.set(name, group);
    } else if (!group.origin && origin) {
      group.origin = origin;
    }
    return group;
  }

  host(name: string, origin: Origin): HostSpec {
    let host = this.hosts.get(name);
    if (!host) {
      host = { name, vars: new Map(), origin, order: this.hosts.size };
      this.hosts.set(name, host);
    }
    return host;
  }

  link(parent: string, child: string, origin: Origin): void {
    const parentGroup = this.group(parent);
    if (!parentGroup.children.has(child)) parentGroup.children.set(child, origin);
    this.group(child).parents.add(parent);
  }
}

export interface AssembleInput {
  /** The file named in messages (for a cluster folder: the hosts file inside it). */
  file: string;
  /** Relative paths in the inventory resolve against this folder. */
  dir: string;
  fileOrigin: Origin;
}

/** Group order within one depth follows Ansible: `ansible_group_priority` (default 1), then name. */
function groupPriority(group: GroupSpec): number {
  const priority = group.vars.get('ansible_group_priority')?.value;
  return typeof priority === 'number' ? priority : 1;
}

/** More groups than this around one host, or variables than this on all hosts together, is no real inventory:
 * a hostile file would make assembling it cost that much time and memory. */
const MAX_GROUPS_OF_A_HOST = 1000;
const MAX_HOST_VARIABLES = 1_000_000;

/** What all hosts written in the same groups share: their groups in precedence order and the variables those give. */
interface Membership {
  member: Set<string>;
  names: string[];
  vars: Map<string, VarEntry>;
}

export function assembleInventory(model: InventoryModel, input: AssembleInput, problems: ConfigProblem[]): Inventory {
  const { groups, hosts } = model;
  model.group('all');
  const depths = groupDepths(groups, problems);
  const directGroups = placeUngrouped(model);
  depths.set('ungrouped', depths.get('ungrouped') ?? 1);
  const ancestorsOf = ancestorLookup(groups);

  const inventoryHosts = new Map<string, InventoryHost>();
  const varOrigins = new Map<string, Map<string, Origin>>();
  const hostOrigins = new Map<string, Origin>();
  const memberGroups = new Map<string, Set<string>>();
  const memberships = new Map<string, Membership>();
  let variables = 0;
  for (const host of hosts.values()) {
    const direct = directGroups.get(host.name) ?? [];
    const key = direct.join('\u0000');
    let membership = memberships.get(key);
    if (!membership) {
      const member = new Set<string>(['all']);
      for (const groupName of direct) for (const name of ancestorsOf(groupName)) member.add(name);
      if (member.size > MAX_GROUPS_OF_A_HOST) {
        problems.push(
          problemAtOrigin(host.origin, {
            code: 'inventory.too-many-groups',
            message: `host "${host.name}" is in ${member.size} groups through its groups' parents; at most ${MAX_GROUPS_OF_A_HOST} are read`,
            hint: 'check the :children sections for a generated list that ran away',
          }),
        );
        // The inventory is refused; its hosts keep only their own groups, so that each stays cheap.
        member.clear();
        for (const name of ['all', ...direct]) member.add(name);
      }
      membership = { member, ...orderedGroups(member, groups, depths) };
      memberships.set(key, membership);
    }
    memberGroups.set(host.name, membership.member);
    variables += membership.vars.size + host.vars.size;
    if (variables > MAX_HOST_VARIABLES && variables - membership.vars.size - host.vars.size <= MAX_HOST_VARIABLES) {
      problems.push(
        problemAtOrigin(host.origin, {
          code: 'inventory.too-many-variables',
          message: `the hosts up to "${host.name}" already have more than ${MAX_HOST_VARIABLES} variables in all (their groups' included)`,
          hint: 'split the inventory, or look for a generated :vars section that ran away',
        }),
      );
    }
    // Past that bound the inventory is refused; its remaining hosts keep only their own variables.
    const merged = new Map(variables > MAX_HOST_VARIABLES ? [] : membership.vars);
    for (const [name, entry] of host.vars) merged.set(name, entry);
    // fromEntries, not assignment: a variable named __proto__ must stay a variable.
    const vars: Vars = Object.fromEntries([...merged].map(([name, entry]) => [name, entry.value]));
    normalizeKeyFile(vars, input.dir);
    const inventoryHost: InventoryHost = { name: host.name, vars, groups: [...membership.names] };
    if (host.origin.kind === 'text') inventoryHost.loc = host.origin.loc;
    inventoryHosts.set(host.name, inventoryHost);
    varOrigins.set(host.name, new Map([...merged].map(([name, entry]) => [name, entry.origin])));
    hostOrigins.set(host.name, host.origin);
  }

  const { groupHosts, groupVars, groupOrigins } = groupTables(model, memberGroups);
  const inventory: Inventory = { file: input.file, dir: input.dir, hosts: inventoryHosts, groups: groupHosts, groupVars };
  attachInventoryMeta(inventory, new InventoryMeta(hostOrigins, varOrigins, groupOrigins, input.fileOrigin));
  return inventory;
}

/**
 * Ansible's precedence: all < parent group < child group < host; same depth: priority, then name (later
 * wins). The groups' variables merged in that order (a group's ansible_group_priority is its priority, not a
 * variable of its hosts).
 */
function orderedGroups(member: Set<string>, groups: Map<string, GroupSpec>, depths: Map<string, number>): Omit<Membership, 'member'> {
  const ordered = [...member]
    .map((name) => groups.get(name))
    .filter((group): group is GroupSpec => group !== undefined)
    .sort((a, b) => (depths.get(a.name) ?? 0) - (depths.get(b.name) ?? 0) || groupPriority(a) - groupPriority(b) || compareNames(a.name, b.name));
  const vars = new Map<string, VarEntry>();
  for (const group of ordered) for (const [name, entry] of group.vars) if (name !== 'ansible_group_priority') vars.set(name, entry);
  return { names: ordered.map((group) => group.name), vars };
}

/**
 * Each host's own groups; a host in no group but `all` goes to `ungrouped`, and one in any other group
 * leaves it (as Ansible reconciles an inventory).
 */
function placeUngrouped(model: InventoryModel): Map<string, string[]> {
  const ungrouped = model.group('ungrouped');
  const directGroups = new Map<string, string[]>();
  for (const group of model.groups.values()) {
    for (const hostName of group.hosts) {
      const list = directGroups.get(hostName);
      if (list) list.push(group.name);
      else directGroups.set(hostName, [group.name]);
    }
  }
  for (const host of model.hosts.values()) {
    const direct = (directGroups.get(host.name) ?? []).filter((name) => name !== 'ungrouped');
    if (!direct.some((name) => name !== 'all')) {
      direct.push('ungrouped');
      ungrouped.hosts.add(host.name);
    } else {
      ungrouped.hosts.delete(host.name);
    }
    directGroups.set(host.name, direct);
  }
  if (!ungrouped.parents.size) ungrouped.parents.add('all');
  return directGroups;
}

/** A group and all its ancestors, computed once per group. */
function ancestorLookup(groups: Map<string, GroupSpec>): (name: string) => Set<string> {
  const cache = new Map<string, Set<string>>();
  return (name) => {
    let found = cache.get(name);
    if (found) return found;
    found = new Set<string>();
    const stack = [name];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (found.has(next)) continue;
      found.add(next);
      for (const parent of groups.get(next)?.parents ?? []) stack.push(parent);
    }
    cache.set(name, found);
    return found;
  };
}

/** Every group's hosts (children included, in the order the hosts first appear), own variables and origin. */
function groupTables(model: InventoryModel, memberGroups: Map<string, Set<string>>) {
  const byFileOrder = [...model.hosts.values()].sort((a, b) => a.order - b.order).map((host) => host.name);
  const groupHosts = new Map<string, string[]>();
  const groupVars = new Map<string, Vars>();
  const groupOrigins = new Map<string, Origin>();
  const names = ['all', ...[...model.groups.keys()].filter((name) => name !== 'all' && name !== 'ungrouped'), 'ungrouped'];
  // One pass over the hosts, not one per group: a file may hold many of both.
  const members = new Map<string, string[]>();
  for (const host of byFileOrder) {
    for (const name of memberGroups.get(host) ?? []) {
      const list = members.get(name);
      if (list) list.push(host);
      else members.set(name, [host]);
    }
  }
  for (const name of names) {
    const group = model.groups.get(name);
    if (!group) continue;
    groupHosts.set(name, name === 'all' ? byFileOrder : (members.get(name) ?? []));
    const own = [...group.vars].filter(([key]) => key !== 'ansible_group_priority');
    groupVars.set(name, Object.fromEntries(own.map(([key, entry]) => [key, entry.value])));
    if (group.origin) groupOrigins.set(name, group.origin);
  }
  return { groupHosts, groupVars, groupOrigins };
}

/** Plain code-unit order, as Python sorts strings (Ansible sorts groups by name). */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `~` expanded; a relative key path is taken relative to the inventory's folder, so the lab's inventory works from anywhere. */
function normalizeKeyFile(vars: Vars, dir: string): void {
  for (const name of ['ansible_ssh_private_key_file', 'ansible_private_key_file']) {
    const value = vars[name];
    if (typeof value === 'string' && value !== '' && !value.includes('{{')) vars[name] = path.resolve(dir, expandHome(value));
  }
}

/**
 * Depth of each group below `all` (the longest path, as Ansible computes it); a child that is also its own
 * ancestor is reported as an error where the link that closes the loop was written. Iterative: a chain of
 * thousands of groups must not overflow the stack.
 */
function groupDepths(groups: Map<string, GroupSpec>, problems: ConfigProblem[]): Map<string, number> {
  const loops = walkGroups(groups, ['all']);
  for (const { parent, child, origin, path } of loops) {
    problems.push(
      problemAtOrigin(origin, {
        code: 'inventory.group-cycle',
        message: `group "${child}" is its own ancestor (${path.join(' > ')})`,
        hint: `remove "${child}" from the children of "${parent}"`,
      }),
    );
  }
  const skipped = new Set(loops.map(({ parent, child }) => `${parent}\u0000${child}`));
  // Reverse post-order of the walk is a topological order: each group's depth is final before its children's.
  const depths = new Map<string, number>([['all', 0]]);
  for (const name of loops.order.reverse()) {
    const depth = depths.get(name) ?? 0;
    for (const child of groups.get(name)?.children.keys() ?? []) {
      if (!skipped.has(`${name}\u0000${child}`) && (depths.get(child) ?? -1) < depth + 1) depths.set(child, depth + 1);
    }
  }
  return depths;
}

/** A link that makes a group its own ancestor, with the loop it closes. */
export interface LoopLink {
  parent: string;
  child: string;
  origin: Origin;
  path: string[];
}

/**
 * Depth-first walk from `roots` along child links: the links back to a group still being walked (each closes a
 * loop; `all` as a child always does), and the groups in post-order.
 */
function walkGroups(groups: Map<string, GroupSpec>, roots: Iterable<string>): LoopLink[] & { order: string[] } {
  const state = new Map<string, 'open' | 'done'>();
  const loops: LoopLink[] = [];
  const order: string[] = [];
  for (const root of roots) {
    if (state.has(root)) continue;
    const path: string[] = [];
    const stack: Iterator<[string, Origin]>[] = [];
    const enter = (name: string): void => {
      state.set(name, 'open');
      path.push(name);
      stack.push((groups.get(name)?.children ?? new Map<string, Origin>()).entries());
    };
    enter(root);
    while (stack.length > 0) {
      const next = (stack[stack.length - 1] as Iterator<[string, Origin]>).next();
      if (next.done) {
        stack.pop();
        const done = path.pop() as string;
        state.set(done, 'done');
        order.push(done);
        continue;
      }
      const [child, origin] = next.value;
      const parent = path[path.length - 1] as string;
      if (state.get(child) === 'open' || child === 'all') {
        loops.push({ parent, child, origin, path: loopPath(path, child) });
      } else if (!state.has(child)) enter(child);
    }
  }
  return Object.assign(loops, { order });
}

/** The groups of a loop from `child` round to `child`, its middle elided when long. */
function loopPath(path: string[], child: string): string[] {
  const loop = [...path.slice(Math.max(0, path.lastIndexOf(child))), child];
  return loop.length > 12 ? [...loop.slice(0, 5), `(${loop.length - 10} more)`, ...loop.slice(-5)] : loop;
}

/** Remove every link that closes a loop of groups (walking groups in the order they were first written); the removed links are returned to be reported. */
export function unlinkCycles(model: InventoryModel): LoopLink[] {
  const loops = walkGroups(model.groups, model.groups.keys());
  for (const { parent, child } of loops) {
    model.groups.get(parent)?.children.delete(child);
    model.groups.get(child)?.parents.delete(parent);
  }
  return [...loops];
}
