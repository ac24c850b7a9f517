// Runs planned phases: inside a phase every host runs its actions in order, hosts in parallel; a phase
// ends when every host finished (a barrier), so "stop kube_node everywhere" is over before kube_master stops.
import type { Step, StepResult } from '../engine/step.js';
import { asExec } from '../modules/helpers.js';
import type { Transport } from '../transport/types.js';
import { DEPLOY_HOST } from './journal.js';
import { mustSucceed } from './plan.js';
import { describeStep, type PlannedAction, type PlannedPhase } from './plan-types.js';

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
  hosts: { host: string; steps: { title: string; step: string }[] }[];
}

export function printablePlan(phases: readonly PlannedPhase[]): PrintablePhase[] {
  return phases.map((phase) => ({
    id: phase.id,
    title: phase.title,
    hosts: [...phase.hosts].map(([host, actions]) => ({ host, steps: actions.map((a) => ({ title: a.title, step: describeStep(a.step) })) })),
  }));
}

export interface PhaseRunContext {
  transports: ReadonlyMap<string, Transport>;
  /** Hosts whose step must not start any more (Ctrl-C); steps of interruptible phases also get it. */
  signal: AbortSignal;
  /** Phases whose in-flight commands may be cancelled on Ctrl-C (they change nothing the cluster uses). */
  interruptible: ReadonlySet<string>;
  /** False for a host that already did this phase in an earlier, interrupted run. */
  shouldRun(phase: string, host: string): boolean;
  onBegin(phase: string): Promise<void>;
  /** Called when a host finished all its actions of the phase; gets their trimmed stdout. */
  onHostDone(phase: string, host: string, outputs: string[]): Promise<void>;
  emit(event: RestoreEvent): void;
}

export interface PhaseOutcome {
  id: string;
  ms: number;
  startedAt: Date;
  endedAt: Date;
  failures: Map<string, string>;
  skipped: string[];
  /** Host -> stdout of each action (for the report: where the swap put things). */
  outputs: Map<string, string[]>;
  /** Results of call steps, by host. */
  results: Map<string, StepResult[]>;
}

async function runStep(step: Step, host: string, ctx: PhaseRunContext, interruptible: boolean): Promise<StepResult> {
  if (step.kind === 'call') return step.run(ctx.signal);
  const transport = ctx.transports.get(host);
  if (!transport) throw new Error(`no connection to ${host}`);
  switch (step.kind) {
    case 'exec':
      return transport.exec(step.command, {
        ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
        ...(step.become !== undefined ? { become: step.become } : {}),
        ...(interruptible ? { signal: ctx.signal } : {}),
      });
    case 'upload':
      return transport.upload(step.source, step.dest, { mode: step.mode, ...(step.become !== undefined ? { become: step.become } : {}) });
    case 'download':
      return transport.download(step.src, step.dest, { mode: step.mode });
  }
}

function defaultCheck(action: PlannedAction, result: StepResult): string | undefined {
  if (action.check) return action.check(result);
  return action.step.kind === 'exec' ? mustSucceed(result) : undefined;
}

export async function runPhase(phase: PlannedPhase, ctx: PhaseRunContext): Promise<PhaseOutcome> {
  const startedAt = new Date();
  const outcome: PhaseOutcome = { id: phase.id, ms: 0, startedAt, endedAt: startedAt, failures: new Map(), skipped: [], outputs: new Map(), results: new Map() };
  const hosts = [...phase.hosts.keys()];
  const toRun = hosts.filter((host) => ctx.shouldRun(phase.id, host));
  outcome.skipped = hosts.filter((host) => !toRun.includes(host));
  ctx.emit({ type: 'phase-start', phase: phase.id, title: phase.title, hosts: toRun, at: startedAt.toISOString() });
  if (toRun.length > 0) await ctx.onBegin(phase.id);
  const interruptible = ctx.interruptible.has(phase.id);

  await Promise.all(
    toRun.map(async (host) => {
      const outputs: string[] = [];
      const results: StepResult[] = [];
      for (const action of phase.hosts.get(host) ?? []) {
        const stepStarted = Date.now();
        const at = () => new Date().toISOString();
        if (ctx.signal.aborted) {
          outcome.failures.set(host, 'interrupted before this step');
          return;
        }
        let problem: string | undefined;
        let result: StepResult;
        try {
          result = await runStep(action.resolve ? action.resolve() : action.step, host, ctx, interruptible);
          problem = defaultCheck(action, result);
        } catch (error) {
          problem = (error as Error).message ?? String(error);
        }
        const exec = asExec(result);
        outputs.push(exec ? exec.stdout.trim() : '');
        results.push(result);
        const ms = Date.now() - stepStarted;
        ctx.emit({ type: 'step', phase: phase.id, host: host === DEPLOY_HOST ? 'deploy host' : host, title: action.title, ok: !problem, ms, ...(problem ? { detail: problem } : {}), at: at() });
        if (problem) {
          outcome.failures.set(host, `${action.title}: ${problem}`);
          outcome.outputs.set(host, outputs);
          outcome.results.set(host, results);
          return;
        }
      }
      outcome.outputs.set(host, outputs);
      outcome.results.set(host, results);
      await ctx.onHostDone(phase.id, host, outputs);
    }),
  );
  outcome.endedAt = new Date();
  outcome.ms = outcome.endedAt.getTime() - startedAt.getTime();
  ctx.emit({ type: 'phase-end', phase: phase.id, ms: outcome.ms, failed: Object.fromEntries(outcome.failures), skipped: outcome.skipped, at: outcome.endedAt.toISOString() });
  return outcome;
}
