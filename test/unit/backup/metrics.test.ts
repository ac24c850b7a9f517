import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogRecord } from '../../../src/etcd/backup/catalog.js';
import { metricsFromRecords, renderMetrics, writeMetricsFile } from '../../../src/etcd/backup/metrics.js';
import { remoteMetricFamilies, remoteMetricsFromAttempts } from '../../../src/remote/remote-metrics.js';
import type { RemoteAttempt } from '../../../src/remote/remote-attempts.js';

function record(result: 'ok' | 'failed', end: string, extra: Partial<CatalogRecord> = {}): CatalogRecord {
  return { format: 1, id: end, cluster: 'c1', start: end, end, durationMs: 1500, result, ...extra };
}

describe('backup metrics', () => {
  it('counts consecutive failures since the last success and keeps the last success time', () => {
    const records = [
      record('ok', '2026-11-22T10:00:00Z', { size: 100, revision: 7 }),
      record('ok', '2026-11-22T11:00:00Z', { size: 200, revision: 9 }),
      record('failed', '2026-11-22T12:00:00Z'),
      record('failed', '2026-11-22T13:00:00Z', { durationMs: 4000 }),
      record('ok', '2026-11-22T09:00:00Z', { cluster: 'other' }),
    ];
    expect(metricsFromRecords('c1', records)).to.deep.equal({
      cluster: 'c1',
      lastSuccessTimestampSeconds: Date.parse('2026-11-22T11:00:00Z') / 1000,
      lastAttemptTimestampSeconds: Date.parse('2026-11-22T13:00:00Z') / 1000,
      lastAttemptSuccess: 0,
      lastDurationSeconds: 4,
      lastSizeBytes: 200,
      lastRevision: 9,
      consecutiveFailures: 2,
    });
  });

  it('reports 0 as the last success when there never was one (so age alerts fire)', () => {
    const m = metricsFromRecords('c1', [record('failed', '2026-11-22T12:00:00Z')]);
    expect(m.lastSuccessTimestampSeconds).to.equal(0);
    expect(m.consecutiveFailures).to.equal(1);
  });

  it('renders HELP and TYPE lines and one labelled sample per metric, escaping the label', () => {
    const text = renderMetrics({
      ...metricsFromRecords('c1', [record('ok', '2026-11-22T10:00:00Z', { size: 5, revision: 3 })]),
      cluster: 'we"ird\\name',
    });
    const lines = text.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('# HELP '))).to.have.length(7);
    expect(lines.filter((l) => l.startsWith('# TYPE ') && l.endsWith(' gauge'))).to.have.length(7);
    expect(text).to.include('orchestrate_backup_last_revision{cluster="we\\"ird\\\\name"} 3\n');
    expect(text).to.include('orchestrate_backup_last_attempt_success{cluster="we\\"ird\\\\name"} 1\n');
    for (const line of lines.filter((l) => !l.startsWith('#'))) expect(line).to.match(/^orchestrate_backup_[a-z_]+\{cluster=".*"\} -?[0-9.e+]+$/);
  });

  it('writes through a .tmp file and keeps the samples of other clusters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orchestrate-metrics-'));
    try {
      const file = join(dir, 'sub', 'orchestrate_backup.prom');
      await writeMetricsFile(file, metricsFromRecords('a', [record('ok', '2026-11-22T10:00:00Z', { cluster: 'a', revision: 1 })]));
      await writeMetricsFile(file, metricsFromRecords('b', [record('failed', '2026-11-22T11:00:00Z', { cluster: 'b' })]));
      const text = await readFile(file, 'utf8');
      expect(text).to.include('orchestrate_backup_last_revision{cluster="a"} 1');
      expect(text).to.include('orchestrate_backup_consecutive_failures{cluster="b"} 1');
      expect(text.match(/^# TYPE orchestrate_backup_last_revision gauge$/gm)).to.have.length(1);
      expect(await readdir(join(dir, 'sub'))).to.deep.equal(['orchestrate_backup.prom']);
      expect((await stat(file)).mode & 0o777).to.equal(0o644);
      // Writing "a" again replaces a's samples, not b's.
      await writeMetricsFile(file, metricsFromRecords('a', [record('ok', '2026-11-22T12:00:00Z', { cluster: 'a', revision: 2 })]));
      const again = await readFile(file, 'utf8');
      expect(again).to.include('orchestrate_backup_last_revision{cluster="a"} 2');
      expect(again).to.not.include('orchestrate_backup_last_revision{cluster="a"} 1');
      expect(again).to.include('orchestrate_backup_consecutive_failures{cluster="b"} 1');
      await writeFile(file, 'garbage that is not a metric\n');
      await writeMetricsFile(file, metricsFromRecords('a', []));
      expect(await readFile(file, 'utf8')).to.not.include('garbage');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an attempt whose remote copy failed still counts for the local gauges: its snapshot was written and verified here', () => {
    const records = [
      record('ok', '2026-11-22T10:00:00Z', { size: 100, revision: 7, where: 'both' }),
      record('failed', '2026-11-22T11:00:00Z', { size: 200, revision: 9, where: 'local', error: 'remote copy failed: ...' }),
      record('failed', '2026-11-22T12:00:00Z', { error: 'no healthy member' }),
    ];
    const m = metricsFromRecords('c1', records);
    expect([m.lastSuccessTimestampSeconds, m.lastRevision, m.consecutiveFailures]).to.deep.equal([Date.parse('2026-11-22T11:00:00Z') / 1000, 9, 1]);
    expect(metricsFromRecords('c1', records.slice(0, 2)).lastAttemptSuccess).to.equal(1);
  });

  it("writes the remote gauges beside the local ones; a cluster without a remote keeps the others' remote samples", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orchestrate-metrics-'));
    try {
      const file = join(dir, 'orchestrate_backup.prom');
      const attempt = (result: 'ok' | 'failed', end: string): RemoteAttempt => ({
        cluster: 'a',
        start: end,
        end,
        durationMs: 2500,
        result,
        name: 's',
        bytes: 42,
      });
      const remote = remoteMetricsFromAttempts('a', [attempt('ok', '2026-11-22T10:00:00Z'), attempt('failed', '2026-11-22T11:00:00Z')]);
      await writeMetricsFile(file, metricsFromRecords('a', [record('ok', '2026-11-22T10:00:00Z', { cluster: 'a' })]), remoteMetricFamilies(remote));
      const first = await readFile(file, 'utf8');
      expect(first).to.include('orchestrate_backup_remote_last_attempt_success{cluster="a"} 0\n');
      expect(first).to.include('orchestrate_backup_remote_consecutive_failures{cluster="a"} 1\n');
      expect(first).to.include(
        `orchestrate_backup_remote_last_success_timestamp_seconds{cluster="a"} ${Date.parse('2026-11-22T10:00:00Z') / 1000}\n`,
      );
      expect(first.match(/^# TYPE orchestrate_backup_remote_[a-z_]+ gauge$/gm)).to.have.length(6);
      // Cluster b has no backup_remote: no remote samples of its own, a's are kept with their HELP and TYPE.
      await writeMetricsFile(file, metricsFromRecords('b', [record('ok', '2026-11-22T12:00:00Z', { cluster: 'b' })]), remoteMetricFamilies());
      const second = await readFile(file, 'utf8');
      expect(second).to.include('orchestrate_backup_remote_consecutive_failures{cluster="a"} 1\n');
      expect(second).not.to.match(/orchestrate_backup_remote_[a-z_]+\{cluster="b"\}/);
      expect(second.match(/^# TYPE orchestrate_backup_remote_consecutive_failures gauge$/gm)).to.have.length(1);
      // Nobody with a remote: no remote family at all.
      expect(renderMetrics(metricsFromRecords('b', []), new Map(), remoteMetricFamilies())).not.to.include('orchestrate_backup_remote_');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
