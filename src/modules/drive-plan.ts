// The one loop that drives a module's plan, whichever command runs it (`run`, `backup`, `restore`, its
// rollback, the unit tests): arguments validated and defaulted, each step run on its target (or only
// printed under --dry-run) and its result fed back, a failed step thrown into the plan at its `yield`
// (`plan.throw`) so it can clean up or try another host, cleanup steps still run after an interrupt,
// secrets masked in what is printed, and a ModuleFailure turned into the failed outcome.
import type { Masker } from '../util/mask.js';
import type { AnyModule, ModuleContext, ModuleOutcome, ModulePlan } from './define.js';
import { ModuleFailure } from './plan-steps.js';
import { describeStep, type StepTarget } from './run-step.js';
import { isCleanupStep, isReadOnly, namedHost, type PlannedStep, type Step } from './step.js';
import { validateModuleArgs } from './validate-args.js';

export interface DriveOptions {
  dryRun: boolean;
  /** The arguments still hold run-time-only values (a dry-run's placeholders): no step may run, not even a check. */
  deferredArgs?: boolean;
  become: boolean;
  /** An interrupt: no new step starts, except cleanup steps. */
  signal: AbortSignal;
  /** What a running step gets to abort it (default: `signal`); a phase whose commands must finish passes one that never aborts. */
  stepSignal?: AbortSignal;
  masker: Masker;
}

export interface DriveResult {
  outcome: ModuleOutcome;
  /** Every step as printed, in order, and whether it ran. */
  steps: PlannedStep[];
  /** Some step was only printed (dry-run) or the arguments were placeholders: the outcome is a plan, not a result. */
  planned: boolean;
}

/** The run was interrupted before this step could start. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
  }
}

export async function drivePlan(
  module: AnyModule,
  ctx: ModuleContext,
  args: Record<string, unknown>,
  target: StepTarget,
  options: DriveOptions,
): Promise<DriveResult> {
  const steps: PlannedStep[] = [];
  const deferred = options.deferredArgs === true;
  if (!deferred) {
    const problems = validateModuleArgs(module, args);
    if (problems.length > 0) return failed(`invalid arguments for ${module.id}: ${problems.join('; ')}`, steps, false);
  }
  // Validated against the module's own schema above: these are its arguments.
  const plan = (module.plan as (c: ModuleContext, a: Record<string, unknown>) => ModulePlan)(ctx, args);
  let planned = deferred;
  let changedSomething = false;
  // After an interrupt only cleanup steps run. The plan hears of the interrupt once (through the error of the
  // step it stopped, or an InterruptedError at its next step), so it can yield them; then it is stopped.
  let toldOfInterrupt = false;
  try {
    let next = await plan.next();
    while (!next.done) {
      const step = next.value;
      if (options.signal.aborted && !isCleanupStep(step)) {
        if (toldOfInterrupt) throw new InterruptedError();
        toldOfInterrupt = true;
        next = await plan.throw(new InterruptedError());
        continue;
      }
      const runs = !deferred && (!options.dryRun || isReadOnly(step));
      const where = step.kind === 'call' ? 'localhost' : (namedHost(step) ?? target.name);
      const printed: PlannedStep = {
        kind: step.kind,
        text: describeStep(step, where, options.become, options.masker),
        readOnly: isReadOnly(step),
        ran: runs,
        on: where,
      };
      if (!runs) {
        steps.push(printed);
        planned = true;
        next = await plan.next(undefined);
        continue;
      }
      let result: unknown;
      try {
        result = await runOne(step, target, options);
      } catch (error) {
        // Thrown into the plan at its yield: a plan that catches it can clean up or try another host.
        if (options.signal.aborted) toldOfInterrupt = true;
        next = await plan.throw(error);
        continue;
      }
      // A step that failed is not in the record: the plan was told and decides what comes next.
      steps.push(printed);
      if (!isReadOnly(step)) changedSomething = true;
      next = await plan.next(result);
    }
    return { outcome: next.value, steps, planned };
  } catch (error) {
    if (error instanceof ModuleFailure) return failed(error.message, steps, changedSomething, error.result);
    if (deferred && !(error instanceof InterruptedError)) {
      // A placeholder value the module could not plan with: say what it depends on instead of guessing.
      steps.push({ kind: 'exec', text: `(planned when known: ${messageOf(error)})`, readOnly: false, ran: false, on: target.name });
      return { outcome: { changed: true }, steps, planned: true };
    }
    throw error;
  }
}

async function runOne(step: Step, target: StepTarget, options: DriveOptions): Promise<unknown> {
  const cleanup = isCleanupStep(step);
  if (options.signal.aborted && !cleanup) throw new InterruptedError();
  const signal = cleanup ? undefined : (options.stepSignal ?? options.signal);
  return target.run(step, { become: options.become, ...(signal ? { signal } : {}) });
}

function failed(msg: string, steps: PlannedStep[], changed: boolean, result?: Record<string, unknown>): DriveResult {
  return { outcome: { changed, failed: true, msg, ...(result ? { result } : {}) }, steps, planned: false };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
