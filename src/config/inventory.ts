// Loads an Ansible YAML inventory: groups, nested children, host and group variables with Ansible's precedence.
import * as path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { sortProblems } from './format-problems.js';
import { expandHome } from './connection.js';
import { checkInventory } from './inventory-checks.js';
import { InventoryMeta, attachInventoryMeta } from './inventory-meta.js';
import { configValidator, translateAjvErrors } from './schema-validation.js';
import type { Inventory, InventoryHost, Vars } from './types.js';
import { isMap, isScalar } from 'yaml';
import { locate, nodeAt, parseYaml, problemAt, readConfigText, type YamlPath, type YamlSource } from './yaml-source.js';

export interface LoadInventoryOptions {
  /** Treat a missing or empty `etcd` group as an error (commands that back up or restore need members). */
  requireEtcd?: boolean;
}

export interface LoadedInventory {
  inventory: Inventory;
  warnings: ConfigProblem[];
}

/** Read, validate and build an inventory; every problem in the file is collected into one ConfigError. */
export async function loadInventory(file: string, options: LoadInventoryOptions = {}): Promise<LoadedInventory> {
  const read = await readConfigText(file, 'check the path of the inventory');
  if ('problem' in read) {
    const { problem } = read;
    throw new ConfigError([
      problem.code === 'file.unreadable' ? { ...problem, message: problem.message.replace(/^cannot read /, 'cannot read inventory ') } : problem,
    ]);
  }
  return parseInventory(file, read.text, options);
}

/** Same as loadInventory, from text already in memory (`file` is used for messages and relative paths). */
export function parseInventory(file: string, text: string, options: LoadInventoryOptions = {}): LoadedInventory {
  const parsed = parseYaml(file, text);
  const { source } = parsed;
  const problems = [...parsed.problems];
  const iniLine = iniSectionLine(text);
  if (iniLine !== undefined && !isRecord(parsed.value)) {
    throw new ConfigError([
      problemAt(source, [], {
        code: 'inventory.ini-format',
        message: `this looks like an INI inventory ("${iniLine}"); only Ansible's YAML inventory format is supported`,
        expected: 'a YAML inventory starting with `all:`',
        hint: `convert it with: ansible-inventory -i ${file} --list -y > inventory.yml`,
      }),
    ]);
  }
  if (problems.some((p) => p.severity === 'error')) throw new ConfigError(sortProblems(problems));
  const value = parsed.value;
  if (!isRecord(value)) {
    const what = value === null || value === undefined ? 'empty' : Array.isArray(value) ? 'a list (a playbook?)' : 'a single value';
    throw new ConfigError([
      ...problems,
      problemAt(source, [], {
        code: 'inventory.not-a-mapping',
        message: `an inventory must be a mapping of groups, but this file is ${what}`,
        expected: 'a YAML inventory starting with `all:`',
        hint: 'see inventories/example.yml for the format',
      }),
    ]);
  }
  const validate = configValidator('inventory');
  const shapeOk = validate(value);
  if (!shapeOk) {
    for (const issue of translateAjvErrors(validate.errors, { codePrefix: 'inventory', describe: describeInventoryPath })) {
      problems.push(problemAt(source, issue.path, issue.fields, issue.target));
    }
  }
  // Building only reads values of the right type, so the semantic checks can run on a file with schema
  // errors too and every problem is reported at once. Group-level checks (an empty or even `etcd` group)
  // wait for a valid shape: a `hosts:` written as a list would otherwise also read as an empty group.
  const built = buildInventory(source, value, problems);
  problems.push(...checkInventory(built, { ...options, checkGroups: shapeOk }));
  if (problems.some((p) => p.severity === 'error')) throw new ConfigError(sortProblems(problems));
  return { inventory: built, warnings: problems };
}

function describeInventoryPath(instancePath: string[]): string | undefined {
  const last = instancePath[instancePath.length - 2];
  const name = instancePath[instancePath.length - 1];
  if (last === 'hosts' && name !== undefined) return `host "${name}"`;
  if ((last === 'children' || instancePath.length === 1) && name !== undefined) return `group "${name}"`;
  if (instancePath.length === 0) return 'the inventory';
  return undefined;
}

