// The restore as data: phases in order, each with the module invocations every host runs. The preview
// drives the same modules without running their changes, the executor runs them, the journal records
// which host finished which phase.
import type { Step } from '../engine/step.js';
import type { ModuleDefinition } from '../modules/define.js';

export interface PlannedAction {
  /** What it does, in a few words, for the preview and progress lines. */
  title: string;
  module: ModuleDefinition<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  args: Record<string, unknown>;
}

export interface PlannedPhase<P extends string = string> {
  id: P;
  title: string;
  /** Host -> its actions, run in order; hosts run in parallel. `localhost` is the deploy host itself. */
  hosts: Map<string, PlannedAction[]>;
  /** Splits the hosts into groups run one after the other (asked just before the phase runs, not in the preview). */
  waves?: (hosts: string[]) => Promise<string[][]>;
  /** How the waves are chosen, for the preview. */
  wavesNote?: string;
}

/** One step as a line (several for multi-line scripts) for the preview. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'exec':
      return `$ ${step.command}`;
    case 'upload':
      return `upload ${'path' in step.source ? step.source.path : `<${step.source.content.length} bytes>`} -> ${step.dest} (mode ${step.mode.toString(8).padStart(4, '0')})`;
    case 'download':
      return `download ${step.src} -> ${step.dest} (mode ${step.mode.toString(8).padStart(4, '0')})`;
    case 'call':
      return `[on the deploy host] ${step.description}`;
  }
}
