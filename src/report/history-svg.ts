// Backup and drill history as small inline SVG charts on one time axis: attempts against the schedule
// with the RPO-breaking gaps shaded, then size and duration per attempt.
import { formatAge, formatBytes } from '../etcd/backup/format.js';
import type { BackupHistory } from './backup-history.js';
import { el, text } from './svg.js';

const WIDTH = 960;
const LEFT = 110;
const RIGHT = WIDTH - 16;
const HOUR = 3_600_000;
const TIME_STEPS = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 7 * 24 * HOUR, 30 * 24 * HOUR];

export interface TimeAxis {
  start: number;
  end: number;
  x(t: number): number;
}

export function timeAxis(start: number, end: number): TimeAxis {
  const span = Math.max(1, end - start);
  return { start, end, x: (t) => LEFT + ((t - start) / span) * (RIGHT - LEFT) };
}

/** `12-05 14:00` (UTC): dates on an axis. */
export function shortTime(t: number): string {
  const iso = new Date(t).toISOString();
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

function axisTicks(axis: TimeAxis, y1: number, y2: number): string[] {
  const step = TIME_STEPS.find((s) => (axis.end - axis.start) / s <= 8) ?? 90 * 24 * HOUR;
  const first = Math.ceil(axis.start / step) * step;
  const out: string[] = [];
  for (let t = first; t <= axis.end; t += step) {
    out.push(
      el(
        'g',
        { class: 'tick' },
        el('line', { x1: axis.x(t), x2: axis.x(t), y1, y2: y2 + 3 }),
        el('text', { x: axis.x(t), y: y2 + 14, 'text-anchor': 'middle' }, text(shortTime(t))),
      ),
    );
  }
  return out;
}

function frame(height: number, label: string, ...children: string[]): string {
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      class: 'chart',
      viewBox: `0 0 ${WIDTH} ${height}`,
      width: WIDTH,
      height,
      role: 'img',
      'aria-label': label,
    },
    el('title', {}, text(label)),
    ...children,
  );
}

/** Attempts against the schedule: good snapshots on the upper row, failures on the lower one, gaps shaded. */
export function scheduleChart(history: BackupHistory): string {
  const axis = timeAxis(history.start, history.end);
  const top = 8;
  const bottom = 78;
  const schedule: string[] = [];
  const firstGood = history.points.find((p) => p.ok)?.at;
  if (history.intervalMs && firstGood !== undefined && (history.end - history.start) / history.intervalMs <= 500) {
    for (let t = firstGood; t <= history.end; t += history.intervalMs)
      schedule.push(el('line', { class: 'schedule', x1: axis.x(t), x2: axis.x(t), y1: bottom - 6, y2: bottom, 'data-at': t }));
  }
  const gaps = history.gaps.map((gap) =>
    el(
      'rect',
      {
        class: `gap${gap.ongoing ? ' ongoing' : ''}`,
        x: axis.x(Math.max(gap.from, history.start)),
        y: top,
        width: Math.max(2, axis.x(gap.to) - axis.x(Math.max(gap.from, history.start))),
        height: bottom - top,
        'data-from': gap.from,
        'data-to': gap.to,
      },
      el(
        'title',
        {},
        text(`no good snapshot for ${formatAge(gap.ms)}${gap.ongoing ? ' (until now)' : ''}: longer than the RPO of ${formatAge(history.rpoMs)}`),
      ),
    ),
  );
  const points = history.points.map((p) =>
    p.ok
      ? el(
          'circle',
          { class: 'attempt ok', cx: axis.x(p.at), cy: 30, r: 4, 'data-at': p.at },
          el('title', {}, text(`${shortTime(p.at)} UTC: snapshot ${formatBytes(p.sizeBytes)} in ${formatAge(p.durationMs, { tenths: true })}`)),
        )
      : el(
          'path',
          { class: 'attempt failed', d: `M${axis.x(p.at) - 4},52 l8,8 m0,-8 l-8,8`, 'data-at': p.at },
          el('title', {}, text(`${shortTime(p.at)} UTC: FAILED: ${p.error ?? 'no reason recorded'}`)),
        ),
  );
  return frame(
    bottom + 20,
    'backup attempts against the schedule',
    el('text', { class: 'row-label', x: 6, y: 34 }, text('snapshots')),
    el('text', { class: 'row-label', x: 6, y: 60 }, text('failed')),
    ...gaps,
    ...axisTicks(axis, top, bottom),
    ...schedule,
    ...points,
  );
}

/** One bar per attempt: its size (good ones) or its duration (all, failures in red). */
export function barChart(history: BackupHistory, what: 'size' | 'duration'): string {
  const axis = timeAxis(history.start, history.end);
  const top = 10;
  const bottom = 70;
  const value = (p: BackupHistory['points'][number]) => (what === 'size' ? (p.ok ? (p.sizeBytes ?? 0) : 0) : p.durationMs);
  const max = Math.max(1, ...history.points.map(value));
  const bars = history.points
    .filter((p) => value(p) > 0)
    .map((p) => {
      const h = (value(p) / max) * (bottom - top);
      const shown = what === 'size' ? formatBytes(value(p)) : formatAge(value(p), { tenths: true });
      return el(
        'rect',
        { class: `value ${p.ok ? 'ok' : 'failed'}`, x: axis.x(p.at) - 1.5, y: bottom - h, width: 3, height: h, 'data-at': p.at },
        el('title', {}, text(`${shortTime(p.at)} UTC: ${shown}`)),
      );
    });
  const maxLabel = what === 'size' ? formatBytes(max) : formatAge(max, { tenths: true });
  return frame(
    bottom + 20,
    `backup ${what} over time`,
    el('text', { class: 'row-label', x: 6, y: top + 10 }, text(`${what} (max ${maxLabel})`)),
    el('line', { class: 'baseline', x1: LEFT, x2: RIGHT, y1: bottom, y2: bottom }),
    ...axisTicks(axis, top, bottom),
    ...bars,
  );
}
