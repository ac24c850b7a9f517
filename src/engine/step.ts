// A step is what a module plans: data first, so the dry-run can print it and the runner can execute it.
import type { ExecResult, TransferResult } from '../transport/types.js';

export interface ExecStep {
  kind: 'exec';
  /** The full command line, every value quoted with shellQuote. */
  command: string;
  /** True for checks that change nothing: these also run under --dry-run. */
  readOnly?: boolean;
  become?: boolean;
  timeoutMs?: number;
  stdin?: string | Buffer;
  /** Substrings to mask as ******** wherever the step is printed. */
  secrets?: string[];
  /** Run on this inventory host instead of the task's host or delegate (a module that falls back from one host to the next). */
  host?: string;
  /** Removes what the module left behind: still runs after an interrupt, without the abort signal, so give it a timeoutMs. */
  cleanup?: boolean;
}

export interface UploadStep {
  kind: 'upload';
  source: { path: string } | { content: string | Buffer };
  dest: string;
  mode: number;
  become?: boolean;
  /** Content is secret: printers show only its size. */
  secret?: boolean;
  /** Known sha256 of the source (see TransferOptions.sha256). */
  sha256?: string;
}

export interface DownloadStep {
  kind: 'download';
  src: string;
  /** Path on the deploy host. */
  dest: string;
  mode: number;
  /** Copy from this inventory host instead of the task's host or delegate (see ExecStep.host). */
  host?: string;
}

/** Work done in this process (etcd client calls, file checks on the deploy host). */
export interface CallStep<T = unknown> {
  kind: 'call';
  /** What the dry-run prints, e.g. `etcd maintenance.status https://127.0.0.1:2379`. */
  description: string;
  readOnly: boolean;
  run(signal: AbortSignal): Promise<T>;
}

export type Step = ExecStep | UploadStep | DownloadStep | CallStep;

/**
 * What a module receives back for each step; `undefined` under --dry-run for steps that were not run.
 * A step that fails (a transfer error, an unreachable host, an interrupt) is thrown into the plan at its
 * `yield`: a plan that catches it can clean up or try elsewhere; one that does not fails as before.
 */
export type StepResult = ExecResult | TransferResult | unknown;
