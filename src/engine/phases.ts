// A procedure's phases, read from its playbook: consecutive tasks of a play that carry the same first tag
// form one phase (the tag is its id, e.g. `swap-data`); an untagged task is a phase of its own, named after
// the task. Each host runs a phase's tasks in order; a phase ends when every host is done (a barrier).
import type { Play, Playbook, Task } from '../config/types.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { localhostName } from './connections.js';
import { taskSelected, type TagFilter } from './selection.js';

export interface ProcedurePhase {
  /** Stable across runs of the same file: the journal records phases by it. */
  id: string;
  /** The first task's name. */
  title: string;
  play: Play;
  /** Index of the play in the playbook (its hosts come from the pre-check). */
  playIndex: number;
  tasks: Task[];
  /**
   * Every task runs once for the play (`run_once`): the phase has one target, recorded as `localhost` when
   * every task works on the deploy host, else as the play's first host.
   */
  once?: { onDeployHost: boolean };
}

/** Tags that steer selection, not naming. */
const selectionTags = new Set(['always', 'never']);

export function phaseIdOf(task: Task): string {
  const tag = (task.tags ?? []).find((t) => !selectionTags.has(t));
  if (tag !== undefined) return tag;
  const slug = (task.name ?? task.module)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `task-${slug || 'unnamed'}`;
}

export function proceduresPhases(playbook: Playbook, tags: TagFilter, catalog: ModuleRegistry): ProcedurePhase[] {
  const phases: ProcedurePhase[] = [];
  const used = new Map<string, number>();
  for (const [playIndex, play] of playbook.plays.entries()) {
    let current: ProcedurePhase | undefined;
    let currentBase: string | undefined;
    for (const task of play.tasks) {
      if (!taskSelected(task, tags)) continue;
      const base = phaseIdOf(task);
      if (current && currentBase === base) {
        current.tasks.push(task);
        continue;
      }
      // The same id again later (not next to its namesake) is another phase: keep ids unique.
      const seen = used.get(base) ?? 0;
      used.set(base, seen + 1);
      currentBase = base;
      current = { id: seen === 0 ? base : `${base}-${seen + 1}`, title: task.name ?? task.module, play, playIndex, tasks: [task] };
      phases.push(current);
    }
  }
  for (const phase of phases) {
    if (!phase.tasks.every((task) => task.runOnce === true)) continue;
    const onDeployHost = phase.tasks.every((task) => task.delegateTo === localhostName || catalog.get(task.module).meta.runsOn === 'deploy-host');
    phase.once = { onDeployHost };
  }
  return phases;
}
