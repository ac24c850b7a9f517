// `orchestrate validate`: tell inventories from playbooks by their shape and check each completely.
import { isMap, isSeq } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { etcdMembers } from './etcd-vars.js';
import { statSync } from 'node:fs';
import { loadInventory, type LoadInventoryOptions } from './inventory.js';
import type { ModuleCatalog } from './module-catalog.js';
import { loadPlaybook } from './playbook.js';
import { problemAt, readYaml } from './yaml-source.js';

export interface FileReport {
  file: string;
  kind: 'inventory' | 'playbook' | 'unknown';
  /** Errors and warnings; the file is valid when none is an error. */
  problems: ConfigProblem[];
  /** For a valid file: `inventory, 5 hosts` or `playbook, 2 plays, 9 tasks`. */
  summary?: string;
}

export function isValid(report: FileReport): boolean {
  return !report.problems.some((problem) => problem.severity === 'error');
}

const INI_SECTION_LINE = /^[ \t]*\[[^:\]\s]+(?::\w+)?\][ \t]*(?:#.*)?\r?$/m;

/**
 * A list is a playbook, a mapping an inventory, a file with an INI `[group]` section that YAML cannot read as
 * either an INI inventory; a folder is an inventory folder (a kubeasz cluster).
 */
export interface ValidateOptions {
  /** ansible.cfg's roles_path. */
  rolesPath?: readonly string[];
  /** ansible.cfg's defaults for inventories. */
  inventoryOptions?: LoadInventoryOptions;
}

export async function validateFile(file: string, catalog: ModuleCatalog, options: ValidateOptions = {}): Promise<FileReport> {
  if (isFolder(file)) return validateInventory(file, options);
  const parsed = await readYaml(file);
  const { value, source } = parsed;
  if (parsed.problems.some((p) => p.code === 'file.unreadable')) return { file, kind: 'unknown', problems: parsed.problems };
  const looksLikeIni = (value === undefined || value === null || typeof value !== 'object') && INI_SECTION_LINE.test(source.text);
  if (Array.isArray(value)) return validatePlaybook(file, catalog, options);
  if ((typeof value === 'object' && value !== null) || looksLikeIni) return validateInventory(file, options);
  if (value === undefined) {
    // YAML errors: the loaders stop there, but the document's outline still tells what the file was meant to be.
    const kind = isSeq(source.doc.contents) ? 'playbook' : isMap(source.doc.contents) ? 'inventory' : 'unknown';
    return { file, kind, problems: parsed.problems };
  }
  return {
    file,
    kind: 'unknown',
    problems: [
      ...parsed.problems,
      problemAt(source, [], {
        code: 'validate.unknown-shape',
        message: value === null ? 'the file is empty' : 'the file is neither an inventory nor a playbook',
        expected: 'an inventory (a mapping starting with `all:`) or a playbook (a list of plays starting with `- hosts:`)',
      }),
    ],
  };
}

async function validatePlaybook(file: string, catalog: ModuleCatalog, options: ValidateOptions): Promise<FileReport> {
  try {
    const playbook = await loadPlaybook(file, catalog, options.rolesPath ? { rolesPath: options.rolesPath } : {});
    const tasks = playbook.plays.reduce((sum, play) => sum + play.tasks.length, 0);
    return {
      file,
      kind: 'playbook',
      problems: playbook.warnings ?? [],
      summary: `playbook, ${plural(playbook.plays.length, 'play')}, ${plural(tasks, 'task')}`,
    };
  } catch (error) {
    if (error instanceof ConfigError) return { file, kind: 'playbook', problems: error.problems };
    throw error;
  }
}

function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

async function validateInventory(file: string, options: ValidateOptions): Promise<FileReport> {
  try {
    const { inventory, warnings } = await loadInventory(file, options.inventoryOptions);
    const members = etcdMembers(inventory).length;
    const summary = `inventory, ${plural(inventory.hosts.size, 'host')}${members > 0 ? `, ${plural(members, 'etcd member')}` : ''}`;
    return { file, kind: 'inventory', problems: warnings, summary };
  } catch (error) {
    if (error instanceof ConfigError) return { file, kind: 'inventory', problems: error.problems };
    throw error;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
