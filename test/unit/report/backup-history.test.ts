// Backup history: the schedule inferred or given, the gaps that break the RPO (closed and ongoing), the
// window, and the charts drawn from it.
import { expect } from 'chai';
import type { CatalogRecord } from '../../../src/etcd/backup/catalog.js';
import { backupHistory, inferInterval, rpoGaps } from '../../../src/report/backup-history.js';
import { barChart, scheduleChart, timeAxis } from '../../../src/report/history-svg.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-12-05T12:00:00Z');

function attempt(hoursAgo: number, result: 'ok' | 'failed' = 'ok', cluster = 'c1'): CatalogRecord {
  const end = new Date(NOW - hoursAgo * HOUR).toISOString();
  return {
    format: 1,
    id: `a${hoursAgo}`,
    cluster,
    start: end,
    end,
    durationMs: 2000 + hoursAgo,
    result,
    ...(result === 'ok' ? { size: 1_000_000 + hoursAgo * 1000, file: `/b/s${hoursAgo}.db` } : { error: 'member down' }),
  };
}

describe('backup history', () => {
  it('hourly snapshots with a 5-hour hole and a failed attempt inside it', () => {
    const hours = [30, 29, 28, 27, 26, 25, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    const records = [...hours.map((h) => attempt(h)), attempt(23, 'failed'), attempt(1, 'ok', 'other')].sort((a, b) => a.end.localeCompare(b.end));
    const history = backupHistory(records, 'c1', { now: NOW });
    expect(history.intervalMs).to.equal(HOUR);
    expect(history.intervalSource).to.equal('inferred');
    expect(history.rpoMs).to.equal(2 * HOUR);
    expect(history.rpoSource).to.equal('interval');
    expect(history.gaps).to.deep.equal([{ from: NOW - 25 * HOUR, to: NOW - 20 * HOUR, ms: 5 * HOUR, ongoing: false }]);
    expect(history.points).to.have.length(hours.length + 1);
    expect(history.points.filter((p) => !p.ok).map((p) => p.error)).to.deep.equal(['member down']);

    const svg = scheduleChart(history);
    const axis = timeAxis(history.start, history.end);
    const gap = /<rect class="gap" x="([\d.]+)" y="8" width="([\d.]+)"/.exec(svg)!;
    expect(Number(gap[1])).to.be.closeTo(axis.x(NOW - 25 * HOUR), 0.06);
    expect(Number(gap[1]) + Number(gap[2])).to.be.closeTo(axis.x(NOW - 20 * HOUR), 0.1);
    expect(svg.match(/class="attempt ok"/g)).to.have.length(hours.length);
    expect(svg.match(/class="attempt failed"/g)).to.have.length(1);
    expect(svg.match(/class="schedule"/g)!.length).to.equal(31);
    expect(barChart(history, 'size').match(/class="value ok"/g)).to.have.length(hours.length);
    expect(barChart(history, 'duration').match(/class="value (ok|failed)"/g)).to.have.length(hours.length + 1);
  });

  it('an ongoing gap: no good snapshot since longer than the RPO', () => {
    expect(rpoGaps([NOW - 10 * HOUR, NOW - 9 * HOUR], NOW, 2 * HOUR)).to.deep.equal([{ from: NOW - 9 * HOUR, to: NOW, ms: 9 * HOUR, ongoing: true }]);
  });

  it('the RPO and interval from the inventory win; the window leaves older attempts out but keeps the gap that crosses it', () => {
    const records = [attempt(400), attempt(10), attempt(9)];
    const history = backupHistory(records, 'c1', { now: NOW, windowMs: 48 * HOUR, intervalMs: HOUR, rpoMs: 6 * HOUR, rpoSource: 'inventory' });
    expect(history.olderRecords).to.equal(1);
    expect(history.points).to.have.length(2);
    expect(history.gaps.map((g) => [g.from, g.to, g.ongoing])).to.deep.equal([
      [NOW - 400 * HOUR, NOW - 10 * HOUR, false],
      [NOW - 9 * HOUR, NOW, true],
    ]);
  });

  it('too few snapshots to infer a schedule: a day', () => {
    expect(inferInterval([1, 2])).to.equal(undefined);
    expect(backupHistory([attempt(3)], 'c1', { now: NOW })).to.include({ rpoMs: 24 * HOUR, rpoSource: 'default' });
  });
});
