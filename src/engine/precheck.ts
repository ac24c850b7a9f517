// Before any host is touched: every task rendered for every host it would run on, with the names that
// earlier tasks register or set as run-time-only values, so an undefined variable, a bad argument or an
// unknown delegate is a ConfigError naming the task's file:line. Also finds which hosts need a connection.
import { readFileSync } from 'node:fs';
import type { Inventory, Play, Playbook, Task, Vars } from '../config/types.js';
import { ConfigError, type ConfigProblem, type SourceLocation } from '../errors.js';
import { selectHosts } from '../config/host-pattern.js';
import type { AnyModule } from '../modules/define.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { Deferred, isDeferred, render, renderDeep, TemplateError } from '../template/index.js';
import { ArgumentFormError, containsDeferred, normalizeArgs, renderArgs } from './args.js';
import { allConditions } from './conditions.js';
import { localhostName } from './connections.js';
import { FactStore } from './facts.js';
import { buildScope, type PlayScope, type Scope } from './scope.js';
import { serialBatches, taskSelected, type TagFilter } from './selection.js';

export interface PrecheckInput {
  inventory: Inventory;
  playbook: Playbook;
  catalog: ModuleRegistry;
  extraVars: Vars;
  limit?: string;
  tags: TagFilter;
  dryRun: boolean;
  /** Facts the command set before the run (a procedure's per-host values); the check starts from a copy. */
  facts?: FactStore;
}

export interface PrecheckResult {
  /** Inventory hosts (and `localhost`) that some task will run steps on: connected before the first task. */
  connect: string[];
  /** Per play, the hosts it selected. */
  playHosts: string[][];
}

/** Loops longer than this are checked on their first items only (the rest render the same expressions). */
const maxCheckedItems = 20;

export function precheck(input: PrecheckInput): PrecheckResult {
  const check = new Precheck(input);
  const playHosts = input.playbook.plays.map((play) => check.play(play));
  if (check.problems.size > 0) throw new ConfigError([...check.problems.values()]);
  return { connect: [...check.connect], playHosts };
}

/** One pre-check: every problem collected (never just the first), the hosts that need a connection. */
class Precheck {
  readonly problems = new Map<string, ConfigProblem>();
  readonly connect = new Set<string>();
  private readonly facts = new FactStore();
  /** Every name a task registers or sets, with where: to explain an undefined one used too early. */
  private readonly setBy: Map<string, SourceLocation>;

  constructor(private readonly input: PrecheckInput) {
    if (input.facts) for (const host of input.inventory.hosts.keys()) this.facts.merge(host, input.facts.of(host));
    this.setBy = namesSetByTasks(input.playbook, input.catalog);
  }

  report(task: Task | Play, code: string, message: string, hint?: string): void {
    const key = `${task.loc.file}:${task.loc.line}:${message}`;
    if (!this.problems.has(key))
      this.problems.set(key, { severity: 'error', code, message, ...(hint ? { hint } : {}), loc: task.loc, ...lineTextOf(task.loc) });
  }

  /** The hosts the play selects; each of its tasks checked on them. */
  play(play: Play): string[] {
    const { input } = this;
    let hosts: string[] = [];
    try {
      hosts = selectHosts(input.inventory, play.hosts, input.limit, { loc: play.loc });
    } catch (error) {
      if (error instanceof ConfigError) for (const p of error.problems) this.problems.set(`${p.code}:${p.message}`, p);
      else throw error;
    }
    const playScope: PlayScope = {
      inventory: input.inventory,
      playVars: play.vars,
      extraVars: input.extraVars,
      facts: this.facts,
      playHosts: hosts,
      batch: hosts,
      allPlayHosts: hosts,
      checkMode: input.dryRun,
      playbookFile: input.playbook.file,
    };
    const batches = serialBatches(hosts, play.serial);
    for (const task of play.tasks) if (taskSelected(task, input.tags)) this.task(task, hosts, batches, playScope);
    return hosts;
  }

  private task(task: Task, hosts: string[], batches: string[][], playScope: PlayScope): void {
    const label = taskLabel(task);
    let module: AnyModule;
    try {
      module = this.input.catalog.get(task.module);
    } catch {
      this.report(task, 'task.unknown-module', `${label}: unknown module "${task.module}"`);
      return;
    }
    let raw: Record<string, unknown>;
    try {
      raw = normalizeArgs(task, module);
    } catch (error) {
      if (!(error instanceof ArgumentFormError)) throw error;
      this.report(task, 'task.invalid-args', `${label}: ${error.message}`);
      return;
    }
    const checkHosts = task.runOnce ? batches.map((batch) => batch[0]).filter((h): h is string => h !== undefined) : hosts;
    for (const host of checkHosts) {
      try {
        this.taskOnHost(task, module, raw, host, playScope);
      } catch (error) {
        this.reportError(task, error);
      }
    }
    // From here on, what this task registers or sets is a run-time value.
    const names = [...(task.register ? [task.register] : []), ...(module.meta.setsFacts ? Object.keys(raw).filter((k) => k !== 'cacheable') : [])];
    // The play's hosts too: an implicit localhost is not in the inventory.
    const everyHost = new Set([...this.input.inventory.hosts.keys(), ...hosts]);
    for (const name of names) {
      for (const host of everyHost) if (!(name in this.facts.of(host))) this.facts.set(host, name, new Deferred(name));
    }
  }

