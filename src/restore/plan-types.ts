// The restore as data: phases in order, each with the steps every host runs. The dry-run prints it,
// the executor runs it, the journal records which host finished which phase.
import type { Step, StepResult } from '../engine/step.js';

export interface PlannedAction {
  /** What the step does, in a few words, for the preview and progress lines. */
  title: string;
  step: Step;
  /** The step as it will run, when part of it is only known once earlier steps ran (the preview shows `step`). */
  resolve?: () => Step;
  /** An error message when the result is not what the restore needs; default: exit code 0 / transfer done. */
  check?: (result: StepResult) => string | undefined;
}

export interface PlannedPhase<P extends string = string> {
  id: P;
  title: string;
  /** Host -> its actions, run in order; hosts run in parallel. `localhost` is the deploy host itself. */
  hosts: Map<string, PlannedAction[]>;
}

/** A printable, JSON-friendly view of one step. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'exec':
      return `$ ${step.command}`;
    case 'upload':
      return `upload ${'path' in step.source ? step.source.path : `<${step.source.content.length} bytes>`} -> ${step.dest} (mode ${step.mode.toString(8).padStart(4, '0')})`;
    case 'download':
      return `download ${step.src} -> ${step.dest} (mode ${step.mode.toString(8).padStart(4, '0')})`;
    case 'call':
      return `[deploy host] ${step.description}`;
  }
}
