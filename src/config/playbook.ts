// Loads an Ansible-style playbook: plays, tasks, roles (roles/<name>/tasks/main.yml, defaults/main.yml).
import { access, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { sortProblems } from './format-problems.js';
import type { ModuleCatalog } from './module-catalog.js';
import {
  describeTaskPath,
  loadTaskFile,
  noInheritance,
  normalizeConditions,
  normalizeTags,
  normalizeTaskList,
  type Inherited,
  type TaskScope,
} from './playbook-tasks.js';
import { configValidator, translateAjvErrors } from './schema-validation.js';
import { didYouMean } from './suggest.js';
import type { Play, Playbook, Task, Vars } from './types.js';
import { locate, problemAt, readYaml, type YamlPath } from './yaml-source.js';

export type { ModuleCatalog, ModuleCatalogEntry } from './module-catalog.js';

export interface LoadPlaybookOptions {
  /** ansible.cfg's roles_path: folders searched for roles after `<playbook dir>/roles`, before the playbook's own folder. */
  rolesPath?: readonly string[];
}

/**
 * Read and check a playbook and everything it pulls in (roles, imported task files). All problems of all
 * those files are collected into one ConfigError; warnings come back in `playbook.warnings`.
 */
export async function loadPlaybook(file: string, catalog: ModuleCatalog, options: LoadPlaybookOptions = {}): Promise<Playbook> {
  const parsed = await readYaml(file);
  const problems: ConfigProblem[] = [...parsed.problems];
  const { source, value } = parsed;
  if (value === undefined) throw new ConfigError(sortProblems(problems, [file]));
  if (!Array.isArray(value)) {
    const what = value === null ? 'empty' : typeof value === 'object' ? 'a mapping (an inventory?)' : 'a single value';
    throw new ConfigError([
      ...problems,
      problemAt(source, [], {
        code: 'playbook.not-a-list',
        message: `a playbook must be a list of plays, but this file is ${what}`,
        expected: 'a list of plays, each starting with `- hosts:`',
        hint: 'see playbooks/ for examples',
      }),
    ]);
  }
  const validate = configValidator('playbook');
  if (!validate(value)) {
    for (const issue of translateAjvErrors(validate.errors, { codePrefix: 'playbook', describe: (p) => describePlaybookPath(value, p) })) {
      problems.push(problemAt(source, issue.path, issue.fields, issue.target));
    }
  }

  const scope: TaskScope = { source, catalog, problems, inherited: noInheritance, stack: [path.resolve(file)], rolesPath: options.rolesPath ?? [] };
  const plays: Play[] = [];
  for (const [index, raw] of value.entries()) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) continue;
    plays.push(await normalizePlay(raw as Record<string, unknown>, [index], scope));
  }
  if (problems.some((p) => p.severity === 'error')) throw new ConfigError(sortProblems(problems, [file]));
  return { file, plays, warnings: problems };
}

function describePlaybookPath(plays: unknown[], at: string[]): string | undefined {
  if (at.length === 0) return 'the playbook';
  const playIndex = Number(at[0]);
  if (at.length === 1) return `play ${playIndex + 1}`;
  const play: unknown = plays[playIndex];
  const section = at[1];
  if (
    at.length === 3 &&
    section !== undefined &&
    ['tasks', 'pre_tasks', 'post_tasks'].includes(section) &&
    typeof play === 'object' &&
    play !== null
  ) {
    return describeTaskPath((play as Record<string, unknown>)[section], at, 2);
  }
  return undefined;
}

async function normalizePlay(raw: Record<string, unknown>, playPath: YamlPath, scope: TaskScope): Promise<Play> {
  const hosts = Array.isArray(raw.hosts) ? raw.hosts.filter((h) => typeof h === 'string').join(',') : typeof raw.hosts === 'string' ? raw.hosts : '';
  const inherited: Inherited = { ...noInheritance, tags: normalizeTags(raw.tags) };
  const playScope: TaskScope = { ...scope, inherited };
  // Ansible's order: pre_tasks, roles, tasks, post_tasks.
  const tasks: Task[] = [
    ...(await normalizeTaskList(raw.pre_tasks, [...playPath, 'pre_tasks'], playScope)),
    ...(await loadRoles(raw.roles, [...playPath, 'roles'], playScope)),
    ...(await normalizeTaskList(raw.tasks, [...playPath, 'tasks'], playScope)),
    ...(await normalizeTaskList(raw.post_tasks, [...playPath, 'post_tasks'], playScope)),
  ];
  const play: Play = {
    hosts,
    // Ansible gathers facts unless told not to; the engine decides what gathering costs.
    gatherFacts: typeof raw.gather_facts === 'boolean' ? raw.gather_facts : true,
    vars: isRecord(raw.vars) ? raw.vars : {},
    tasks,
    loc: locate(scope.source, playPath),
  };
  if (typeof raw.name === 'string') play.name = raw.name;
  if (typeof raw.serial === 'number' || typeof raw.serial === 'string') play.serial = raw.serial;
  if (typeof raw.become === 'boolean') play.become = raw.become;
  return play;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ROLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}

