// Before any host is touched: every task rendered for every host it would run on, with the names that
// earlier tasks register or set as run-time-only values, so an undefined variable, a bad argument or an
// unknown delegate is a ConfigError naming the task's file:line. Also finds which hosts need a connection.
import { readFileSync } from 'node:fs';
import type { Inventory, Play, Playbook, Task, Vars } from '../config/types.js';
import { ConfigError, type ConfigProblem, type SourceLocation } from '../errors.js';
import { selectHosts } from '../config/host-pattern.js';
import type { ModuleDefinition } from '../modules/define.js';
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
  const { inventory, playbook, catalog } = input;
  const problems = new Map<string, ConfigProblem>();
  const connect = new Set<string>();
  const playHosts: string[][] = [];
  const facts = new FactStore();
  /** Every name a task registers or sets, with where: to explain an undefined one used too early. */
  const setBy = namesSetByTasks(playbook, catalog);

  const report = (task: Task | Play, code: string, message: string, hint?: string): void => {
    const key = `${task.loc.file}:${task.loc.line}:${message}`;
    if (!problems.has(key))
      problems.set(key, { severity: 'error', code, message, ...(hint ? { hint } : {}), loc: task.loc, ...lineTextOf(task.loc) });
  };

  for (const play of playbook.plays) {
    let hosts: string[] = [];
    try {
      hosts = selectHosts(inventory, play.hosts, input.limit, { loc: play.loc });
    } catch (error) {
      if (error instanceof ConfigError) for (const p of error.problems) problems.set(`${p.code}:${p.message}`, p);
      else throw error;
    }
    playHosts.push(hosts);
    const batches = serialBatches(hosts, play.serial);
    const playScope: PlayScope = {
      inventory,
      playVars: play.vars,
      extraVars: input.extraVars,
      facts,
      playHosts: hosts,
      batch: hosts,
      allPlayHosts: hosts,
      checkMode: input.dryRun,
      playbookFile: playbook.file,
    };
    for (const task of play.tasks) {
      if (!taskSelected(task, input.tags)) continue;
      const label = taskLabel(task);
      let module: ModuleDefinition;
      try {
        module = catalog.get(task.module);
      } catch {
        report(task, 'task.unknown-module', `${label}: unknown module "${task.module}"`);
        continue;
      }
      let raw: Record<string, unknown>;
      try {
        raw = normalizeArgs(task, module);
      } catch (error) {
        if (!(error instanceof ArgumentFormError)) throw error;
        report(task, 'task.invalid-args', `${label}: ${error.message}`);
        continue;
      }
      const checkHosts = task.runOnce ? batches.map((batch) => batch[0]).filter((h): h is string => h !== undefined) : hosts;
      for (const host of checkHosts) {
        try {
          checkTaskOnHost(task, module, raw, host);
        } catch (error) {
          reportError(task, error);
        }
      }
      // From here on, what this task registers or sets is a run-time value.
      const names = [
        ...(task.register ? [task.register] : []),
        ...(module.id === 'set_fact' ? Object.keys(raw).filter((k) => k !== 'cacheable') : []),
      ];
      for (const name of names) {
        // The play's hosts too: an implicit localhost is not in the inventory.
        for (const host of new Set([...inventory.hosts.keys(), ...hosts])) if (!(name in facts.of(host))) facts.set(host, name, new Deferred(name));
      }
    }

    function checkTaskOnHost(task: Task, module: ModuleDefinition, raw: Record<string, unknown>, host: string): void {
      const base = buildScope(playScope, host, extrasOf(task));
      const when = task.loop === undefined ? allConditions(task.when, base) : true;
      if (when === false) return;
      let items: unknown[] = [undefined];
      if (task.loop !== undefined) {
        const rendered = typeof task.loop === 'string' ? render(task.loop, base) : renderDeep(task.loop, base);
        if (isDeferred(rendered)) items = [rendered];
        else if (Array.isArray(rendered)) items = rendered.slice(0, maxCheckedItems);
        else if (rendered instanceof Map) items = [...rendered.keys()].slice(0, maxCheckedItems);
        else throw new TemplateError(`loop must be a list, got ${JSON.stringify(rendered)?.slice(0, 80) ?? String(rendered)}`);
      }
      for (const item of items) {
        const scope = task.loop === undefined ? base : buildScope(playScope, host, { ...extrasOf(task), loopVar: task.loopVar ?? 'item', item });
        if (task.loop !== undefined && allConditions(task.when, scope) === false) continue;
        const args = renderArgs(raw, module, scope);
        if (!containsDeferred(args)) {
          const argProblems = catalog.validate(module.id, args);
          if (argProblems.length > 0) {
            report(task, 'task.invalid-args', `${taskLabel(task)}: invalid arguments for ${module.id}: ${argProblems.join('; ')}`);
          }
        }
        checkResultConditions(task, scope);
        if (module.local) continue;
        if (task.delegateTo === undefined) {
          connect.add(host);
          continue;
        }
        const delegate = render(task.delegateTo, scope);
        // A delegate chosen at run time (a fact set by an earlier task) is connected on first use.
        if (isDeferred(delegate)) continue;
        const name = String(delegate).trim();
        if (!inventory.hosts.has(name) && name !== localhostName) {
          report(
            task,
            'task.unknown-delegate',
            `${taskLabel(task)}: delegate_to "${name}" is not a host of the inventory`,
            'use an inventory host name or localhost',
          );
          continue;
        }
        connect.add(name);
      }
    }
  }

  function checkResultConditions(task: Task, scope: Scope): void {
    const bound = task.register ? { ...scope, [task.register]: new Deferred(task.register) } : scope;
    for (const condition of [...(task.until !== undefined ? [task.until] : []), ...(task.changedWhen ?? []), ...(task.failedWhen ?? [])]) {
      allConditions([condition], bound);
    }
  }

  function reportError(task: Task, error: unknown): void {
    if (error instanceof TemplateError) {
      if (error.variable !== undefined) {
        const name = error.variable.split(/[.[]/)[0] ?? error.variable;
        report(
          task,
          'template.undefined-variable',
          `${taskLabel(task)}: ${error.message}`,
          setBy.has(name)
            ? `"${name}" is set by the task at line ${setBy.get(name)?.line ?? '?'}; make sure that task runs before this one`
            : /^ansible_(?!host$|port$|user$|become$|connection$)/.test(name)
              ? `orchestrate does not gather facts (gather_facts is ignored): set "${name}" in the inventory or with -e`
              : `define "${name}" in the inventory or the play's vars, pass -e ${name}=..., or write {{ ${error.variable} | default(...) }}`,
        );
      } else {
        report(task, 'template.invalid', `${taskLabel(task)}: ${error.message}`);
      }
      return;
    }
    report(task, 'task.invalid', `${taskLabel(task)}: ${error instanceof Error ? error.message : String(error)}`);
  }

  if (problems.size > 0) throw new ConfigError([...problems.values()]);
  return { connect: [...connect], playHosts };
}

function namesSetByTasks(playbook: Playbook, catalog: ModuleRegistry): Map<string, SourceLocation> {
  const names = new Map<string, SourceLocation>();
  for (const play of playbook.plays) {
    for (const task of play.tasks) {
      if (task.register && !names.has(task.register)) names.set(task.register, task.loc);
      if (catalog.lookup(task.module)?.id === 'set_fact' && task.args && typeof task.args === 'object') {
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
