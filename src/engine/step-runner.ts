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
  /** The connection to another inventory host, for steps that name one (`host`). */
  connect?(host: string): Promise<Transport | UnreachableError>;
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

/** Steps that still run after an interrupt (they remove what an interrupted step left behind). */
export function isCleanupStep(step: Step): boolean {
  return step.kind === 'exec' && step.cleanup === true;
}

/** The host a step names, if it runs somewhere other than the task's target. */
function namedHost(step: Step): string | undefined {
  return step.kind === 'exec' || step.kind === 'download' ? step.host : undefined;
}

export async function runStep(step: Step, target: StepTarget, options: StepRunOptions): Promise<{ result: StepResult; planned: PlannedStep }> {
  const run = shouldRun(step, options);
  const where: StepTarget = { ...target, name: namedHost(step) ?? target.name };
  const planned: PlannedStep = {
    kind: step.kind,
    text: describeStep(step, where, options),
    readOnly: (step.kind === 'exec' || step.kind === 'call') && step.readOnly === true,
    ran: run,
    on: step.kind === 'call' ? 'localhost' : where.name,
  };
  if (!run) return { result: undefined, planned };
  const cleanup = isCleanupStep(step);
  if (options.signal.aborted && !cleanup) throw new InterruptedError();
  if (step.kind === 'call') return { result: await step.run(options.signal), planned };
  const transport = await transportFor(step, target);
  switch (step.kind) {
    case 'exec':
      return {
        result: await transport.exec(step.command, {
          become: step.become ?? options.become,
          ...(cleanup ? {} : { signal: options.signal }),
          ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
          ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
        }),
        planned,
      };
    case 'upload':
      return {
        result: await transport.upload(step.source, step.dest, {
          mode: step.mode,
          become: step.become ?? options.become,
          ...(step.sha256 !== undefined ? { sha256: step.sha256 } : {}),
        }),
        planned,
      };
    case 'download':
      return { result: await transport.download(step.src, step.dest, { mode: step.mode }), planned };
  }
}

async function transportFor(step: Step, target: StepTarget): Promise<Transport> {
  const host = namedHost(step);
  if (host === undefined || host === target.name) {
    if (!target.transport) throw new Error(`a ${step.kind} step needs a connection, but this module runs without one`);
    return target.transport;
  }
  if (!target.connect) throw new Error(`a ${step.kind} step names host ${host}, but this module cannot reach other hosts`);
  const transport = await target.connect(host);
  if (transport instanceof UnreachableError) throw transport;
  return transport;
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
      const what =
        'path' in step.source
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
