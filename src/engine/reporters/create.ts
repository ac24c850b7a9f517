// Picks the display: JSON lines, plain lines (pipes, CI, dry-run) or the live tree (a terminal).
import type { OutputMode, Reporter } from '../types.js';
import { JsonReporter } from './json.js';
import { PlainReporter, SilentReporter } from './plain.js';

export async function createReporter(mode: OutputMode, options: { dryRun: boolean }): Promise<Reporter> {
  switch (mode) {
    case 'json':
      return new JsonReporter();
    case 'silent':
      return new SilentReporter();
    case 'plain':
      return new PlainReporter(options.dryRun);
    case 'tty':
      return liveReporter();
    case 'auto': {
      const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
      if (options.dryRun || ci || !process.stdout.isTTY) return new PlainReporter(options.dryRun);
      return liveReporter();
    }
  }
}

async function liveReporter(): Promise<Reporter> {
  const { LiveReporter } = await import('./live.js');
  return new LiveReporter();
}