function iniSectionLine(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    return /^\[[^\]]+\]$/.test(trimmed) ? trimmed : undefined;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface VarEntry {
  value: unknown;
  path: YamlPath;
}

interface GroupDef {
  name: string;
  /** Hosts listed directly under this group's `hosts:`. */
  hosts: Set<string>;
  children: Map<string, YamlPath>;
  parents: Set<string>;
  vars: Map<string, VarEntry>;
  path: YamlPath;
}

interface HostDef {
  name: string;
  vars: Map<string, VarEntry>;
  path: YamlPath;
  order: number;
}

/** Group order within one depth follows Ansible: `ansible_group_priority` (default 1), then name. */
function groupPriority(group: GroupDef): number {
  const priority = group.vars.get('ansible_group_priority')?.value;
  return typeof priority === 'number' ? priority : 1;
}

function buildInventory(source: YamlSource, root: Record<string, unknown>, problems: ConfigProblem[]): Inventory {
  const groups = new Map<string, GroupDef>();
  const hosts = new Map<string, HostDef>();

  const groupDef = (name: string, groupPath: YamlPath): GroupDef => {
    let group = groups.get(name);
    if (!group) {
      group = { name, hosts: new Set(), children: new Map(), parents: new Set(), vars: new Map(), path: groupPath };
      groups.set(name, group);
    }
    return group;
  };

  const mergeVars = (target: Map<string, VarEntry>, vars: unknown, varsPath: YamlPath): void => {
    if (!isRecord(vars)) return;
    for (const [key, value] of Object.entries(vars)) target.set(key, { value, path: [...varsPath, key] });
  };

  const walkGroup = (name: string, body: unknown, groupPath: YamlPath, parent: string | undefined): void => {
    const group = groupDef(name, groupPath);
    if (parent !== undefined) {
      const parentGroup = groupDef(parent, []);
      if (!parentGroup.children.has(name)) parentGroup.children.set(name, groupPath);
      group.parents.add(parent);
    }
    if (!isRecord(body)) return;
    if (isRecord(body.hosts)) {
      for (const [hostName, hostVars] of entriesInFileOrder(source, [...groupPath, 'hosts'], body.hosts)) {
        const hostPath = [...groupPath, 'hosts', hostName];
        let host = hosts.get(hostName);
        if (!host) {
          host = { name: hostName, vars: new Map(), path: hostPath, order: hosts.size };
          hosts.set(hostName, host);
        }
        group.hosts.add(hostName);
        // A host listed in several groups: Ansible merges its host vars, later mentions winning.
        mergeVars(host.vars, hostVars, hostPath);
      }
    }
    mergeVars(group.vars, body.vars, [...groupPath, 'vars']);
    if (isRecord(body.children)) {
      for (const [childName, childBody] of entriesInFileOrder(source, [...groupPath, 'children'], body.children)) {
        walkGroup(childName, childBody, [...groupPath, 'children', childName], name);
      }
    }
  };

  groupDef('all', []);
  for (const [name, body] of entriesInFileOrder(source, [], root)) {
    if (name === 'all') {
      groupDef('all', ['all']).path = ['all'];
      walkGroup('all', body, ['all'], undefined);
    } else {
      walkGroup(name, body, [name], 'all');
    }
  }

  const depths = groupDepths(source, groups, problems);
  const ungrouped = groupDef('ungrouped', []);
  for (const host of hosts.values()) {
    const direct = [...groups.values()].filter((group) => group.hosts.has(host.name));
    if (direct.every((group) => group.name === 'all' || group.name === 'ungrouped')) ungrouped.hosts.add(host.name);
  }
  depths.set('ungrouped', depths.get('ungrouped') ?? 1);
  if (!ungrouped.parents.size) ungrouped.parents.add('all');

  const ancestorsOf = (name: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(name)) return seen;
    seen.add(name);
    for (const parent of groups.get(name)?.parents ?? []) ancestorsOf(parent, seen);
    return seen;
  };

  const inventoryHosts = new Map<string, InventoryHost>();
  const varPaths = new Map<string, Map<string, YamlPath>>();
  const hostPaths = new Map<string, YamlPath>();
  const memberGroups = new Map<string, Set<string>>();
  const dir = path.dirname(path.resolve(source.file));

  for (const host of hosts.values()) {
    const member = new Set<string>(['all']);
    for (const group of groups.values()) {
      if (group.hosts.has(host.name)) for (const name of ancestorsOf(group.name)) member.add(name);
    }
    memberGroups.set(host.name, member);
    // Ansible's precedence: all < parent group < child group < host; same depth: priority, then name (later wins).
    const ordered = [...member]
      .map((name) => groups.get(name))
      .filter((group): group is GroupDef => group !== undefined)
      .sort((a, b) => (depths.get(a.name) ?? 0) - (depths.get(b.name) ?? 0) || groupPriority(a) - groupPriority(b) || compareNames(a.name, b.name));
    const vars: Vars = {};
    const paths = new Map<string, YamlPath>();
    for (const table of [...ordered.map((group) => group.vars), host.vars]) {
      for (const [key, entry] of table) {
        vars[key] = entry.value;
        paths.set(key, entry.path);
      }
    }
    normalizeKeyFile(vars, dir);
    const inventoryHost: InventoryHost = {
      name: host.name,
      vars,
      groups: ordered.map((group) => group.name),
      loc: locate(source, host.path, 'key'),
    };
    inventoryHosts.set(host.name, inventoryHost);
    varPaths.set(host.name, paths);
    hostPaths.set(host.name, host.path);
  }

  // Every group lists its hosts (children included) in the order they first appear in the file.
  const byFileOrder = [...hosts.values()].sort((a, b) => a.order - b.order).map((host) => host.name);
  const groupHosts = new Map<string, string[]>();
  const groupVars = new Map<string, Vars>();
  const groupPaths = new Map<string, YamlPath>();
  const groupNames = ['all', ...[...groups.keys()].filter((name) => name !== 'all' && name !== 'ungrouped'), 'ungrouped'];
  for (const name of groupNames) {
    const group = groups.get(name);
    if (!group) continue;
    groupHosts.set(name, name === 'all' ? byFileOrder : byFileOrder.filter((host) => memberGroups.get(host)?.has(name)));
    groupVars.set(name, Object.fromEntries([...group.vars].map(([key, entry]) => [key, entry.value])));
    if (group.path.length > 0) groupPaths.set(name, group.path);
  }

  const inventory: Inventory = { file: source.file, dir, hosts: inventoryHosts, groups: groupHosts, groupVars };
  attachInventoryMeta(inventory, new InventoryMeta(source, hostPaths, varPaths, groupPaths));
  return inventory;
}

