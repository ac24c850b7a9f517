// The restore timeline's model and geometry: one lane per host, phases in order along time, bars and marks
// placed at their times, failures, rollbacks and interruptions where they happened; and the SVG drawn from it.
import { expect } from 'chai';
import { restoreTimeline } from '../../../src/report/restore-timeline.js';
import { layoutTimeline, offsetLabel, tickStep, type TimelineGeometry } from '../../../src/report/timeline-layout.js';
import { renderTimelineSvg } from '../../../src/report/timeline-svg.js';
import { timingsFromEvents, type RecordedEvent } from '../../../src/report/phase-timings.js';
import { at, baseJournal, completedJournal, HOSTS, RESTORE_PHASES, ROLLBACK_PHASES, T0, timedRun } from './journal-builder.js';

/** Where a time lands on the axis of a geometry built over [start, end]. */
function xOf(g: TimelineGeometry, start: number, end: number, t: number): number {
  return g.plot.left + ((t - start) / (end - start)) * (g.plot.right - g.plot.left);
}

describe('restore timeline geometry', () => {
  it('one lane per host: the members in inventory order, then the deploy host, top to bottom', () => {
    const timeline = restoreTimeline(completedJournal());
    const g = layoutTimeline(timeline, { width: 1000, laneHeight: 30 });
    expect(g.lanes.map((l) => l.label)).to.deep.equal([...HOSTS, 'deploy host']);
    g.lanes.forEach((lane, i) => expect(lane.y).to.equal(g.plot.top + 30 * i));
    expect(g.height).to.be.greaterThan(g.lanes.at(-1)!.y + 30);
    for (const bar of g.bars) {
      const lane = g.lanes.find((l) => l.host === bar.host)!;
      expect(bar.y).to.be.within(lane.y, lane.y + lane.height);
    }
  });

  it("each host's phases are in the restore's order along the time axis, each bar as long as its phase took", () => {
    const timeline = restoreTimeline(completedJournal());
    const g = layoutTimeline(timeline);
    for (const host of HOSTS) {
      const bars = g.bars.filter((b) => b.host === host);
      expect(bars.map((b) => b.phase)).to.deep.equal(RESTORE_PHASES.filter((p) => p !== 'verify-cluster'));
      for (let i = 1; i < bars.length; i++) expect(bars[i]!.x, bars[i]!.phase).to.be.greaterThan(bars[i - 1]!.x + bars[i - 1]!.width - 0.01);
      const pxPerMs = (g.plot.right - g.plot.left) / (timeline.end - timeline.start);
      for (const bar of bars) expect(bar.width).to.be.closeTo(1500 * pxPerMs, 0.01);
    }
    const verify = g.bars.find((b) => b.phase === 'verify-cluster')!;
    expect(verify.host).to.equal('localhost');
    expect(verify.x).to.be.closeTo(xOf(g, timeline.start, timeline.end, Date.parse(at(1 + 7 * 2))), 0.01);
  });

  it('marks the API going down and coming back, and the end, at their times', () => {
    const journal = completedJournal();
    const timeline = restoreTimeline(journal);
    const g = layoutTimeline(timeline);
    const mark = (kind: string) => g.marks.find((m) => m.kind === kind)!;
    expect(mark('api-down').x).to.be.closeTo(xOf(g, timeline.start, timeline.end, Date.parse(journal.marks['api-down']!)), 0.01);
    expect(mark('api-up').x).to.be.closeTo(xOf(g, timeline.start, timeline.end, Date.parse(journal.marks['api-up']!)), 0.01);
    expect(mark('api-up').x).to.be.greaterThan(mark('api-down').x);
    expect(mark('finished').x).to.be.closeTo(g.plot.right, 0.01);
    expect(timeline.figures).to.deep.equal({ wallMs: 23_000, apiDowntimeMs: 11_500, rpoMs: 3_600_000 });
  });

  it('a failed restore that rolled back: the failed bar, the failure mark at its end, then hatched rollback bars', () => {
    const phases = RESTORE_PHASES.slice(0, RESTORE_PHASES.indexOf('verify-cluster'));
    const { done, timings } = timedRun(phases);
    const failedAt = 1 + phases.length * 2;
    timings.localhost = [
      { phase: 'verify-cluster', kind: 'restore', start: at(failedAt), end: at(failedAt + 20), result: 'failed', error: 'etcd-1 does not answer' },
    ];
    ROLLBACK_PHASES.forEach((phase, i) => {
      for (const host of phase === 'verify-cluster' ? ['localhost'] : HOSTS)
        (timings[host] ??= []).push({ phase, kind: 'rollback', start: at(failedAt + 21 + i), end: at(failedAt + 21.8 + i), result: 'ok' });
    });
    const journal = baseJournal({
      status: 'rolled-back',
      begun: [...phases, 'verify-cluster'],
      done,
      timings,
      error: 'verify-cluster failed on the deploy host: etcd-1 does not answer',
      marks: { started: at(0), 'api-down': at(7) },
      rollback: {
        reason: 'verify-cluster failed',
        startedAt: at(failedAt + 20.5),
        begun: [...ROLLBACK_PHASES],
        done: {},
        finishedAt: at(failedAt + 30),
      },
      updatedAt: at(failedAt + 30),
    });
    const timeline = restoreTimeline(journal);
    const g = layoutTimeline(timeline);
    const failed = g.bars.filter((b) => b.status === 'failed');
    expect(failed.map((b) => `${b.host}:${b.phase}`)).to.deep.equal(['localhost:verify-cluster']);
    const failure = g.marks.find((m) => m.kind === 'failure')!;
    expect(failure.label).to.equal('verify-cluster failed on the deploy host');
    expect(failure.x).to.be.closeTo(failed[0]!.x + failed[0]!.width, 0.01);
    const rollback = g.marks.find((m) => m.kind === 'rollback')!;
    expect(rollback.x).to.be.greaterThan(failure.x);
    const rollbackBars = g.bars.filter((b) => b.kind === 'rollback');
    expect(rollbackBars).to.have.length(HOSTS.length * (ROLLBACK_PHASES.length - 1) + 1);
    for (const bar of rollbackBars) expect(bar.x).to.be.greaterThan(rollback.x);
    expect(g.marks.find((m) => m.kind === 'finished')!.label).to.equal('rolled back');
    // The API comes back when the rollback has started kube_master on every host.
    const rollbackKubeMaster = Date.parse(at(failedAt + 21.8 + ROLLBACK_PHASES.indexOf('start-kube-master')));
    expect(g.marks.find((m) => m.kind === 'api-up')!.label).to.equal('API up (rolled back)');
    expect(timeline.figures.apiDowntimeMs).to.equal(rollbackKubeMaster - Date.parse(at(7)));
    const rows = g.marks.map((m) => m.row);
    expect(new Set(g.marks.map((m) => `${m.row}:${Math.round(m.x)}`)).size, 'labels never share a place').to.equal(rows.length);
    const svg = renderTimelineSvg(g, 'x');
    expect(svg.match(/class="bar [^"]*rollback"/g)).to.have.length(rollbackBars.length);
    expect(svg.match(/class="bar [^"]*status-failed/g)).to.have.length(1);
  });

  it('an interrupted restore: the phase that never ended is drawn to the last update, marked interrupted', () => {
    const phases = RESTORE_PHASES.slice(0, 4);
    const { done, timings } = timedRun(phases.slice(0, 3));
    for (const host of HOSTS) (timings[host] ??= []).push({ phase: 'stop-kube-master', kind: 'restore', start: at(7) });
    const journal = baseJournal({
      status: 'in-progress',
      error: 'interrupted',
      begun: [...phases],
      done,
      timings,
      marks: { started: at(0), 'api-down': at(7) },
      updatedAt: at(9),
    });
    const timeline = restoreTimeline(journal);
    const open = timeline.spans.filter((s) => s.phase === 'stop-kube-master');
    expect(open.map((s) => s.status)).to.deep.equal(['interrupted', 'interrupted', 'interrupted']);
    for (const s of open) expect(s.end).to.equal(Date.parse(at(9)));
    expect(timeline.marks.map((m) => m.kind)).to.deep.equal(['api-down', 'interrupted']);
    expect(timeline.figures.wallMs).to.equal(undefined);
    expect(renderTimelineSvg(layoutTimeline(timeline), 'x')).to.contain('mark-interrupted');
  });

  it('a journal without phase times: one slot per phase begun, in order, not to scale', () => {
    const phases = RESTORE_PHASES.slice(0, 6);
    const { done } = timedRun(phases);
    const timeline = restoreTimeline(baseJournal({ status: 'completed', begun: [...phases], done, marks: { started: at(0), 'api-down': at(7) } }));
    expect(timeline.toScale).to.equal(false);
    expect(timeline.end).to.equal(phases.length);
    for (const host of HOSTS) {
      const spans = timeline.spans.filter((s) => s.host === host);
      expect(spans.map((s) => s.phase)).to.deep.equal(phases);
      spans.forEach((s, i) => expect([s.start, s.end]).to.deep.equal([i, i + 1]));
    }
    expect(timeline.marks).to.deep.equal([{ kind: 'api-down', at: phases.indexOf('stop-kube-master'), label: 'API down' }]);
    const g = layoutTimeline(timeline);
    expect(g.ticks.map((t) => t.label)).to.deep.equal(['start', '1', '2', '3', '4', '5', '6']);
  });

  it('mark labels close together go on separate rows; one at the right edge sits left of its line', () => {
    const journal = completedJournal();
    journal.marks['api-up'] = journal.marks['api-down']!;
    const g = layoutTimeline(restoreTimeline(journal));
    const down = g.marks.find((m) => m.kind === 'api-down')!;
    const up = g.marks.find((m) => m.kind === 'api-up')!;
    expect(down.x).to.equal(up.x);
    expect(down.row).not.to.equal(up.row);
    expect(g.plot.top).to.be.greaterThan(10 + 13 * 2);
    const finished = g.marks.find((m) => m.kind === 'finished')!;
    expect([finished.anchor, finished.row]).to.deep.equal(['end', 0]);
  });

  it('host names are text, never markup', () => {
    const journal = completedJournal();
    const hostile = '<script>alert(1)</script>';
    journal.timings![hostile] = [
      { phase: 'cleanup', kind: 'restore', start: at(1), end: at(2), result: 'failed', error: '"><img src=x onerror=alert(1)>' },
    ];
    const svg = renderTimelineSvg(layoutTimeline(restoreTimeline(journal)), 'x');
    expect(svg).not.to.contain('<script>').and.not.to.contain('<img');
    expect(svg).to.contain('&#60;script&#62;');
  });
});

