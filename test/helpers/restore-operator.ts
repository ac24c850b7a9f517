// What an operator runs after a restore that did not finish, as the run says: the same command again
// while the journal is in progress (it resumes), `--rollback` once a rollback was begun or failed, until the
// restore is completed or rolled back. Shared by the fault matrix's network rows and the chaos run.
import type { CliResult } from './cli.js';
import { orchestrate, readJournal, reportOf, type FaultBench } from './restore-faults.js';

export const restoreArgs = (bench: FaultBench, ...more: string[]): string[] => [
  'restore',
  bench.lab.inventoryFile,
  '--snapshot',
  bench.snapshot,
  '--yes',
  '--json',
  ...more,
];

export type Settled = {
  /** How it ended: the run `runId` completed, or its old data is back. */
  state: 'completed' | 'rolled-back';
  runId: string;
  /** The commands run, e.g. ['same command (exit 0)']; empty when nothing was needed. */
  steps: string[];
  /** Time spent in those commands. */
  ms: number;
};

type Next = { done: 'completed' | 'rolled-back'; runId: string } | { run: 'same command' | '--rollback' };

/** What the journal says to do next; `before` is the run id the journal had before the faulted run. */
async function nextStep(bench: FaultBench, before: string | undefined): Promise<Next> {
  const journal = await readJournal(bench).catch(() => undefined);
  // The faulted run died before it wrote its journal: nothing was changed, so the command is run again.
  if (!journal || journal.runId === before) return { run: 'same command' };
  switch (journal.status) {
    case 'completed':
      return { done: 'completed', runId: journal.runId };
    case 'rolled-back':
    case 'aborted':
      return { done: 'rolled-back', runId: journal.runId };
    case 'rolling-back':
    case 'rollback-failed':
      return { run: '--rollback' };
    default:
      return { run: 'same command' };
  }
}

/** Runs the next command until the journal says completed or rolled back (at most `maxSteps` commands). */
export async function settleAsTheRunSays(bench: FaultBench, before: string | undefined, maxSteps = 3): Promise<Settled> {
  const steps: string[] = [];
  let ms = 0;
  for (;;) {
    const next = await nextStep(bench, before);
    if ('done' in next) return { state: next.done, runId: next.runId, steps, ms };
    if (steps.length >= maxSteps) throw new Error(`not settled after ${steps.join(', ')}`);
    const started = Date.now();
    const args = next.run === 'same command' ? restoreArgs(bench) : ['restore', bench.lab.inventoryFile, '--rollback', '--yes', '--json'];
    const result = await orchestrate(args, { timeoutMs: 180_000 });
    ms += Date.now() - started;
    const failure = result.code === 0 ? '' : `: ${failureOf(result)}`;
    steps.push(`${next.run} (exit ${result.code ?? result.signal}${failure})`);
  }
}

/** The start of a failure message, machine paths shortened, for a table cell. */
export function firstWords(text: string | undefined, length = 70): string {
  return (text ?? '')
    .split('\n')[0]!
    .replace(/\/[^\s:]*\/lab\//g, '<lab>/')
    .slice(0, length);
}

/** The report's failure, or the first line on stderr when the run printed no report. */
export function failureOf(result: CliResult): string {
  try {
    return firstWords(reportOf(result).failure);
  } catch {
    return firstWords(result.stderr.replace(/^error: /, ''));
  }
}