  private taskOnHost(task: Task, module: AnyModule, raw: Record<string, unknown>, host: string, playScope: PlayScope): void {
    const base = buildScope(playScope, host, extrasOf(task));
    const when = task.loop === undefined ? allConditions(task.when, base) : true;
    if (when === false) return;
    for (const item of loopItemsToCheck(task, base)) {
      const scope = task.loop === undefined ? base : buildScope(playScope, host, { ...extrasOf(task), loopVar: task.loopVar ?? 'item', item });
      if (task.loop !== undefined && allConditions(task.when, scope) === false) continue;
      const args = renderArgs(raw, module, scope);
      if (!containsDeferred(args)) {
        const argProblems = this.input.catalog.validate(module.id, args);
        if (argProblems.length > 0)
          this.report(task, 'task.invalid-args', `${taskLabel(task)}: invalid arguments for ${module.id}: ${argProblems.join('; ')}`);
      }
      checkResultConditions(task, scope);
      if (module.meta.runsOn === 'host') this.connectFor(task, host, scope);
    }
  }

  private connectFor(task: Task, host: string, scope: Scope): void {
    if (task.delegateTo === undefined) {
      this.connect.add(host);
      return;
    }
    const delegate = render(task.delegateTo, scope);
    // A delegate chosen at run time (a fact set by an earlier task) is connected on first use.
    if (isDeferred(delegate)) return;
    const name = String(delegate).trim();
    if (!this.input.inventory.hosts.has(name) && name !== localhostName) {
      this.report(
        task,
        'task.unknown-delegate',
        `${taskLabel(task)}: delegate_to "${name}" is not a host of the inventory`,
        'use an inventory host name or localhost',
      );
      return;
    }
    this.connect.add(name);
  }

  private reportError(task: Task, error: unknown): void {
    if (!(error instanceof TemplateError)) {
      this.report(task, 'task.invalid', `${taskLabel(task)}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (error.variable === undefined) {
      this.report(task, 'template.invalid', `${taskLabel(task)}: ${error.message}`);
      return;
    }
    const name = error.variable.split(/[.[]/)[0] ?? error.variable;
    const hint = this.setBy.has(name)
      ? `"${name}" is set by the task at line ${this.setBy.get(name)?.line ?? '?'}; make sure that task runs before this one`
      : /^ansible_(?!host$|port$|user$|become$|connection$)/.test(name)
        ? `orchestrate does not gather facts (gather_facts is ignored): set "${name}" in the inventory or with -e`
        : `define "${name}" in the inventory or the play's vars, pass -e ${name}=..., or write {{ ${error.variable} | default(...) }}`;
    this.report(task, 'template.undefined-variable', `${taskLabel(task)}: ${error.message}`, hint);
  }
}

/** The items a loop's task is checked with: a run-time list as its placeholder, a long one by its first items. */
function loopItemsToCheck(task: Task, scope: Scope): unknown[] {
  if (task.loop === undefined) return [undefined];
  const rendered = typeof task.loop === 'string' ? render(task.loop, scope) : renderDeep(task.loop, scope);
  if (isDeferred(rendered)) return [rendered];
  if (Array.isArray(rendered)) return (rendered as unknown[]).slice(0, maxCheckedItems);
  if (rendered instanceof Map) return [...(rendered as Map<unknown, unknown>).keys()].slice(0, maxCheckedItems);
  // JSON.stringify returns undefined for undefined (and functions), whatever its declared type says.
  throw new TemplateError(`loop must be a list, got ${((JSON.stringify(rendered) as string | undefined) ?? 'undefined').slice(0, 80)}`);
}

function checkResultConditions(task: Task, scope: Scope): void {
  const bound = task.register ? { ...scope, [task.register]: new Deferred(task.register) } : scope;
  for (const condition of [...(task.until !== undefined ? [task.until] : []), ...(task.changedWhen ?? []), ...(task.failedWhen ?? [])]) {
    allConditions([condition], bound);
  }
}

function namesSetByTasks(playbook: Playbook, catalog: ModuleRegistry): Map<string, SourceLocation> {
  const names = new Map<string, SourceLocation>();
  for (const play of playbook.plays) {
    for (const task of play.tasks) {
      if (task.register && !names.has(task.register)) names.set(task.register, task.loc);
      const id = catalog.lookup(task.module)?.id;
      if (id !== undefined && catalog.get(id).meta.setsFacts === true && task.args && typeof task.args === 'object') {
        for (const name of Object.keys(task.args)) if (!names.has(name)) names.set(name, task.loc);
      }
    }
  }
  return names;
}

function extrasOf(task: Task): { taskVars?: Vars; roleDefaults?: Vars } {
  return { ...(task.vars ? { taskVars: task.vars } : {}), ...(task.roleDefaults ? { roleDefaults: task.roleDefaults } : {}) };
}

export function taskLabel(task: Task): string {
  return `task "${task.name ?? task.module}"`;
}

const fileLines = new Map<string, string[]>();

function lineTextOf(loc: SourceLocation): { lineText?: string } {
  let lines = fileLines.get(loc.file);
  if (!lines) {
    try {
      lines = readFileSync(loc.file, 'utf8').split('\n');
    } catch {
      lines = [];
    }
    fileLines.set(loc.file, lines);
  }
  const text = lines[loc.line - 1];
  return text === undefined ? {} : { lineText: text };
}
