// "Last proven restorable" for status and the report, and the drill metrics in Prometheus text format.
import { expect } from 'chai';
import type { DrillRecord } from '../../../src/drill/drill-catalog.js';
import { drillFreshness } from '../../../src/drill/drill-freshness.js';
import { drillMetricsFromRecords, otherClusterLines, renderDrillMetrics } from '../../../src/drill/drill-metrics.js';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const HOUR = 3_600_000;

function record(result: 'ok' | 'failed', hoursAgo: number, cluster = 'c1'): DrillRecord {
  const end = new Date(NOW - hoursAgo * HOUR).toISOString();
  return {
    format: 1,
    kind: 'drill',
    id: `d${hoursAgo}`,
    cluster,
    start: end,
    end,
    durationMs: 4200,
    result,
    ...(result === 'failed' ? { failedStage: 'expectations', error: 'MISSING the key /registry/namespaces/kube-system' } : {}),
    snapshot: { file: `/b/snapshot_${hoursAgo}.db`, revision: 100 + hoursAgo, takenAt: new Date(NOW - (hoursAgo + 1) * HOUR).toISOString() },
    members: 3,
    checks: [],
  };
}

describe('drill freshness', () => {
  it('the last passing drill, its snapshot and age; judged only with a maximum age', () => {
    const records = [record('ok', 50), record('ok', 30), record('failed', 2), record('ok', 1, 'other')];
    const fresh = drillFreshness(records, 'c1', NOW);
    expect(fresh.lastSuccess?.id).to.equal('d30');
    expect(fresh.stale).to.equal(false);
    expect(fresh.text).to.equal(
      'last proven restorable: snapshot_30.db (revision 130, taken 31h 0m ago), drilled 30h 0m ago; the drill after it FAILED at 2026-12-05T10:00:00.000Z: MISSING the key /registry/namespaces/kube-system',
    );
    expect(drillFreshness(records, 'c1', NOW, 24 * HOUR, '1d')).to.include({ stale: true });
    expect(drillFreshness(records, 'c1', NOW, 48 * HOUR, '2d')).to.include({ stale: false });
  });

  it('never drilled: stale when judged', () => {
    const none = drillFreshness([record('failed', 1)], 'c1', NOW, HOUR);
    expect(none.stale).to.equal(true);
    expect(none.text).to.match(/^never proven restorable: no drill has passed \(last drill failed at /);
  });
});

describe('drill metrics', () => {
  it('the last success, the last attempt, the duration and the snapshot proved', () => {
    const metrics = drillMetricsFromRecords('c1', [record('ok', 30), record('failed', 2)]);
    expect(metrics).to.deep.equal({
      cluster: 'c1',
      lastSuccessTimestampSeconds: (NOW - 30 * HOUR) / 1000,
      lastAttemptTimestampSeconds: (NOW - 2 * HOUR) / 1000,
      lastAttemptSuccess: 0,
      durationSeconds: 4.2,
      provenRevision: 130,
      provenSnapshotTimestampSeconds: (NOW - 31 * HOUR) / 1000,
      provenSnapshot: 'snapshot_30.db',
    });
    const text = renderDrillMetrics(metrics, ['orchestrate_drill_duration_seconds{cluster="c2"} 3']);
    expect(text).to.contain(`orchestrate_drill_last_success_timestamp_seconds{cluster="c1"} ${(NOW - 30 * HOUR) / 1000}\n`);
    expect(text).to.contain('orchestrate_drill_duration_seconds{cluster="c1"} 4.2\n');
    expect(text).to.contain('orchestrate_drill_duration_seconds{cluster="c2"} 3\n');
    expect(text).to.contain('orchestrate_drill_proven_snapshot_info{cluster="c1",snapshot="snapshot_30.db"} 1\n');
    expect(text.match(/^# TYPE /gm)).to.have.length(7);
  });

  it('keeps the samples of other clusters, drops its own old ones', () => {
    const existing = [
      'orchestrate_drill_duration_seconds{cluster="c1"} 9',
      'orchestrate_drill_duration_seconds{cluster="c2"} 3',
      'orchestrate_drill_proven_snapshot_info{cluster="c1",snapshot="old.db"} 1',
      'something_else{cluster="c2"} 1',
    ].join('\n');
    expect(otherClusterLines(existing, 'c1')).to.deep.equal(['orchestrate_drill_duration_seconds{cluster="c2"} 3']);
  });
});

describe('the objects of a drilled cluster, in words', () => {
  it('one row per resource: its total and its largest namespaces, the rest counted', async () => {
    const { resourceRows } = await import('../../../src/drill/drill-text.js');
    const resources = [
      { resource: 'namespaces', count: 5 },
      ...Array.from({ length: 8 }, (_, i) => ({ resource: 'pods', namespace: `ns-${i}`, count: i === 3 ? 50 : 10 })),
    ];
    expect(resourceRows(resources)).to.deep.equal([
      ['namespaces', '5', '(cluster-scoped)'],
      ['pods', '120', 'ns-3 50, ns-0 10, ns-1 10, ns-2 10, ns-4 10, ns-5 10, and 2 more namespaces'],
    ]);
  });
});
