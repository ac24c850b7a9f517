// What every sub-command does with its command line: parse it strictly, take its one argument, and
// turn Ctrl-C into an orderly stop. One place, so every command fails and stops the same way.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ExitCode, UsageError } from '../errors.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** The options that reach hosts over SSH, shared by run, backup and restore. */
export const connectionOptions = {
  'accept-new-host-keys': { type: 'boolean' },
  'known-hosts': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'ssh-config': { type: 'string' },
} as const satisfies OptionSpecs;

export const helpOption = { help: { type: 'boolean', short: 'h' } } as const satisfies OptionSpecs;

/** parseArgs with positionals and strict checking; a bad option is a usage error naming the command's --help. */
export function parseCommandLine<T extends OptionSpecs>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (error) {
    throw new UsageError((error as Error).message, `run \`orchestrate ${command} --help\` for the options`);
  }
}

/** The command's single positional argument (an inventory or a playbook). */
export function singleArgument(positionals: string[], what: string, usageLine: string): string {
  const [first, ...extra] = positionals;
  if (!first) throw new UsageError(`no ${what} given`, usageLine);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, `give one ${what}; ${usageLine}`);
  return first;
}

/** Decimal digits only: Number() alone would also take `0x3`, `1e2`, ` 3` and `3.0`. */
export function positiveInteger(text: string, option: string): number {
  const value = /^[0-9]{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`${option} must be a positive whole number, not "${text}"`);
  return value;
}

/**
 * Run `work` with SIGINT/SIGTERM turned into an abort signal: the first signal stops starting new
 * steps (`firstNotice`), a second one exits at once (`secondNotice`).
 */
export async function withInterrupts<T>(
  notices: { first: string; second: string },
  work: (signal: AbortSignal) => Promise<T>,
  linked?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`\n${notices.second}\n`);
      process.exit(ExitCode.interrupted);
    }
    process.stderr.write(`\n${notices.first}\n`);
    controller.abort();
  };
  linked?.addEventListener('abort', () => controller.abort(), { once: true });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
