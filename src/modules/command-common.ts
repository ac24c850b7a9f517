// What `command` and `shell` share: creates/removes guards, chdir, and Ansible's result fields.
import { shellJoin, shellQuote } from '../shell/quote.js';
import type { Step } from './step.js';
import type { ModuleOutcome } from './define.js';
import { splitLines, stripTrailingNewline } from './helpers.js';
import { check, exec, execFailure } from './plan-steps.js';

export interface CommandGuards {
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
}

export const guardProperties = {
  chdir: { type: 'string', minLength: 1 },
  creates: { type: 'string', minLength: 1 },
  removes: { type: 'string', minLength: 1 },
  stdin: { type: 'string' },
} as const;

/** `creates` / `removes`: a read-only check first; returns an outcome when the command must not run. */
export async function* guardOutcome(args: CommandGuards, display: string): AsyncGenerator<Step, ModuleOutcome | undefined, unknown> {
  if (args.creates !== undefined) {
    const found = yield* check(prefixChdir(args.chdir, shellJoin(['test', '-e', args.creates])));
    if (found?.exitCode === 0) return skippedBecause(display, `Did not run command since '${args.creates}' exists`);
  }
  if (args.removes !== undefined) {
    const found = yield* check(prefixChdir(args.chdir, shellJoin(['test', '-e', args.removes])));
    if (found && found.exitCode !== 0) return skippedBecause(display, `Did not run command since '${args.removes}' does not exist`);
  }
  return undefined;
}

function skippedBecause(display: string, msg: string): ModuleOutcome {
  return { changed: false, msg, result: { cmd: display, rc: 0, stdout: msg, stderr: '', stdout_lines: [msg], stderr_lines: [] } };
}

/** `cd DIR` first; a failing cd stops the command line. */
export function prefixChdir(chdir: string | undefined, command: string): string {
  return chdir === undefined ? command : `cd -- ${shellQuote(chdir)} || exit 1; ${command}`;
}

/** Run one command line and describe it the way Ansible's command/shell modules do. */
export async function* runCommandLine(
  command: string,
  display: string | string[],
  stdin: string | undefined,
): AsyncGenerator<Step, ModuleOutcome, unknown> {
  const start = new Date();
  const result = yield* exec(command, stdin === undefined ? {} : { stdin });
  const end = new Date();
  if (!result) return { changed: true, result: { cmd: display } };
  const stdout = stripTrailingNewline(result.stdout);
  const stderr = stripTrailingNewline(result.stderr);
  const failed = result.exitCode !== 0;
  return {
    changed: true,
    failed,
    ...(failed ? { msg: execFailure(result) } : {}),
    result: {
      cmd: display,
      rc: result.exitCode ?? -1,
      stdout,
      stderr,
      stdout_lines: splitLines(stdout),
      stderr_lines: splitLines(stderr),
      start: localTimestamp(start),
      end: localTimestamp(end),
      delta: formatDelta(end.getTime() - start.getTime()),
      ...(result.signal ? { signal: result.signal } : {}),
      ...(result.timedOut ? { timed_out: true } : {}),
    },
  };
}

/** Ansible's `2026-11-22 10:00:01.123456` form. */
function localTimestamp(date: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}000`;
}

/** Ansible's `0:00:00.012345` form. */
function formatDelta(ms: number): string {
  const total = Math.max(0, ms);
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = ((total % 60_000) / 1000).toFixed(6).padStart(9, '0');
  return `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`;
}
