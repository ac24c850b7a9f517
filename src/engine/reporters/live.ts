// A live tree on a terminal (listr2): each task with its hosts below it, spinners while they run.
// listr2 is imported only here, and this file only when stdout is a terminal.
import { Listr } from 'listr2';
import type { HostTaskResult, Reporter, RunEvent } from '../types.js';
import { formatPlan, formatRecap, hostLabel, seconds, statusWord } from './format.js';

interface Waiter {
  promise: Promise<HostTaskResult>;
  resolve(result: HostTaskResult): void;
  /** Set when the result arrived: a task whose hosts all finished before its turn is printed, not animated. */
  result?: HostTaskResult;
  output?: (text: string) => void;
}

interface Counts {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  ignored: number;
}

/**
 * The engine never waits for the display: each task's list is queued behind the previous one on
 * `chain`, and results resolve their host's waiter whenever they arrive. Waiting for listr2 to
 * finish rendering before the next task cost 40-50 ms per task on a terminal.
 */
export class LiveReporter implements Reporter {
  private chain: Promise<unknown> = Promise.resolve();
  /** Waiters of the newest task, where its results go. */
  private current = new Map<string, Waiter>();
  /** Every waiter not resolved yet, so an interrupted run never leaves the display hanging. */
  private unresolved = new Set<Waiter>();
  private pendingWarnings: string[] = [];

  async event(event: RunEvent): Promise<void> {
    switch (event.type) {
      case 'run_start':
        return;
      case 'play_start': {
        const line = `\nPLAY [${event.play}] on ${event.hosts.length} host${event.hosts.length === 1 ? '' : 's'}\n`;
        this.enqueue(async () => {
          process.stdout.write(line);
        });
        return;
      }
      case 'task_start':
        this.start(event.task, event.hosts);
        return;
      case 'host_retry':
        this.current.get(event.host)?.output?.(`retrying (attempt ${event.attempt} failed, ${event.retriesLeft} left)`);
        return;
      case 'host_result': {
        const waiter = this.current.get(event.result.host);
        if (waiter) {
          this.unresolved.delete(waiter);
          waiter.result = event.result;
          waiter.resolve(event.result);
        }
        return;
      }
      case 'warning':
        this.pendingWarnings.push(event.message);
        this.enqueue(async () => this.flushWarnings());
        return;
      case 'recap':
        await this.settle();
        if (event.summary.plan) process.stdout.write(formatPlan(event.summary.plan));
        process.stdout.write(formatRecap(event.summary));
        return;
    }
  }

  async close(): Promise<void> {
    await this.settle();
  }

  private enqueue(step: () => Promise<unknown>): void {
    this.chain = this.chain.then(step).catch(() => undefined);
  }

  private start(title: string, hosts: string[]): void {
    const waiters = new Map(
      hosts.map((host) => {
        let resolve!: (result: HostTaskResult) => void;
        const promise = new Promise<HostTaskResult>((r) => (resolve = r));
        const waiter: Waiter = { promise, resolve };
        this.unresolved.add(waiter);
        return [host, waiter];
      }),
    );
    this.current = waiters;
    this.enqueue(() => this.render(title, hosts, waiters));
  }

  private render(title: string, hosts: string[], waiters: Map<string, Waiter>): Promise<unknown> {
    const counts: Counts = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, ignored: 0 };
    const finished = [...waiters.values()].map((waiter) => waiter.result);
    if (finished.every((result) => result !== undefined)) {
      // The display is behind the engine: animating a finished task would only slow the run down.
      process.stdout.write(finishedTaskLines(title, finished, counts));
      return Promise.resolve();
    }
    const list = new Listr(
      [
        {
          title,
          task: (_ctx, parent) =>
            parent.newListr(
              hosts.map((host) => ({
                title: host,
                task: async (_c, wrapper) => {
                  const waiter = waiters.get(host);
                  if (!waiter) return;
                  waiter.output = (text) => {
                    wrapper.output = text;
                  };
                  const result = await waiter.promise;
                  counts[result.status === 'failed' && result.ignored ? 'ignored' : result.status] += 1;
                  parent.title = `${title}  ${summaryOf(counts)}`;
                  wrapper.title = `${hostLabel(result)} ${statusWord(result)} (${seconds(result.durationMs)})`;
                  if (result.status === 'skipped') wrapper.skip(`${hostLabel(result)} skipped`);
                  if (result.status === 'unreachable' || (result.status === 'failed' && !result.ignored)) {
                    throw new Error(`${hostLabel(result)}: ${result.msg}`);
                  }
                },
              })),
              { concurrent: true, exitOnError: false },
            ),
        },
      ],
      { exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false, collapseErrors: false } },
    );
    return list.run();
  }

  private async settle(): Promise<void> {
    // A host that never reported (the run was interrupted) must not keep the display waiting.
    for (const waiter of this.unresolved) waiter.resolve(interruptedResult());
    this.unresolved.clear();
    await this.chain;
    this.flushWarnings();
  }

  private flushWarnings(): void {
    for (const message of this.pendingWarnings) process.stderr.write(`warning: ${message}\n`);
    this.pendingWarnings = [];
  }
}

function finishedTaskLines(title: string, results: HostTaskResult[], counts: Counts): string {
  const lines: string[] = [];
  for (const result of results) {
    counts[result.status === 'failed' && result.ignored ? 'ignored' : result.status] += 1;
    if (result.status === 'failed' || result.status === 'unreachable') lines.push(`    ${hostLabel(result)} ${statusWord(result)}: ${result.msg}`);
  }
  const mark = lines.length > 0 ? '✖' : '✔';
  return `${mark} ${title}  ${summaryOf(counts)}\n${lines.map((line) => `${line}\n`).join('')}`;
}

function summaryOf(counts: Counts): string {
  return (Object.entries(counts) as [keyof Counts, number][])
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name}=${n}`)
    .join(' ');
}

function interruptedResult(): HostTaskResult {
  return { host: '', status: 'failed', msg: 'interrupted', ignored: false, durationMs: 0, result: {}, display: {}, steps: [] };
}
