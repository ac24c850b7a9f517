// Loads an inventory: Ansible's YAML or INI format (told apart by content, not by name), or a folder holding
// one (a kubeasz cluster folder: `hosts` and `config.yml`). Every problem is collected into one ConfigError.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { sortProblems } from './format-problems.js';
import { readIniInventory } from './ini-inventory.js';
import { assembleInventory } from './inventory-assemble.js';
import { checkInventory } from './inventory-checks.js';
import { inventoryMeta } from './inventory-meta.js';
import { applyKubeaszMeanings, isKubeaszInventory, noClusterConfig, readClusterConfig, type ClusterConfig } from './kubeasz-cluster.js';
import type { Origin } from './origin.js';
import type { Inventory } from './types.js';
import { readYamlInventory, type ReadInventory } from './yaml-inventory.js';
import { readConfigText } from './yaml-source.js';

export interface ConnectionDefaults {
  /** ansible.cfg `remote_user`: the login for hosts without `ansible_user`. */
  remoteUser?: { value: string; origin: Origin };
  /** ansible.cfg `private_key_file`: the key for hosts without `ansible_ssh_private_key_file`. */
  privateKeyFile?: { value: string; origin: Origin };
}

export interface LoadInventoryOptions {
  /** Treat a missing or empty `etcd` group as an error (commands that back up or restore need members). */
  requireEtcd?: boolean;
  /** Defaults from ansible.cfg, applied where the inventory says nothing. */
  connectionDefaults?: ConnectionDefaults;
}

export interface LoadedInventory {
  inventory: Inventory;
  warnings: ConfigProblem[];
}

/** Files looked for, in this order, when the inventory argument is a folder. */
export const INVENTORY_FILES_IN_FOLDER = ['hosts', 'hosts.yml', 'hosts.yaml', 'inventory.yml', 'inventory.yaml', 'hosts.ini', 'inventory.ini'];

/** Read, validate and build an inventory from a file or a folder; every problem is collected into one ConfigError. */
export async function loadInventory(file: string, options: LoadInventoryOptions = {}): Promise<LoadedInventory> {
  const folder = isFolder(file) ? file : undefined;
  const inventoryFile = folder === undefined ? file : inventoryFileIn(folder);
  const read = await readConfigText(inventoryFile, 'check the path of the inventory');
  if ('problem' in read) {
    const { problem } = read;
    throw new ConfigError([
      problem.code === 'file.unreadable' ? { ...problem, message: problem.message.replace(/^cannot read /, 'cannot read inventory ') } : problem,
    ]);
  }
  const stage = assemble(inventoryFile, read.text, folder);
  const config = isKubeaszInventory(stage.inventory, folder) ? await readClusterConfig(folder ?? path.dirname(inventoryFile)) : undefined;
  return finish(stage, options, config, folder);
}

/** Same as loadInventory, from text already in memory (`file` is used for messages and relative paths; no config.yml is read). */
export function parseInventory(file: string, text: string, options: LoadInventoryOptions = {}): LoadedInventory {
  const stage = assemble(file, text, undefined);
  return finish(stage, options, isKubeaszInventory(stage.inventory, undefined) ? noClusterConfig : undefined, undefined);
}

interface Assembled {
  file: string;
  inventory: Inventory;
  problems: ConfigProblem[];
  shapeOk: boolean;
}

function assemble(file: string, text: string, folder: string | undefined): Assembled {
  const read: ReadInventory = inventoryFormat(text) === 'ini' ? readIniInventory(file, text) : readYamlInventory(file, text);
  const problems = [...read.problems];
  if (!read.model) throw new ConfigError(sortProblems(problems));
  const dir = folder === undefined ? path.dirname(path.resolve(file)) : path.resolve(folder);
  const inventory = assembleInventory(read.model, { file, dir, fileOrigin: read.fileOrigin }, problems);
  return { file, inventory, problems, shapeOk: read.shapeOk };
}

