// What a restore or rollback reports while it runs (printed as lines, or one JSON object per line), and
// the preview: each phase of the procedure with, per host, every task and the steps it would run.
import { localhostName } from '../../engine/connections.js';
import type { PhaseEvent, PhasedRun } from '../../engine/phased.js';
import type { PlannedStep } from '../../modules/step.js';

export interface PrintablePhase {
  id: string;
  title: string;
  hosts: { host: string; actions: { title: string; steps: string[] }[] }[];
}

export type RestoreEvent =
  | { type: 'phase-start'; phase: string; title: string; hosts: string[]; at: string }
  | { type: 'phase-end'; phase: string; ms: number; failed: Record<string, string>; skipped: string[]; at: string }
  | { type: 'step'; phase: string; host: string; title: string; ok: boolean; ms: number; detail?: string; at: string }
  | { type: 'info' | 'warning'; message: string; at: string }
  /** The preview shown before confirmation and by --dry-run. */
  | { type: 'summary'; text: string; at: string }
  | { type: 'plan'; phases: PrintablePhase[]; at: string };

export type Emit = (event: RestoreEvent) => void;

export const now = (): string => new Date().toISOString();

/** The engine's phase events as the restore reports them (a skipped task, e.g. the other mode's, says nothing). */
export function restoreEventsOf(emit: Emit): (event: PhaseEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'phase-start':
        emit(event);
        break;
      case 'phase-end':
        emit({ type: 'phase-end', phase: event.phase, ms: event.ms, failed: event.failures, skipped: event.skipped, at: event.at });
        break;
      case 'task': {
        const { result } = event;
        if (result.status === 'skipped') break;
        const problem = result.status === 'failed' || result.status === 'unreachable' ? result.msg : undefined;
        emit({
          type: 'step',
          phase: event.phase,
          host: event.host === localhostName ? 'deploy host' : event.host,
          title: event.ref.task,
          ok: problem === undefined,
          ms: Math.round(result.durationMs),
          ...(problem !== undefined ? { detail: problem } : {}),
          at: event.at,
        });
        break;
      }
    }
  };
}

/** A command as a shell prompt line; work in this process says where it runs. */
function stepLine(step: PlannedStep): string {
  if (step.kind === 'exec') return `$ ${step.text}`;
  if (step.kind === 'call') return `[on the deploy host] ${step.text}`;
  return step.text;
}

/** The preview of a dry pass: per phase and host, every task that would run and its steps. */
export function printablePlan(run: PhasedRun): PrintablePhase[] {
  return run.phases.map((phase) => ({
    id: phase.id,
    title: phase.title,
    hosts: [...phase.results].map(([host, results]) => ({
      host,
      actions: results
        .filter(({ result }) => result.status !== 'skipped')
        .map(({ ref, result }) => ({
          title: ref.task,
          // A task with nothing to run here says why (no unit listed on this host, say).
          steps: result.steps.length > 0 ? result.steps.map(stepLine) : [`(nothing to do${result.display.msg ? `: ${result.display.msg}` : ''})`],
        })),
    })),
  }));
}
