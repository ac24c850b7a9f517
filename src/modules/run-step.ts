// Where a module's steps go: a target runs exec/upload/download steps on a host's connection (or another
// inventory host's, for steps that name one) and call steps in this process. The engine builds targets from
// its connections; unit tests build scripted ones.
import { UnreachableError } from '../errors.js';
import type { Transport } from '../transport/types.js';
import { formatMode } from './file-mode.js';
import type { Masker } from '../util/mask.js';
import { namedHost, type Step } from './step.js';

export interface StepRunOptions {
  become: boolean;
  /** Aborts the step while it runs; absent for cleanup steps and for phases whose commands must finish. */
  signal?: AbortSignal;
}

export interface StepTarget {
  /** Name shown in plans: the host, its delegate or `localhost`. */
  readonly name: string;
  /** Runs one step; its result is what the plan receives at the step's `yield`. */
  run(step: Step, options: StepRunOptions): Promise<unknown>;
}

/** A target over a transport; `connect` reaches other inventory hosts for steps that name one (`host`). */
export function transportTarget(
  name: string,
  transport: Transport | undefined,
  connect?: (host: string) => Promise<Transport | UnreachableError>,
): StepTarget {
  const transportFor = async (step: Step): Promise<Transport> => {
    const host = namedHost(step);
    if (host === undefined || host === name) {
      if (!transport) throw new Error(`a ${step.kind} step needs a connection, but this module runs on the deploy host`);
      return transport;
    }
    if (!connect) throw new Error(`a ${step.kind} step names host ${host}, but this module cannot reach other hosts`);
    const other = await connect(host);
    if (other instanceof UnreachableError) throw other;
    return other;
  };
  return {
    name,
    async run(step, options) {
      if (step.kind === 'call') return step.run(options.signal ?? new AbortController().signal);
      const on = await transportFor(step);
      switch (step.kind) {
        case 'exec':
          return on.exec(step.command, {
            become: step.become ?? options.become,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
            ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
          });
        case 'upload':
          return on.upload(step.source, step.dest, {
            mode: step.mode,
            become: step.become ?? options.become,
            ...(step.sha256 !== undefined ? { sha256: step.sha256 } : {}),
          });
        case 'download':
          return on.download(step.src, step.dest, { mode: step.mode });
      }
    },
  };
}

/** A step as one line for plans and logs, secrets masked. */
export function describeStep(step: Step, where: string, become: boolean, masker: Masker): string {
  switch (step.kind) {
    case 'exec': {
      for (const secret of step.secrets ?? []) masker.add(secret);
      const sudo = (step.become ?? become) ? ' (become)' : '';
      const stdin = step.stdin !== undefined ? ` <stdin: ${Buffer.byteLength(step.stdin)} bytes>` : '';
      return masker.mask(step.command) + stdin + sudo;
    }
    case 'upload': {
      const what =
        'path' in step.source
          ? `file ${step.source.path} (deploy host)`
          : `${step.secret ? 'secret content' : 'content'} (${Buffer.byteLength(step.source.content)} bytes)`;
      return masker.mask(`upload ${what} -> ${where}:${step.dest} (mode ${formatMode(step.mode)})`);
    }
    case 'download':
      return masker.mask(`download ${where}:${step.src} -> ${step.dest} on the deploy host (mode ${formatMode(step.mode)})`);
    case 'call':
      return masker.mask(step.description);
  }
}
