// How a plan yields a step and gets its result back, typed: `const run = yield* exec(command)` gives an
// ExecResult (undefined when the step was only printed, under --dry-run). Exit codes and stderr are judged
// in one place, `mustSucceed`, which ends the plan as failed with one message shape.
import { constants } from 'node:os';
import type { ExecResult, TransferResult } from '../transport/types.js';
import type { CallStep, DownloadStep, ExecStep, Step, UploadStep } from './step.js';

/** The plan of one step: yields it, returns its result (undefined when it did not run). */
export type StepPlan<R> = Generator<Step, R | undefined, unknown>;

export type ExecStepOptions = Omit<ExecStep, 'kind' | 'command' | 'readOnly'>;

/** A command that may change something: printed, not run, under --dry-run. */
export function* exec(command: string, options: ExecStepOptions = {}): StepPlan<ExecResult> {
  return (yield { kind: 'exec', command, ...options }) as ExecResult | undefined;
}

/** A check that changes nothing: it also runs under --dry-run. */
export function* check(command: string, options: ExecStepOptions = {}): StepPlan<ExecResult> {
  return (yield { kind: 'exec', command, readOnly: true, ...options }) as ExecResult | undefined;
}

export function* upload(step: Omit<UploadStep, 'kind'>): StepPlan<TransferResult> {
  return (yield { kind: 'upload', ...step }) as TransferResult | undefined;
}

export function* download(step: Omit<DownloadStep, 'kind'>): StepPlan<TransferResult> {
  return (yield { kind: 'download', ...step }) as TransferResult | undefined;
}

/** Work in this process (an etcd call, a file on the deploy host); read-only calls also run under --dry-run. */
export function* call<T>(description: string, readOnly: boolean, run: (signal: AbortSignal) => Promise<T>): StepPlan<T> {
  const step: CallStep<T> = { kind: 'call', description, readOnly, run };
  return (yield step) as T | undefined;
}

/** Ends a plan as failed; the driver turns it into the task's failed outcome (its `result` is still registered). */
export class ModuleFailure extends Error {
  constructor(
    message: string,
    readonly result?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * A command that must succeed: its result when it exited 0 (or did not run, under --dry-run); otherwise the
 * plan ends here as failed with `<what>: <why> (<last lines of stderr>)`.
 */
export function mustSucceed(result: ExecResult | undefined, what: string, extra?: Record<string, unknown>): ExecResult | undefined {
  if (result === undefined || result.exitCode === 0) return result;
  throw new ModuleFailure(`${what}: ${execFailure(result)}: ${outputTail(result)}`, extra);
}

/** Why a command did not succeed, for messages. */
export function execFailure(result: ExecResult): string {
  if (result.timedOut) return `command timed out after ${Math.round(result.durationMs / 1000)}s`;
  if (result.exitCode === null) return result.signal ? `command killed by ${result.signal}` : 'command ended without an exit status';
  const signal = signalOfShellStatus(result.exitCode);
  return signal ? `non-zero return code (${result.exitCode} = 128 + ${signal.number}: killed by ${signal.name}?)` : 'non-zero return code';
}

/** The last lines a failed command printed (stderr, else stdout), on one line. */
export function outputTail(result: ExecResult, lines = 3): string {
  const text = result.stderr.trim() || result.stdout.trim();
  return text === '' ? 'no output' : text.split('\n').slice(-lines).join(' | ');
}

/** A shell reports a command killed by signal N as 128+N; an exit status can look the same, hence only a hint. */
function signalOfShellStatus(code: number): { name: string; number: number } | undefined {
  if (code <= 128 || code > 128 + 64) return undefined;
  const number = code - 128;
  const name = Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
  return name ? { name, number } : undefined;
}
