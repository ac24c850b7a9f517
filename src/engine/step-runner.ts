// Runs one planned step on a transport (or in this process), or only describes it under --dry-run.
import { UnreachableError } from '../errors.js';
import type { Transport } from '../transport/types.js';
import { formatMode } from '../modules/file-mode.js';
import type { Step, StepResult } from './step.js';
import type { Masker } from './mask.js';
import type { PlannedStep } from './types.js';

export interface StepTarget {
  /** Where exec/upload/download steps go; undefined for modules that run in this process. */
  transport?: Transport;
  /** Name shown in plans: the host, its delegate or `localhost`. */
  name: string;
}

export interface StepRunOptions {
  dryRun: boolean;
  /** The task's arguments still hold run-time-only values: nothing may run, not even read-only checks. */
  deferredArgs: boolean;
  become: boolean;
  signal: AbortSignal;
  masker: Masker;
}

/** Only read-only steps run under --dry-run, and only when their arguments are fully known. */
export function shouldRun(step: Step, options: Pick<StepRunOptions, 'dryRun' | 'deferredArgs'>): boolean {
  if (options.deferredArgs) return false;
  if (!options.dryRun) return true;
  return (step.kind === 'exec' || step.kind === 'call') && step.readOnly === true;
}

export async function runStep(step: Step, target: StepTarget, options: StepRunOptions): Promise<{ result: StepResult; planned: PlannedStep }> {
  const run = shouldRun(step, options);
  const planned: PlannedStep = {
    kind: step.kind,
    text: describeStep(step, target, options),
    readOnly: (step.kind === 'exec' || step.kind === 'call') && step.readOnly === true,
    ran: run,
    on: step.kind === 'call' ? 'localhost' : target.name,
  };
  if (!run) return { result: undefined, planned };
  if (options.signal.aborted) throw new InterruptedError();
  if (step.kind === 'call') return { result: await step.run(options.signal), planned };
  const transport = target.transport;
  if (!transport) throw new Error(`a ${step.kind} step needs a connection, but this module runs without one`);
  switch (step.kind) {
    case 'exec':
      return {
        result: await transport.exec(step.command, {
          become: step.become ?? options.become,
          signal: options.signal,
          ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
          ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
        }),
        planned,
      };
    case 'upload':
      return { result: await transport.upload(step.source, step.dest, { mode: step.mode, become: step.become ?? options.become, ...(step.sha256 !== undefined ? { sha256: step.sha256 } : {}) }), planned };
    case 'download':
      return { result: await transport.download(step.src, step.dest, { mode: step.mode }), planned };
  }
}

/** A step as one line for plans and logs, secrets masked. */
export function describeStep(step: Step, target: StepTarget, options: Pick<StepRunOptions, 'masker' | 'become'>): string {
  const { masker } = options;
  switch (step.kind) {
    case 'exec': {
      for (const secret of step.secrets ?? []) masker.add(secret);
      const sudo = (step.become ?? options.become) ? ' (become)' : '';
      const stdin = step.stdin !== undefined ? ` <stdin: ${Buffer.byteLength(step.stdin)} bytes>` : '';
      return masker.mask(step.command) + stdin + sudo;
    }
    case 'upload': {
      const what = 'path' in step.source
        ? `file ${step.source.path} (deploy host)`
        : `${step.secret ? 'secret content' : 'content'} (${Buffer.byteLength(step.source.content)} bytes)`;
      return masker.mask(`upload ${what} -> ${target.name}:${step.dest} (mode ${formatMode(step.mode)})`);
    }
    case 'download':
      return masker.mask(`download ${target.name}:${step.src} -> ${step.dest} on the deploy host (mode ${formatMode(step.mode)})`);
    case 'call':
      return masker.mask(step.description);
  }
}

/** The run was interrupted before this step could start. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
  }
}

export function isUnreachable(error: unknown): error is UnreachableError {
  return error instanceof UnreachableError;
}
