import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendRemoteAttempt, readRemoteAttempts, remoteAttemptsFile, type RemoteAttempt } from '../../../src/remote/remote-attempts.js';
import { remoteMetricsFromAttempts, renderRemoteMetrics } from '../../../src/remote/remote-metrics.js';

const attempt = (end: string, result: 'ok' | 'failed', fields: Partial<RemoteAttempt> = {}): RemoteAttempt => ({
  cluster: 'c',
  start: end,
  end,
  durationMs: 1500,
  result,
  name: 'n',
  ...fields,
});

describe('remote metrics', () => {
  it('from the attempt log: last success, last attempt, bytes, duration, consecutive failures', () => {
    const metrics = remoteMetricsFromAttempts('c', [
      attempt('2026-12-05T10:00:00Z', 'ok', { bytes: 1000 }),
      attempt('2026-12-05T11:00:00Z', 'ok', { bytes: 2000 }),
      attempt('2026-12-05T12:00:00Z', 'failed', { cluster: 'other' }),
      attempt('2026-12-05T12:00:00Z', 'failed'),
      attempt('2026-12-05T13:00:00Z', 'failed', { durationMs: 2500 }),
    ]);
    expect(metrics).to.deep.equal({
      cluster: 'c',
      lastSuccessTimestampSeconds: Date.parse('2026-12-05T11:00:00Z') / 1000,
      lastAttemptTimestampSeconds: Date.parse('2026-12-05T13:00:00Z') / 1000,
      lastAttemptSuccess: 0,
      lastBytes: 2000,
      lastDurationSeconds: 2.5,
      consecutiveFailures: 2,
    });
  });

  it('never succeeded: a zero timestamp, so `time() - x` alerts fire', () => {
    expect(remoteMetricsFromAttempts('c', []).lastSuccessTimestampSeconds).to.equal(0);
  });

  it('renders Prometheus text with the cluster label escaped', () => {
    const text = renderRemoteMetrics(remoteMetricsFromAttempts('a"b', [attempt('2026-12-05T10:00:00Z', 'ok', { cluster: 'a"b', bytes: 5 })]));
    expect(text).to.include('# TYPE orchestrate_backup_remote_last_success_timestamp_seconds gauge\n');
    expect(text).to.include('orchestrate_backup_remote_last_bytes{cluster="a\\"b"} 5\n');
    expect(text.match(/^orchestrate_backup_remote_\w+\{/gm)).to.have.length(6);
  });

  it('the attempt log survives a torn line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orchestrate-attempts-'));
    try {
      const file = remoteAttemptsFile(join(dir, 'catalog', 'x.jsonl'), 'etcd cluster/1');
      expect(file).to.equal(join(dir, 'catalog', 'etcd_cluster_1.remote.jsonl'));
      await appendRemoteAttempt(file, attempt('2026-12-05T10:00:00Z', 'ok'));
      const { appendFile } = await import('node:fs/promises');
      await appendFile(file, '{"cluster":"c","res');
      expect((await readRemoteAttempts(file)).map((a) => a.result)).to.deep.equal(['ok']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
