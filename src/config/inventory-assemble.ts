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
  const orderCache = new Map<string, GroupSpec[]>();
  for (const host of hosts.values()) {
    const member = new Set<string>(['all']);
    for (const groupName of directGroups.get(host.name) ?? []) for (const name of ancestorsOf(groupName)) member.add(name);
    memberGroups.set(host.name, member);
    // Ansible's precedence: all < parent group < child group < host; same depth: priority, then name (later wins).
    const key = [...member].sort().join('\u0000');
    let ordered = orderCache.get(key);
    if (!ordered) {
      ordered = [...member]
        .map((name) => groups.get(name))
        .filter((group): group is GroupSpec => group !== undefined)
        .sort((a, b) => (depths.get(a.name) ?? 0) - (depths.get(b.name) ?? 0) || groupPriority(a) - groupPriority(b) || compareNames(a.name, b.name));
      orderCache.set(key, ordered);
    }
    const { vars, origins } = mergedVars(ordered, host);
    normalizeKeyFile(vars, input.dir);
    const inventoryHost: InventoryHost = { name: host.name, vars, groups: ordered.map((group) => group.name) };
    if (host.origin.kind === 'text') inventoryHost.loc = host.origin.loc;
    inventoryHosts.set(host.name, inventoryHost);
    varOrigins.set(host.name, origins);
    hostOrigins.set(host.name, host.origin);
  }

  const { groupHosts, groupVars, groupOrigins } = groupTables(model, memberGroups);
  const inventory: Inventory = { file: input.file, dir: input.dir, hosts: inventoryHosts, groups: groupHosts, groupVars };
  attachInventoryMeta(inventory, new InventoryMeta(hostOrigins, varOrigins, groupOrigins, input.fileOrigin));
  return inventory;
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

/** A host's variables: its groups' in precedence order, then its own; each with where it was written. */
function mergedVars(ordered: GroupSpec[], host: HostSpec): { vars: Vars; origins: Map<string, Origin> } {
  const vars: Vars = {};
  const origins = new Map<string, Origin>();
  for (const table of [...ordered.map((group) => group.vars), host.vars]) {
    for (const [name, entry] of table) {
      // Ansible makes a group's ansible_group_priority its priority, not a variable of its hosts.
      if (name === 'ansible_group_priority' && table !== host.vars) continue;
      vars[name] = entry.value;
      origins.set(name, entry.origin);
    }
  }
  return { vars, origins };
}

/** Every group's hosts (children included, in the order the hosts first appear), own variables and origin. */
function groupTables(model: InventoryModel, memberGroups: Map<string, Set<string>>) {
  const byFileOrder = [...model.hosts.values()].sort((a, b) => a.order - b.order).map((host) => host.name);
  const groupHosts = new Map<string, string[]>();
  const groupVars = new Map<string, Vars>();
  const groupOrigins = new Map<string, Origin>();
  const names = ['all', ...[...model.groups.keys()].filter((name) => name !== 'all' && name !== 'ungrouped'), 'ungrouped'];
  for (const name of names) {
    const group = model.groups.get(name);
    if (!group) continue;
    groupHosts.set(name, name === 'all' ? byFileOrder : byFileOrder.filter((host) => memberGroups.get(host)?.has(name)));
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
 * ancestor is reported as an error where the link that closes the loop was written.
 */
function groupDepths(groups: Map<string, GroupSpec>, problems: ConfigProblem[]): Map<string, number> {
  const depths = new Map<string, number>();
  const reported = new Set<string>();
  const visit = (name: string, depth: number, stack: string[]): void => {
    if ((depths.get(name) ?? -1) >= depth && depth > 0) return;
    if ((depths.get(name) ?? -1) < depth) depths.set(name, depth);
    const group = groups.get(name);
    if (!group) return;
    for (const [child, childOrigin] of group.children) {
      if (child === name || stack.includes(child) || child === 'all') {
        if (reported.has(`${name}>${child}`)) continue;
        reported.add(`${name}>${child}`);
        problems.push(
          problemAtOrigin(childOrigin, {
            code: 'inventory.group-cycle',
            message: `group "${child}" is its own ancestor (${[...stack, name, child].join(' > ')})`,
            hint: `remove "${child}" from the children of "${name}"`,
          }),
        );
        continue;
      }
      visit(child, depth + 1, [...stack, name]);
    }
  };
  visit('all', 0, []);
  return depths;
}
