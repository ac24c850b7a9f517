// A live tree on a terminal (listr2): each task with its hosts below it, spinners while they run.
// listr2 is imported only here, and this file only when stdout is a terminal.
import { Listr } from 'listr2';
import type { HostTaskResult, Reporter, RunEvent } from '../types.js';
import { formatPlan, formatRecap, hostLabel, seconds, statusWord } from './format.js';

interface Waiter {
  promise: Promise<HostTaskResult>;
  resolve(result: HostTaskResult): void;
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

export class LiveReporter implements Reporter {
  private running: Promise<unknown> | undefined;
  private waiters = new Map<string, Waiter>();
  private pendingWarnings: string[] = [];

  async event(event: RunEvent): Promise<void> {
    switch (event.type) {
      case 'run_start':
        return;
      case 'play_start':
        await this.settle();
        process.stdout.write(`\nPLAY [${event.play}] on ${event.hosts.length} host${event.hosts.length === 1 ? '' : 's'}\n`);
        return;
      case 'task_start':
        await this.settle();
        this.start(event.task, event.hosts);
        return;
      case 'host_retry':
        this.waiters.get(event.host)?.output?.(`retrying (attempt ${event.attempt} failed, ${event.retriesLeft} left)`);
        return;
      case 'host_result':
        this.waiters.get(event.result.host)?.resolve(event.result);
        return;
      case 'warning':
        this.pendingWarnings.push(event.message);
        if (!this.running) this.flushWarnings();
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

  private start(title: string, hosts: string[]): void {
    const counts: Counts = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, ignored: 0 };
    this.waiters = new Map(
      hosts.map((host) => {
        let resolve!: (result: HostTaskResult) => void;
        const promise = new Promise<HostTaskResult>((r) => (resolve = r));
        return [host, { promise, resolve }];
      }),
    );
    const list = new Listr(
      [
        {
          title,
          task: (_ctx, parent) =>
            parent.newListr(
              hosts.map((host) => ({
                title: host,
                task: async (_c, wrapper) => {
                  const waiter = this.waiters.get(host)!;
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
    this.running = list.run().catch(() => undefined);
  }

  private async settle(): Promise<void> {
    if (!this.running) return;
    // A host that never reported (the run was interrupted) must not keep the display waiting.
    for (const waiter of this.waiters.values()) waiter.resolve(interruptedResult());
    await this.running;
    this.running = undefined;
    this.flushWarnings();
  }

  private flushWarnings(): void {
    for (const message of this.pendingWarnings) process.stderr.write(`warning: ${message}\n`);
    this.pendingWarnings = [];
  }
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
