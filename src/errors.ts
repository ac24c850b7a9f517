// Error classes shared by every layer. Only the CLI prints them or exits.

/** Exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  /** A bug or an unexpected failure: the only case that may print a stack (with ORCHESTRATE_DEBUG=1). */
  internal: 1,
  /** Bad configuration or usage: nothing was changed. */
  config: 2,
  /** A task failed on at least one host. */
  failed: 3,
  /** At least one host could not be reached (and none failed otherwise). */
  unreachable: 4,
  /** A safety check refused to go on (no confirmation, stale snapshot, failed preflight): nothing was changed. */
  refused: 5,
  /** `status`: the newest verified backup is missing or older than --max-age. */
  stale: 6,
  /** `status`: the etcd cluster has no quorum, is split, or (with --require-all-members) a member is down or an alarm is raised. */
  unhealthy: 7,
  /** Interrupted by a signal. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A position in a configuration file, 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface ConfigProblem {
  severity: 'error' | 'warning';
  /** Stable code such as `inventory.duplicate-etcd-name`. */
  code: string;
  message: string;
  /** What a valid value looks like (printed as `expected:`). */
  expected?: string;
  /** What to do about it. */
  hint?: string;
  loc?: SourceLocation;
  /** The text of the offending line, without its newline, for the caret display. */
  lineText?: string;
}

/** Base class: a stable code, a message meant for an operator, and the exit code it maps to. */
export class OrchestrateError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: ExitCodeValue = ExitCode.internal,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One or more problems in inventories, playbooks or arguments, collected before anything ran. */
export class ConfigError extends OrchestrateError {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      problems
        .filter((p) => p.severity === 'error')
        .map((p) => p.message)
        .join('; ') || 'configuration error',
      'config.invalid',
      ExitCode.config,
    );
  }
}

/** Bad command-line usage. */
export class UsageError extends OrchestrateError {
  constructor(message: string, hint?: string) {
    super(message, 'usage', ExitCode.config, hint);
  }
}

/** A host could not be reached or authenticated (including unknown or changed host keys). */
export class UnreachableError extends OrchestrateError {
  constructor(
    readonly host: string,
    message: string,
    hint?: string,
  ) {
    super(`${host}: ${message}`, 'host.unreachable', ExitCode.unreachable, hint);
  }
}

/** A safety refusal: a preflight check failed or confirmation is missing. Nothing was changed. */
export class RefusedError extends OrchestrateError {
  constructor(message: string, hint?: string, code = 'refused') {
    super(message, code, ExitCode.refused, hint);
  }
}

/** A task or an operation failed. */
export class TaskFailedError extends OrchestrateError {
  constructor(message: string, hint?: string, code = 'task.failed') {
    super(message, code, ExitCode.failed, hint);
  }
}
