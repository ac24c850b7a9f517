// Drives a module's plan through the one driver (drivePlan), with a scripted target answering each step,
// and records every step the plan yielded.
import type { Inventory, InventoryHost } from '../../../src/config/types.js';
import type { AnyModule, ModuleContext, ModuleDefinition, ModuleOutcome, ModulePlan } from '../../../src/modules/define.js';
import { drivePlan, type DriveResult } from '../../../src/modules/drive-plan.js';
import type { StepTarget } from '../../../src/modules/run-step.js';
import { RunState } from '../../../src/modules/run-state.js';
import type { Step } from '../../../src/modules/step.js';
import type { ExecResult } from '../../../src/transport/types.js';
import { Masker } from '../../../src/util/mask.js';

export type Responder = ((step: Step) => unknown) & { dryRun?: boolean };

export interface Driven {
  steps: Step[];
  /** Exec steps as their command lines; transfers and calls as a short description. */
  lines: string[];
  outcome: ModuleOutcome;
  /** What the driver printed for each step, and whether it ran. */
  planned: DriveResult['steps'];
}

export function exec(exitCode: number, stdout = '', stderr = ''): ExecResult {
  return { exitCode, stdout, stderr, durationMs: 1 };
}

/** Answer exec steps by the first matching pattern (default: exit 0, no output); transfers get a result too. */
export function scripted(rules: [RegExp, ExecResult][] = [], transfer?: { sha256: string; bytes: number }): Responder {
  return (step) => {
    if (step.kind === 'exec') return rules.find(([pattern]) => pattern.test(step.command))?.[1] ?? exec(0);
    if (step.kind === 'upload' || step.kind === 'download') return transfer ?? { sha256: 'f'.repeat(64), bytes: 1 };
    return undefined;
  };
}

/** Dry-run: the driver runs read-only steps only; they get the responder's answers. */
export function dryRun(responder: Responder): Responder {
  const wrapped: Responder = (step) => responder(step);
  wrapped.dryRun = true;
  return wrapped;
}

export function context(overrides: Partial<ModuleContext> = {}): ModuleContext {
  const host: InventoryHost = { name: '10.0.0.1', vars: {}, groups: ['all', 'etcd'] };
  const inventory: Inventory = {
    file: '/inv/hosts.yml',
    dir: '/inv',
    hosts: new Map([[host.name, host]]),
    groups: new Map([
      ['all', [host.name]],
      ['etcd', [host.name]],
    ]),
  };
  return { host, inventory, vars: { playbook_dir: '/play' }, dryRun: false, become: false, state: new RunState(), ...overrides };
}

/** Answer a call step by running it for real (a responder opts in per step). */
export const runCall = Symbol('run the call step');

/** A target that answers from `respond`: an Error is thrown into the plan at the step's yield, as a failed step is. */
export function scriptedTarget(name: string, respond: Responder): StepTarget {
  return {
    name,
    run: (step, options) => {
      const answer = respond(step);
      if (answer === runCall && step.kind === 'call') return step.run(options.signal ?? new AbortController().signal);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

export async function drive<A>(
  module: ModuleDefinition<A>,
  args: Partial<A>,
  respond: Responder = scripted(),
  ctx: ModuleContext = context(),
): Promise<Driven> {
  const steps: Step[] = [];
  const recording = { ...(module as unknown as AnyModule), plan: (c: ModuleContext, a: never) => recordSteps(module.plan(c, a), steps) } as AnyModule;
  const dry = respond.dryRun === true || ctx.dryRun;
  const driven = await drivePlan(recording, { ...ctx, dryRun: dry }, args, scriptedTarget(ctx.host.name, respond), {
    dryRun: dry,
    become: ctx.become,
    signal: new AbortController().signal,
    masker: new Masker(),
  });
  if (steps.length > 100) throw new Error('plan yielded more than 100 steps');
  return { steps, lines: steps.map(lineOf), outcome: driven.outcome, planned: driven.steps };
}

/** Passes a plan through unchanged, noting each step it yields. */
async function* recordSteps(inner: ModulePlan, steps: Step[]): ModulePlan {
  let next = await inner.next();
  while (!next.done) {
    steps.push(next.value);
    let input: unknown;
    try {
      input = yield next.value;
    } catch (error) {
      next = await inner.throw(error);
      continue;
    }
    next = await inner.next(input);
  }
  return next.value;
}

function lineOf(step: Step): string {
  switch (step.kind) {
    case 'exec':
      return step.command;
    case 'upload':
      return `upload ${'path' in step.source ? step.source.path : `content:${String(step.source.content)}`} -> ${step.dest} ${step.mode.toString(8)}`;
    case 'download':
      return `download ${step.src} -> ${step.dest} ${step.mode.toString(8)}`;
    case 'call':
      return `call ${step.description}`;
  }
}
