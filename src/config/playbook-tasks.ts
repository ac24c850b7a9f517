// Task lists: finding the one module of each task, building and checking its arguments, normalizing keywords,
// and static `import_tasks` / `include_tasks`.
import * as path from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { ansibleCommandLine, parseKeyValueArgs } from './key-value-args.js';
import type { ModuleCatalog, ModuleCatalogEntry } from './module-catalog.js';
import { configSchema, configValidator, describeValue, moduleValidator, translateAjvErrors } from './schema-validation.js';
import { didYouMean, nearest } from './suggest.js';
import type { Task, Vars } from './types.js';
import { locate, problemAt, problemWithin, readYaml, type ProblemFields, type YamlPath, type YamlSource } from './yaml-source.js';

/** What an enclosing import or role adds to each of its tasks. */
export interface Inherited {
  when: string[];
  tags: string[];
  vars: Vars;
  role?: string;
  roleDefaults?: Vars;
}

export interface TaskScope {
  source: YamlSource;
  catalog: ModuleCatalog;
  /** Errors and warnings from every file, in the order found. */
  problems: ConfigProblem[];
  inherited: Inherited;
  /** Resolved paths of the task files being read, to refuse import loops. */
  stack: string[];
  /** ansible.cfg's roles_path. */
  rolesPath?: readonly string[];
}

export const noInheritance: Inherited = { when: [], tags: [], vars: {} };

const MAX_IMPORT_DEPTH = 20;

/** Names the engine defines itself; a registered result under one of them would hide it. */
const reservedNames = new Set([
  'hostvars',
  'groups',
  'group_names',
  'inventory_hostname',
  'ansible_facts',
  'item',
  'play_hosts',
  'ansible_play_hosts',
  'omit',
]);

type TaskSchema = { properties: Record<string, Record<string, unknown>> };