describe('timeline axis and phase times from restore events', () => {
  it('round tick steps and labels', () => {
    expect([tickStep(3_000), tickStep(25_000), tickStep(95_000), tickStep(20 * 60_000)]).to.deep.equal([500, 5_000, 10_000, 120_000]);
    expect([offsetLabel(0), offsetLabel(1500), offsetLabel(60_000), offsetLabel(95_000)]).to.deep.equal(['+0s', '+1.5s', '+1m', '+1m 35s']);
  });

  it('a host phase runs from its first step start to its last step; failures and the rollback are told apart', () => {
    const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
    const events: RecordedEvent[] = [
      { type: 'phase-start', phase: 'stop-etcd', hosts: ['a', 'b'], at: iso(0) },
      { type: 'step', phase: 'stop-etcd', host: 'a', ok: true, ms: 1000, at: iso(1) },
      { type: 'step', phase: 'stop-etcd', host: 'b', ok: true, ms: 500, at: iso(3) },
      { type: 'phase-end', phase: 'stop-etcd', ms: 3000, failed: {}, skipped: [], at: iso(3) },
      { type: 'phase-start', phase: 'verify-cluster', hosts: ['deploy host'], at: iso(3) },
      { type: 'step', phase: 'verify-cluster', host: 'deploy host', ok: false, ms: 4000, detail: 'no quorum', at: iso(7) },
      { type: 'phase-end', phase: 'verify-cluster', ms: 4000, failed: { 'deploy host': 'verify: no quorum' }, skipped: [], at: iso(7) },
      { type: 'warning', message: 'verify-cluster failed; rolling back', at: iso(7) },
      { type: 'phase-start', phase: 'stop-etcd', hosts: ['a'], at: iso(8) },
    ];
    const timings = timingsFromEvents(events);
    expect(timings.a).to.deep.equal([
      { phase: 'stop-etcd', kind: 'restore', start: iso(0), end: iso(1), result: 'ok' },
      { phase: 'stop-etcd', kind: 'rollback', start: iso(8) },
    ]);
    expect(timings.b![0]).to.deep.equal({ phase: 'stop-etcd', kind: 'restore', start: iso(2.5), end: iso(3), result: 'ok' });
    expect(timings.localhost).to.deep.equal([
      { phase: 'verify-cluster', kind: 'restore', start: iso(3), end: iso(7), result: 'failed', error: 'verify: no quorum' },
    ]);
  });
});