/** A mapping's entries in the order written: JS objects put integer-like keys (a host named `1`) first. */
function entriesInFileOrder(source: YamlSource, at: YamlPath, object: Record<string, unknown>): [string, unknown][] {
  const node = nodeAt(source, at);
  const written = isMap(node) ? node.items.flatMap((pair) => (isScalar(pair.key) ? [String(pair.key.value)] : [])) : [];
  const keys = [...new Set([...written.filter((key) => Object.hasOwn(object, key)), ...Object.keys(object)])];
  return keys.map((key) => [key, object[key]]);
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
 * ancestor is reported as an error at the place that closes the loop.
 */
function groupDepths(source: YamlSource, groups: Map<string, GroupDef>, problems: ConfigProblem[]): Map<string, number> {
  const depths = new Map<string, number>();
  const reported = new Set<string>();
  const visit = (name: string, depth: number, stack: string[]): void => {
    if ((depths.get(name) ?? -1) < depth) depths.set(name, depth);
    const group = groups.get(name);
    if (!group) return;
    for (const [child, childPath] of group.children) {
      if (child === name || stack.includes(child)) {
        if (reported.has(`${name}>${child}`)) continue;
        reported.add(`${name}>${child}`);
        problems.push(
          problemAt(
            source,
            childPath,
            {
              code: 'inventory.group-cycle',
              message: `group "${child}" is its own ancestor (${[...stack, name, child].join(' > ')})`,
              hint: `remove "${child}" from the children of "${name}"`,
            },
            'key',
          ),
        );
        continue;
      }
      visit(child, depth + 1, [...stack, name]);
    }
  };
  visit('all', 0, []);
  return depths;
}