function taskKeywordSets(): { all: Set<string>; supported: string[] } {
  const defs = configSchema('playbook').$defs as Record<string, TaskSchema>;
  const properties = defs.task?.properties ?? {};
  return {
    all: new Set(Object.keys(properties)),
    supported: Object.entries(properties)
      .filter(([, schema]) => !('not' in schema))
      .map(([key]) => key),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `when`, `changed_when`, `failed_when`: a string, a boolean or a list of them, as expressions. */
export function normalizeConditions(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = Array.isArray(value) ? value : [value];
  const conditions = items.filter((item) => typeof item === 'string' || typeof item === 'boolean').map((item) => String(item).trim());
  return conditions.length > 0 ? conditions : undefined;
}

/** `tags: a,b` or a list; as in Ansible, a string is split on commas. */
export function normalizeTags(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return items
    .filter((item): item is string => typeof item === 'string')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

function report(scope: TaskScope, at: YamlPath, fields: ProblemFields, target: 'key' | 'value' = 'value'): void {
  scope.problems.push(problemAt(scope.source, at, fields, target));
}

/** Normalize a task list (`tasks:`, `pre_tasks:`, a role's tasks/main.yml, an imported file). */
export async function normalizeTaskList(list: unknown, listPath: YamlPath, scope: TaskScope): Promise<Task[]> {
  if (!Array.isArray(list)) return [];
  const tasks: Task[] = [];
  for (const [index, raw] of list.entries()) {
    if (!isRecord(raw)) continue; // the schema has reported it
    tasks.push(...(await normalizeTask(raw, [...listPath, index], scope)));
  }
  return tasks;
}

async function normalizeTask(raw: Record<string, unknown>, taskPath: YamlPath, scope: TaskScope): Promise<Task[]> {
  const keywords = taskKeywordSets();
  if (raw.import_tasks !== undefined || raw.include_tasks !== undefined) return importTasks(raw, taskPath, scope, keywords.all);

  const candidates = Object.keys(raw).filter((key) => !keywords.all.has(key));
  const known = candidates.flatMap((key) => {
    const entry = lookupModule(scope.catalog, key);
    return entry ? [{ key, entry }] : [];
  });
  for (const key of candidates) {
    if (known.some((k) => k.key === key)) continue;
    const moduleSuggestion = nearest(key, scope.catalog.names());
    const keywordSuggestion = nearest(key, keywords.supported);
    if (known.length > 0 || (keywordSuggestion !== undefined && moduleSuggestion === undefined)) {
      report(
        scope,
        [...taskPath, key],
        {
          code: 'playbook.unknown-keyword',
          message: `unknown task keyword "${key}"`,
          expected: `one module plus task keywords (${keywords.supported.slice(0, 8).join(', ')}, ...)`,
          hint: didYouMean(key, [...keywords.supported, ...scope.catalog.names()]) ?? `remove "${key}"`,
        },
        'key',
      );
    } else {
      report(
        scope,
        [...taskPath, key],
        {
          code: 'playbook.unknown-module',
          message: `unknown module "${key}"`,
          expected: 'a module name such as shell, command, service, file or copy',
          hint: moduleSuggestion === undefined ? `known modules: ${scope.catalog.names().join(', ')}` : `did you mean "${moduleSuggestion}"?`,
        },
        'key',
      );
    }
  }
  if (known.length > 1) {
    const [first, second] = known;
    report(
      scope,
      [...taskPath, second?.key ?? ''],
      {
        code: 'playbook.two-modules',
        message: `a task runs one module, but this one has "${first?.key}" and "${second?.key}"`,
        hint: 'split it into two tasks',
      },
      'key',
    );
    return [];
  }
  const chosen = known[0];
  if (!chosen) {
    if (candidates.length === 0) {
      report(scope, taskPath, {
        code: 'playbook.no-module',
        message: `task${typeof raw.name === 'string' ? ` "${raw.name}"` : ''} has no module`,
        expected: 'one module key such as shell:, command:, service: or file:',
        hint: 'add the module to run, e.g. `shell: etcdctl endpoint health`',
      });
    }
    return [];
  }
  const args = moduleArguments(raw, chosen.key, chosen.entry, taskPath, scope);
  if (args === undefined) return [];
  return [buildTask(raw, chosen.entry.id, args, taskPath, scope)];
}

const collectionPrefixes = ['ansible.builtin.', 'ansible.legacy.'];

/** Modules whose free-form string is a command line that Ansible splits and joins again. */
const COMMAND_MODULES = new Set(['shell', 'command']);

/** `ansible.builtin.shell` is `shell`, whether or not the catalog knows the long name itself. */
function lookupModule(catalog: ModuleCatalog, name: string): ModuleCatalogEntry | undefined {
  const direct = catalog.lookup(name);
  if (direct) return direct;
  const prefix = collectionPrefixes.find((p) => name.startsWith(p));
  return prefix ? catalog.lookup(name.slice(prefix.length)) : undefined;
}

/** Where each top-level argument was written, so that argument errors point at it. */
type ArgOrigins = Map<string, { path: YamlPath; inString: boolean }>;

function moduleArguments(
  raw: Record<string, unknown>,
  moduleKey: string,
  entry: ModuleCatalogEntry,
  taskPath: YamlPath,
  scope: TaskScope,
): Record<string, unknown> | undefined {
  const modulePath = [...taskPath, moduleKey];
  const value = raw[moduleKey];
  const origins: ArgOrigins = new Map();
  let moduleArgs: Record<string, unknown>;
  if (typeof value === 'string') {
    const parsed = stringArguments(value, entry, modulePath, scope);
    if (parsed === undefined) return undefined;
    moduleArgs = parsed;
    for (const key of Object.keys(moduleArgs)) origins.set(key, { path: modulePath, inString: true });
  } else if (value === null || value === undefined) {
    moduleArgs = {};
  } else if (isRecord(value)) {
    moduleArgs = { ...value };
    for (const key of Object.keys(moduleArgs)) origins.set(key, { path: [...modulePath, key], inString: false });
  } else {
    report(scope, modulePath, {
      code: 'playbook.module-arguments',
      message: `the arguments of ${moduleKey} must be a mapping or a string, not ${describeValue(value)}`,
      expected: 'a mapping of arguments, or a string (key=value words or a free-form command)',
    });
    return undefined;
  }
  const extra = isRecord(raw.args) ? raw.args : {};
  for (const key of Object.keys(extra)) if (!origins.has(key)) origins.set(key, { path: [...taskPath, 'args', key], inString: false });
  // Arguments written with the module win over `args:`, as in Ansible.
  const args: Record<string, unknown> = { ...extra, ...moduleArgs };

  const validate = moduleValidator(entry.schema);
  if (!validate(args)) {
    const describe = (argPath: string[]): string => (argPath.length === 0 ? `module ${entry.id}` : `${entry.id} argument "${argPath.join('.')}"`);
    for (const issue of translateAjvErrors(validate.errors, {
      codePrefix: 'playbook.module',
      ignoreTemplated: true,
      describe,
      keyNoun: 'argument',
    })) {
      const [first, ...rest] = issue.path;
      const origin = first === undefined ? undefined : origins.get(first);
      if (!origin) report(scope, modulePath, issue.fields, 'key');
      else if (origin.inString) scope.problems.push(problemWithin(scope.source, origin.path, `${first}=`, issue.fields));
      else report(scope, [...origin.path, ...rest], issue.fields, issue.target);
    }
  }
  return args;
}

/**
 * A string after the module name. `k=v` words become arguments when every word is one (and, for free-form
 * modules, every key is one of the module's own arguments: `debug: var=result`); otherwise a free-form
 * module takes the whole string (`shell: ETCDCTL_API=3 etcdctl ...`). Unlike Ansible, `chdir=` and friends
 * are not picked out of a free-form command line: write them under `args:`.
 */
function stringArguments(value: string, entry: ModuleCatalogEntry, modulePath: YamlPath, scope: TaskScope): Record<string, unknown> | undefined {
  const parsed = parseKeyValueArgs(value);
  const keys = Object.keys(parsed.args);
  const allKeyValue = parsed.rest.length === 0 && keys.length > 0 && parsed.unclosed === undefined;
  if (entry.freeForm !== undefined) {
    const properties = Object.keys((entry.schema.properties as Record<string, unknown> | undefined) ?? {});
    if (allKeyValue && keys.every((key) => properties.includes(key))) return parsed.args;
    // A command line reaches the shell as Ansible passes it on (a lone `\` between words is dropped).
    const commandLine = COMMAND_MODULES.has(entry.id) ? ansibleCommandLine(value) : undefined;
    return { [entry.freeForm]: commandLine ?? value };
  }
  if (parsed.unclosed !== undefined) {
    report(scope, modulePath, {
      code: 'playbook.unclosed-quote',
      message: `unclosed ${parsed.unclosed} in the arguments of ${entry.id}`,
      hint: `close the ${parsed.unclosed}`,
    });
    return undefined;
  }
  if (!allKeyValue) {
    report(scope, modulePath, {
      code: 'playbook.module-arguments',
      message: `${entry.id} takes key=value arguments${parsed.rest[0] === undefined ? '' : `; "${parsed.rest[0]}" is not one`}`,
      expected: 'key=value words, or a mapping of arguments',
      hint: `write the arguments as a mapping under ${entry.id}:`,
    });
    return undefined;
  }
  return parsed.args;
}

function buildTask(raw: Record<string, unknown>, moduleId: string, args: Record<string, unknown>, taskPath: YamlPath, scope: TaskScope): Task {
  const { inherited } = scope;
  const task: Task = { module: moduleId, args, loc: locate(scope.source, taskPath) };
  if (typeof raw.name === 'string') task.name = raw.name;
  const when = [...inherited.when, ...(normalizeConditions(raw.when) ?? [])];
  if (when.length > 0) task.when = when;
  if (typeof raw.register === 'string') {
    task.register = raw.register;
    if (reservedNames.has(raw.register)) {
      report(scope, [...taskPath, 'register'], {
        code: 'playbook.reserved-register',
        message: `register: "${raw.register}" would hide the variable of the same name that orchestrate defines`,
        hint: 'choose another name, e.g. etcd_status',
      });
    }
  }
  const loops = (['loop', 'with_items', 'with_list'] as const).filter((key) => raw[key] !== undefined);
  if (loops.length > 1) {
    report(
      scope,
      [...taskPath, loops[1] as string],
      { code: 'playbook.two-loops', message: `a task has one loop, but this one has ${loops.join(' and ')}`, hint: 'keep one of them' },
      'key',
    );
  }
  const loopKey = loops[0];
  if (loopKey) task.loop = raw[loopKey];
  const loopControl = raw.loop_control;
  if (isRecord(loopControl) && typeof loopControl.loop_var === 'string') task.loopVar = loopControl.loop_var;
  if (typeof raw.until === 'string' || typeof raw.until === 'boolean') task.until = String(raw.until).trim();
  const retries = toNumber(raw.retries);
  if (retries !== undefined) task.retries = retries;
  const delay = toNumber(raw.delay);
  if (delay !== undefined) task.delay = delay;
  if (typeof raw.ignore_errors === 'boolean') task.ignoreErrors = raw.ignore_errors;
  if (typeof raw.run_once === 'boolean') task.runOnce = raw.run_once;
  if (typeof raw.delegate_to === 'string') task.delegateTo = raw.delegate_to;
  if (typeof raw.become === 'boolean') task.become = raw.become;
  const changedWhen = normalizeConditions(raw.changed_when);
  if (changedWhen) task.changedWhen = changedWhen;
  const failedWhen = normalizeConditions(raw.failed_when);
  if (failedWhen) task.failedWhen = failedWhen;
  const tags = [...new Set([...inherited.tags, ...normalizeTags(raw.tags)])];
  if (tags.length > 0) task.tags = tags;
  const vars = { ...inherited.vars, ...(isRecord(raw.vars) ? raw.vars : {}) };
  if (Object.keys(vars).length > 0) task.vars = vars;
  if (inherited.role !== undefined) task.role = inherited.role;
  if (inherited.roleDefaults !== undefined) task.roleDefaults = inherited.roleDefaults;
  return task;
}

/**
 * `import_tasks: file.yml` / `include_tasks: file.yml` with a static name, relative to the including file.
 * Both are expanded when loading; the include's `when`, `tags` and `vars` apply to each included task
 * (for include_tasks Ansible evaluates `when` once, before including: the same unless the tasks change its inputs).
 */
async function importTasks(raw: Record<string, unknown>, taskPath: YamlPath, scope: TaskScope, keywords: Set<string>): Promise<Task[]> {
  const key = raw.import_tasks !== undefined ? 'import_tasks' : 'include_tasks';
  const file = raw[key];
  const allowed = new Set(['name', 'when', 'tags', 'vars', key]);
  for (const other of Object.keys(raw)) {
    if (allowed.has(other)) continue;
    const isModule = !keywords.has(other);
    report(
      scope,
      [...taskPath, other],
      {
        code: 'playbook.import-keyword',
        message: isModule ? `${key} cannot be combined with a module ("${other}")` : `${other} cannot be used with ${key}`,
        expected: `${key} with only name, when, tags and vars`,
        hint: isModule ? 'put the module in a task of its own' : `move ${other} into the tasks of the imported file`,
      },
      'key',
    );
  }
  if (typeof file !== 'string') return []; // the schema has reported it
  if (file.includes('{{') || file.includes('{%')) {
    report(scope, [...taskPath, key], {
      code: 'playbook.dynamic-import',
      message: `${key} needs a static file name, not a template`,
      hint: 'write the file name out',
    });
    return [];
  }
  const target = path.join(path.dirname(scope.source.file), file);
  const resolved = path.resolve(target);
  if (scope.stack.includes(resolved) || scope.stack.length >= MAX_IMPORT_DEPTH) {
    report(scope, [...taskPath, key], {
      code: 'playbook.import-loop',
      message: `${file} imports itself (through ${scope.stack.map((f) => path.basename(f)).join(' > ')})`,
      hint: 'remove the import that closes the loop',
    });
    return [];
  }
  const tasks = await loadTaskFile(target, scope, [...taskPath, key], {
    when: [...scope.inherited.when, ...(normalizeConditions(raw.when) ?? [])],
    tags: [...scope.inherited.tags, ...normalizeTags(raw.tags)],
    vars: { ...scope.inherited.vars, ...(isRecord(raw.vars) ? raw.vars : {}) },
    ...(scope.inherited.role !== undefined ? { role: scope.inherited.role } : {}),
    ...(scope.inherited.roleDefaults !== undefined ? { roleDefaults: scope.inherited.roleDefaults } : {}),
  });
  return tasks ?? [];
}

/**
 * Read a file holding a list of tasks (a role's tasks/main.yml, an imported file). A missing file is reported
 * at `referencePath` in the including file; undefined when the file could not be read.
 */
export async function loadTaskFile(file: string, scope: TaskScope, referencePath: YamlPath, inherited: Inherited): Promise<Task[] | undefined> {
  const parsed = await readYaml(file);
  if (parsed.problems.some((p) => p.code === 'file.unreadable')) {
    report(scope, referencePath, {
      code: 'playbook.missing-file',
      message: `cannot read ${file}`,
      hint: 'check the file name; it is relative to the file that names it',
    });
    return undefined;
  }
  scope.problems.push(...parsed.problems);
  if (parsed.value === undefined) return undefined;
  const child: TaskScope = { ...scope, source: parsed.source, inherited, stack: [...scope.stack, path.resolve(file)] };
  const list = parsed.value ?? [];
  const validate = configValidator('playbook', '#/$defs/taskList');
  if (!validate(list)) {
    for (const issue of translateAjvErrors(validate.errors, { codePrefix: 'playbook', describe: (p) => describeTaskPath(list, p) })) {
      child.problems.push(problemAt(parsed.source, issue.path, issue.fields, issue.target));
    }
  }
  return normalizeTaskList(list, [], child);
}

/** `task "name"` or `task 3` for messages about a task list of a file (path starts at the list). */
export function describeTaskPath(list: unknown, at: string[], offset = 0): string | undefined {
  if (at.length !== offset + 1 || !Array.isArray(list)) return undefined;
  const index = Number(at[offset]);
  const task: unknown = list[index];
  if (isRecord(task) && typeof task.name === 'string') return `task "${task.name}"`;
  return `task ${index + 1}`;
}
