// Plain timestamped lines: for logs, pipes and CI. Under --dry-run only the plan and the recap.
import type { Reporter, RunEvent } from '../types.js';
import { clock, formatPlan, formatRecap, resultLines } from './format.js';

export interface TextStreams {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processStreams: TextStreams = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export class PlainReporter implements Reporter {
  constructor(
    private readonly dryRun: boolean,
    private readonly streams: TextStreams = processStreams,
  ) {}

  event(event: RunEvent): void {
    const { out, err } = this.streams;
    switch (event.type) {
      case 'run_start':
        if (event.dryRun) out(`${clock()} DRY RUN of ${event.playbook}: read-only checks run, nothing is changed\n`);
        return;
      case 'play_start':
        out(`${clock()} PLAY [${event.play}] on ${event.hosts.length} host${event.hosts.length === 1 ? '' : 's'}\n`);
        return;
      case 'task_start':
        return;
      case 'host_retry':
        out(
          `${clock()} [${event.host}] retrying: ${event.task} (attempt ${event.attempt} failed, ${event.retriesLeft} left)${event.msg ? ` - ${event.msg}` : ''}\n`,
        );
        return;
      case 'host_result':
        // A run_once result is shared with every host of the batch; like Ansible, print it once.
        if (this.dryRun || event.result.runOnceFrom !== undefined) return;
        out(`${resultLines(event.task, event.module, event.result).join('\n')}\n`);
        return;
      case 'warning':
        err(`warning: ${event.message}\n`);
        return;
      case 'recap':
        if (event.summary.plan) out(formatPlan(event.summary.plan));
        out(formatRecap(event.summary));
        return;
    }
  }

  async close(): Promise<void> {}
}

/** Discards everything (callers that only want the summary). */
export class SilentReporter implements Reporter {
  event(): void {}
  async close(): Promise<void> {}
}
