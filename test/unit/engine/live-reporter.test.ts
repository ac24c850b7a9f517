import { expect } from 'chai';
import { LiveReporter } from '../../../src/engine/reporters/live.js';
import type { HostTaskResult } from '../../../src/engine/types.js';

const loc = { file: '/p/site.yml', line: 3, col: 7 };
const result = (host: string, status: HostTaskResult['status'], msg?: string): HostTaskResult =>
  ({ host, status, durationMs: 5, result: {}, display: {}, steps: [], ...(msg ? { msg, ignored: false } : {}) }) as HostTaskResult;

/** Capture what the reporter writes to stdout while `work` runs. */
async function captured(work: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  try {
    await work();
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

describe('live reporter', () => {
  it('never holds the engine back: a task already finished when its turn comes is printed, not animated', async () => {
    const reporter = new LiveReporter();
    const out = await captured(async () => {
      await reporter.event({ type: 'play_start', play: 'p', hosts: ['a', 'b'] });
      for (const [task, statusOfB] of [
        ['first', 'ok'],
        ['second', 'changed'],
        ['third', 'failed'],
      ] as const) {
        await reporter.event({ type: 'task_start', play: 'p', task, module: 'shell', loc, hosts: ['a', 'b'] });
        await reporter.event({ type: 'host_result', play: 'p', task, module: 'shell', loc, result: result('a', 'ok') });
        await reporter.event({
          type: 'host_result',
          play: 'p',
          task,
          module: 'shell',
          loc,
          result: result('b', statusOfB, statusOfB === 'failed' ? 'rc=1' : undefined),
        });
      }
      await reporter.close();
    });
    expect(out).to.contain('PLAY [p] on 2 hosts');
    // The engine ran ahead of the display, so the later tasks come out as finished lines.
    expect(out).to.contain('✔ second  ok=1 changed=1');
    expect(out).to.contain('✖ third  ok=1 failed=1');
    expect(out).to.contain('b FAILED: rc=1');
    expect(out.indexOf('second')).to.be.lessThan(out.indexOf('third'));
  });
});
