// Errors of the lab: operator-facing messages, no stacks (the CLI prints them).
import { ExitCode, OrchestrateError } from '../errors.js';

/** Something in bringing the lab up, inspecting it or taking it down failed. */
export class LabError extends OrchestrateError {
  constructor(message: string, hint?: string, code = 'lab.failed') {
    super(message, code, ExitCode.failed, hint);
  }
}

/** The lab mounts filesystems and binds port 22: only root can do that. */
export class LabNeedsRootError extends OrchestrateError {
  constructor(what: string) {
    super(
      `lab needs root: ${what} mounts an overlay filesystem per host, enters mount namespaces and starts sshd on port 22`,
      'lab.needs-root',
      ExitCode.config,
      'run it as root (for example with sudo)',
    );
  }
}

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new LabNeedsRootError(what);
}
