// `pause`: wait a bounded time (no interactive prompt: runs are unattended). Not run under --dry-run.
import { setTimeout as sleep } from 'node:timers/promises';
import { defineModule } from './define.js';

export interface PauseArgs {
  seconds?: number;
  minutes?: number;
}

/** Longer waits belong in a scheduler, not in a playbook run. */
export const maxPauseSeconds = 3600;

export const pauseModule = defineModule({
  id: 'pause',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    properties: {
      seconds: { type: 'number', minimum: 0, maximum: maxPauseSeconds },
      minutes: { type: 'number', minimum: 0, maximum: maxPauseSeconds / 60 },
    },
    additionalProperties: false,
    oneOf: [{ required: ['seconds'] }, { required: ['minutes'] }],
  },
  async *plan(_ctx, args) {
    const seconds = args.seconds ?? (args.minutes ?? 0) * 60;
    const started = Date.now();
    yield {
      kind: 'call',
      description: `pause ${seconds}s`,
      readOnly: false,
      run: async (signal: AbortSignal) => sleep(seconds * 1000, undefined, { signal }),
    };
    return { changed: false, result: { delta: Math.round((Date.now() - started) / 1000), echo: true } };
  },
});
