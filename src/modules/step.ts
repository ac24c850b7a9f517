// A step is what a module plans: data first, so the dry-run can print it and the driver can run it.
// Modules yield steps through the helpers in plan-steps.ts, which give each result its type.

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
 * What the driver feeds back at a step's `yield`: an ExecResult or TransferResult (transport/types.ts), or what a call step's
 * `run` returned; plan-steps.ts narrows it to the step's own result type.
 */
export type StepResult = unknown;

/** One step as printed (secrets masked) and whether it was executed. */
export interface PlannedStep {
  kind: Step['kind'];
  text: string;
  readOnly: boolean;
  /** False under --dry-run for steps that were only printed. */
  ran: boolean;
  /** Where it runs: the host, the delegate, or `localhost` for work in this process. */
  on: string;
}

/** Only read-only steps run under --dry-run. */
export function isReadOnly(step: Step): boolean {
  return (step.kind === 'exec' || step.kind === 'call') && step.readOnly === true;
}

/** Steps that still run after an interrupt (they remove what an interrupted step left behind). */
export function isCleanupStep(step: Step): boolean {
  return step.kind === 'exec' && step.cleanup === true;
}

/** The host a step names, if it runs somewhere other than the task's target. */
export function namedHost(step: Step): string | undefined {
  return step.kind === 'exec' || step.kind === 'download' ? step.host : undefined;
}