function finish(stage: Assembled, options: LoadInventoryOptions, config: ClusterConfig | undefined, folder: string | undefined): LoadedInventory {
  const { inventory, problems, file } = stage;
  if (config) {
    problems.push(...config.problems);
    if (config.problems.every((p) => p.severity !== 'error')) problems.push(...applyKubeaszMeanings(inventory, config, folder));
  }
  if (options.connectionDefaults) applyConnectionDefaults(inventory, options.connectionDefaults);
  problems.push(...checkInventory(inventory, { ...options, checkGroups: stage.shapeOk }));
  const sorted = sortProblems(problems, [file]);
  if (problems.some((p) => p.severity === 'error')) throw new ConfigError(sorted);
  return { inventory, warnings: sorted };
}

function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** The inventory file inside a folder, or a ConfigError naming what was looked for. */
function inventoryFileIn(folder: string): string {
  for (const name of INVENTORY_FILES_IN_FOLDER) {
    const candidate = path.join(folder, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next name
    }
  }
  throw new ConfigError([
    {
      severity: 'error',
      code: 'inventory.folder-without-inventory',
      message: `the folder ${folder} holds no inventory: none of ${INVENTORY_FILES_IN_FOLDER.join(', ')}`,
      expected: 'a kubeasz cluster folder (with its hosts file and config.yml), or a folder holding inventory.yml',
      hint: `give the inventory file itself, or the cluster folder (e.g. /etc/kubeasz/clusters/<name>)`,
    },
  ]);
}

const INI_SECTION = /^\[[^:\]\s]+(?::[\p{L}\p{N}_]+)?\]\s*(?:#.*)?$/u;
const YAML_KEY = /^(?:"[^"]*"|'[^']*'|[^\s=:#'"[\]{},][^\s=:]*)\s*:(?:\s|$)/;

/**
 * INI or YAML, from the first line that is not blank or a comment: a `[group]` line or a host line is INI;
 * `key:`, `---`, `{`, `- ` or a `%YAML` directive is YAML. Names do not matter (kubeasz calls its INI file `hosts`).
 */
export function inventoryFormat(text: string): 'ini' | 'yaml' {
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (INI_SECTION.test(line)) return 'ini';
    if (line.startsWith('---') || line.startsWith('%') || line.startsWith('{') || line.startsWith('- ') || line === '-') return 'yaml';
    return YAML_KEY.test(line) ? 'yaml' : 'ini';
  }
  return 'yaml';
}

/** ansible.cfg's remote_user and private_key_file for hosts whose inventory does not name a login or key. */
function applyConnectionDefaults(inventory: Inventory, defaults: ConnectionDefaults): void {
  const meta = inventoryMeta(inventory);
  for (const host of inventory.hosts.values()) {
    const origins = meta?.varOrigins.get(host.name);
    const set = (name: string, value: { value: string; origin: Origin }): void => {
      host.vars[name] = value.value;
      origins?.set(name, value.origin);
    };
    if (defaults.remoteUser && host.vars.ansible_user === undefined && host.vars.ansible_ssh_user === undefined)
      set('ansible_user', defaults.remoteUser);
    if (defaults.privateKeyFile && host.vars.ansible_ssh_private_key_file === undefined && host.vars.ansible_private_key_file === undefined) {
      set('ansible_ssh_private_key_file', defaults.privateKeyFile);
    }
  }
}

/**
 * The inventory exactly as its file says, before kubeasz's meanings, ansible.cfg defaults and orchestrate's
 * own checks: what `ansible-inventory --list` would show (the oracle tests compare the two).
 */
export function readInventoryAsWritten(file: string, text: string): Inventory {
  const stage = assemble(file, text, undefined);
  if (stage.problems.some((p) => p.severity === 'error')) throw new ConfigError(sortProblems(stage.problems, [file]));
  return stage.inventory;
}
