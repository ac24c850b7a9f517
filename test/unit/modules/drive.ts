// Drives a module's plan the way the engine does, answering each step from a script, and records the steps.
import type { Inventory, InventoryHost } from '../../../src/config/types.js';
import type { Step, StepResult } from '../../../src/engine/step.js';
import type { ModuleContext, ModuleDefinition, ModuleOutcome } from '../../../src/modules/define.js';
import type { ExecResult } from '../../../src/transport/types.js';

export type Responder = (step: Step) => StepResult;

export interface Driven {
  steps: Step[];
  /** Exec steps as their command lines; transfers and calls as a short description. */
  lines: string[];
  outcome: ModuleOutcome;
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

/** Dry-run: read-only steps get an answer, the others undefined. */
export function dryRun(responder: Responder): Responder {
  return (step) => ((step.kind === 'exec' || step.kind === 'call') && step.readOnly ? responder(step) : undefined);
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
  return { host, inventory, vars: { playbook_dir: '/play' }, dryRun: false, become: false, ...overrides };
}

export async function drive<A>(
  module: ModuleDefinition<A>,
  args: A,
  respond: Responder = scripted(),
  ctx: ModuleContext = context(),
): Promise<Driven> {
  const steps: Step[] = [];
  const plan = module.plan(ctx, args);
  let next = await plan.next();
  let guard = 0;
  while (!next.done) {
    if (++guard > 100) throw new Error('plan yielded more than 100 steps');
    steps.push(next.value);
    next = await plan.next(respond(next.value));
  }
  return { steps, lines: steps.map(lineOf), outcome: next.value };
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
