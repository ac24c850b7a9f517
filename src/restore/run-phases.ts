// Runs planned phases by driving each module's plan: every step it yields is run (or, in preview mode,
// only read-only steps are run and the rest recorded) and its result fed back. Inside a phase every host
// runs its actions in order, hosts in parallel; a phase ends when every host finished (a barrier), so
// "stop kube_node everywhere" is over before kube_master stops.
import type { Inventory, InventoryHost } from '../config/types.js';
import type { Step, StepResult } from '../engine/step.js';
import type { ModuleContext, ModuleOutcome } from '../modules/define.js';
import type { Transport } from '../transport/types.js';
import { DEPLOY_HOST } from './journal.js';
import { describeStep, type PlannedPhase } from './plan-types.js';

export type RestoreEvent =
  | { type: 'phase-start'; phase: string; title: string; hosts: string[]; at: string }
  | { type: 'phase-end'; phase: string; ms: number; failed: Record<string, string>; skipped: string[]; at: string }
  | { type: 'step'; phase: string; host: string; title: string; ok: boolean; ms: number; detail?: string; at: string }
  | { type: 'info' | 'warning'; message: string; at: string }
  /** The preview shown before confirmation and by --dry-run. */
  | { type: 'summary'; text: string; at: string }
  | { type: 'plan'; phases: PrintablePhase[]; at: string };

export interface PrintablePhase {
  id: string;
  title: string;
  hosts: { host: string; actions: { title: string; steps: string[] }[] }[];
}

export interface PhaseRunContext {
  inventory: Inventory;
  transports: ReadonlyMap<string, Transport>;
  /** Preview: only read-only steps run; the others are recorded and get `undefined` back. */
  dryRun: boolean;
  /** Ctrl-C: no new action starts; steps of interruptible phases are cancelled. */
  signal: AbortSignal;
  /** Phases whose in-flight commands may be cancelled (they change nothing the cluster uses). */
  interruptible: ReadonlySet<string>;
  /** False for a host that already did this phase in an earlier, interrupted run. */
  shouldRun(phase: string, host: string): boolean;
  onBegin(phase: string): Promise<void>;
  /** A host finished all its actions of the phase. */
  onHostDone(phase: string, host: string, outcomes: ModuleOutcome[]): Promise<void>;
  emit(event: RestoreEvent): void;
}

export interface PhaseOutcome {
  id: string;
  ms: number;
  startedAt: Date;
  endedAt: Date;
  failures: Map<string, string>;
  skipped: string[];
  outcomes: Map<string, ModuleOutcome[]>;
  /** Host -> each action's title and the steps it yielded (what the preview prints). */
  steps: Map<string, { title: string; steps: string[] }[]>;
}

const deployHost: InventoryHost = { name: DEPLOY_HOST, vars: {}, groups: [] };

async function runStep(step: Step, host: string, ctx: PhaseRunContext, interruptible: boolean): Promise<StepResult> {
  if (step.kind === 'call') return step.run(ctx.signal);
  const transport = ctx.transports.get(host);
  if (!transport) throw new Error(`no connection to ${host}`);
  switch (step.kind) {
    case 'exec':
      return transport.exec(step.command, {
        ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
        ...(step.become !== undefined ? { become: step.become } : {}),
        ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
        ...(interruptible ? { signal: ctx.signal } : {}),
      });
    case 'upload':
      return transport.upload(step.source, step.dest, {
        mode: step.mode,
        ...(step.become !== undefined ? { become: step.become } : {}),
        ...(step.sha256 !== undefined ? { sha256: step.sha256 } : {}),
      });
    case 'download':
      return transport.download(step.src, step.dest, { mode: step.mode });
  }
}

const runsInPreview = (step: Step): boolean => (step.kind === 'exec' || step.kind === 'call') && step.readOnly === true;

