// Turns any thrown value into an operator-facing message on stderr. Stacks only with ORCHESTRATE_DEBUG=1.
import { ConfigError, OrchestrateError } from '../errors.js';
import { formatProblems, printable } from '../config/format-problems.js';

export function printError(error: unknown): void {
  if (error instanceof ConfigError) {
    process.stderr.write(formatProblems(error.problems));
  } else if (error instanceof OrchestrateError) {
    process.stderr.write(`error: ${printable(error.message, { keepNewlines: true })}\n`);
    if (error.hint) process.stderr.write(`  fix: ${printable(error.hint, { keepNewlines: true })}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `internal error: ${printable(message, { keepNewlines: true })}\n  This is a bug in orchestrate; run again with ORCHESTRATE_DEBUG=1 for details.\n`,
    );
  }
  if (process.env.ORCHESTRATE_DEBUG === '1' && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
}