/**
 * `roles: [name]` or `[{ role: name, vars: {...}, other: param }]`, from `<playbook dir>/roles/<name>/`.
 * defaults/main.yml becomes each task's `roleDefaults` (lowest precedence); vars/main.yml, the entry's
 * `vars:` and its parameters become task vars, in that order.
 */
async function loadRoles(list: unknown, listPath: YamlPath, scope: TaskScope): Promise<Task[]> {
  if (!Array.isArray(list)) return [];
  const tasks: Task[] = [];
  for (const [index, entry] of list.entries()) {
    const entryPath = [...listPath, index];
    const record = isRecord(entry) ? entry : undefined;
    const name =
      typeof entry === 'string' ? entry : typeof record?.role === 'string' ? record.role : typeof record?.name === 'string' ? record.name : undefined;
    const namePath = record ? [...entryPath, typeof record.role === 'string' ? 'role' : 'name'] : entryPath;
    if (name === undefined) {
      if (record) {
        scope.problems.push(
          problemAt(scope.source, entryPath, {
            code: 'playbook.role-name',
            message: 'a role entry needs `role: <name>`',
            hint: 'add role: followed by the role name',
          }),
        );
      }
      continue;
    }
    if (!ROLE_NAME.test(name) || name.includes('..')) {
      scope.problems.push(
        problemAt(scope.source, namePath, {
          code: 'playbook.role-name',
          message: `role name ${JSON.stringify(name)} is not valid`,
          expected: 'a folder name under roles/ (letters, digits, _, . and -)',
        }),
      );
      continue;
    }
    const playbookDir = path.dirname(scope.source.file);
    const searched = [path.join(playbookDir, 'roles'), ...(scope.rolesPath ?? []), playbookDir];
    const roleDir = await firstExisting(searched.map((dir) => path.join(dir, name)));
    const tasksFile = roleDir && (await firstExisting([path.join(roleDir, 'tasks', 'main.yml'), path.join(roleDir, 'tasks', 'main.yaml')]));
    if (!roleDir || !tasksFile) {
      const nearby = roleDir ? undefined : didYouMean(name, await roleNames(searched));
      scope.problems.push(
        problemAt(scope.source, namePath, {
          code: 'playbook.role-not-found',
          message: roleDir
            ? `role "${name}" has no tasks: there is no ${path.join(roleDir, 'tasks', 'main.yml')}`
            : `role "${name}" not found in ${searched.join(', ')}`,
          hint: roleDir
            ? `create ${path.join(roleDir, 'tasks', 'main.yml')}`
            : (nearby ?? `check the spelling of "${name}", or add the folder that holds it to roles_path in ansible.cfg`),
        }),
      );
      continue;
    }
    const defaults = await loadRoleVars(
      await firstExisting([path.join(roleDir, 'defaults', 'main.yml'), path.join(roleDir, 'defaults', 'main.yaml')]),
      scope,
    );
    const roleVars = await loadRoleVars(
      await firstExisting([path.join(roleDir, 'vars', 'main.yml'), path.join(roleDir, 'vars', 'main.yaml')]),
      scope,
    );
    const params: Vars = {};
    for (const [key, value] of Object.entries(record ?? {})) if (!['role', 'name', 'vars', 'tags', 'when'].includes(key)) params[key] = value;
    const inherited: Inherited = {
      when: normalizeConditions(record?.when) ?? [],
      tags: [...scope.inherited.tags, ...normalizeTags(record?.tags)],
      vars: { ...roleVars, ...(isRecord(record?.vars) ? record.vars : {}), ...params },
      role: name,
      roleDefaults: defaults,
    };
    tasks.push(...((await loadTaskFile(tasksFile, scope, namePath, inherited)) ?? []));
  }
  return tasks;
}

/** The folders under the role search path, for a "did you mean" (missing folders are skipped). */
async function roleNames(dirs: string[]): Promise<string[]> {
  const names = await Promise.all(dirs.map((dir) => readdir(dir, { withFileTypes: true }).catch(() => [])));
  return names.flat().flatMap((entry) => (entry.isDirectory() ? [entry.name] : []));
}

async function loadRoleVars(file: string | undefined, scope: TaskScope): Promise<Vars> {
  if (!file) return {};
  const parsed = await readYaml(file);
  scope.problems.push(...parsed.problems);
  if (parsed.value === undefined || parsed.value === null) return {};
  const validate = configValidator('playbook', '#/$defs/roleDefaults');
  if (!validate(parsed.value)) {
    for (const issue of translateAjvErrors(validate.errors, {
      codePrefix: 'playbook.role-vars',
      describe: (p) => (p.length === 0 ? path.basename(path.dirname(file)) + '/main.yml' : undefined),
    })) {
      scope.problems.push(problemAt(parsed.source, issue.path, issue.fields, issue.target));
    }
    return {};
  }
  return parsed.value as Vars;
}