export async function runPhase(phase: PlannedPhase, ctx: PhaseRunContext): Promise<PhaseOutcome> {
  const startedAt = new Date();
  const outcome: PhaseOutcome = {
    id: phase.id,
    ms: 0,
    startedAt,
    endedAt: startedAt,
    failures: new Map(),
    skipped: [],
    outcomes: new Map(),
    steps: new Map(),
  };
  const hosts = [...phase.hosts.keys()];
  const toRun = hosts.filter((host) => ctx.shouldRun(phase.id, host));
  outcome.skipped = hosts.filter((host) => !toRun.includes(host));
  ctx.emit({ type: 'phase-start', phase: phase.id, title: phase.title, hosts: toRun, at: startedAt.toISOString() });
  if (toRun.length > 0) await ctx.onBegin(phase.id);
  const interruptible = ctx.interruptible.has(phase.id);

  const waves = phase.waves && !ctx.dryRun && toRun.length > 1 ? await phase.waves(toRun).catch(() => [toRun]) : [toRun];
  const runHost = async (host: string): Promise<void> => {
    const outcomes: ModuleOutcome[] = [];
    const recorded: { title: string; steps: string[] }[] = [];
    outcome.outcomes.set(host, outcomes);
    outcome.steps.set(host, recorded);
    const inventoryHost = host === DEPLOY_HOST ? deployHost : ctx.inventory.hosts.get(host);
    if (!inventoryHost) {
      outcome.failures.set(host, 'not in the inventory');
      return;
    }
    const moduleContext: ModuleContext = {
      host: inventoryHost,
      inventory: ctx.inventory,
      vars: inventoryHost.vars,
      dryRun: ctx.dryRun,
      become: false,
    };
    for (const action of phase.hosts.get(host) ?? []) {
      if (ctx.signal.aborted && !ctx.dryRun) {
        outcome.failures.set(host, 'interrupted before this step');
        return;
      }
      const started = Date.now();
      const steps: string[] = [];
      recorded.push({ title: action.title, steps });
      let problem: string | undefined;
      try {
        const generator = action.module.plan(moduleContext, action.args);
        let next = await generator.next();
        while (!next.done) {
          const step = next.value;
          steps.push(describeStep(step));
          const result = ctx.dryRun && !runsInPreview(step) ? undefined : await runStep(step, host, ctx, interruptible);
          next = await generator.next(result);
        }
        outcomes.push(next.value);
        if (next.value.failed) problem = next.value.msg ?? 'failed';
      } catch (error) {
        problem = (error as Error).message ?? String(error);
      }
      if (!ctx.dryRun || problem) {
        ctx.emit({
          type: 'step',
          phase: phase.id,
          host: host === DEPLOY_HOST ? 'deploy host' : host,
          title: action.title,
          ok: !problem,
          ms: Date.now() - started,
          ...(problem ? { detail: problem } : {}),
          at: new Date().toISOString(),
        });
      }
      if (problem) {
        outcome.failures.set(host, `${action.title}: ${problem}`);
        return;
      }
    }
    await ctx.onHostDone(phase.id, host, outcomes);
  };
  for (const wave of waves) await Promise.all(wave.map(runHost));
  outcome.endedAt = new Date();
  outcome.ms = outcome.endedAt.getTime() - startedAt.getTime();
  ctx.emit({
    type: 'phase-end',
    phase: phase.id,
    ms: outcome.ms,
    failed: Object.fromEntries(outcome.failures),
    skipped: outcome.skipped,
    at: outcome.endedAt.toISOString(),
  });
  return outcome;
}

/** A context that runs only read-only steps, journals nothing and reports nothing (preflight, preview). */
export function readOnlyPhaseContext(inventory: Inventory, transports: ReadonlyMap<string, Transport>): PhaseRunContext {
  return {
    inventory,
    transports,
    dryRun: true,
    signal: new AbortController().signal,
    interruptible: new Set(),
    shouldRun: () => true,
    onBegin: async () => undefined,
    onHostDone: async () => undefined,
    emit: () => undefined,
  };
}

/** The preview: every phase driven with read-only steps only; nothing on any host changes. */
export async function previewPlan(
  phases: readonly PlannedPhase[],
  inventory: Inventory,
  transports: ReadonlyMap<string, Transport>,
): Promise<PrintablePhase[]> {
  const printable: PrintablePhase[] = [];
  for (const phase of phases) {
    const outcome = await runPhase(phase, readOnlyPhaseContext(inventory, transports));
    printable.push({
      id: phase.id,
      title: phase.wavesNote ? `${phase.title} (${phase.wavesNote})` : phase.title,
      hosts: [...phase.hosts.keys()].map((host) => ({ host, actions: outcome.steps.get(host) ?? [] })),
    });
  }
  return printable;
}
