// A command's result is judged in one place: whether it succeeded, why not, and the last lines it printed.
// Modules (through the plan driver's mustSucceed) and the transport's own far-side scripts (transfers) use
// the same words, so an operator reads one message shape for every failed command.
import { constants } from 'node:os';
import { TaskFailedError } from '../errors.js';
import type { ExecResult } from './types.js';

/** Exit code 0 within its deadline. */
export function succeeded(result: ExecResult): boolean {
  return result.exitCode === 0 && result.timedOut !== true;
}

/** Why a command did not succeed, e.g. `non-zero return code (137 = 128 + 9: killed by SIGKILL?)`. */
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

/** A command that had to succeed did not; the result stays attached for callers that look closer. */
export class CommandFailedError extends TaskFailedError {
  constructor(
    message: string,
    readonly result: ExecResult,
    hint?: string,
    code = 'command.failed',
  ) {
    super(message, hint, code);
  }
}

/**
 * The result of a command that must succeed; otherwise throws a CommandFailedError
 * `<what>: <why>: <last lines of stderr>`. `what` names the host and the action, e.g. `etcd1: cannot write /x`.
 */
export function mustSucceed(result: ExecResult, what: string, options: { code?: string; hint?: string } = {}): ExecResult {
  if (succeeded(result)) return result;
  throw new CommandFailedError(`${what}: ${execFailure(result)}: ${outputTail(result)}`, result, options.hint, options.code);
}

/** A shell reports a command killed by signal N as 128+N; an exit status can look the same, hence only a hint. */
function signalOfShellStatus(code: number): { name: string; number: number } | undefined {
  if (code <= 128 || code > 128 + 64) return undefined;
  const number = code - 128;
  const name = Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
  return name ? { name, number } : undefined;
}
