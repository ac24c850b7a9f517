// Geometry of the restore timeline, as numbers (tested on their own): one lane per host, one bar per
// phase on that host at its times, marks at their times, a time axis with round ticks.
import { DEPLOY_HOST_LANE, type MarkKind, type RestoreTimeline, type SpanStatus } from './restore-timeline.js';

export interface TimelineGeometry {
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  lanes: { host: string; label: string; y: number; height: number }[];
  bars: {
    host: string;
    phase: string;
    kind: 'restore' | 'rollback';
    status: SpanStatus;
    x: number;
    y: number;
    width: number;
    height: number;
    title: string;
    error?: string;
  }[];
  /** `row`: the label's line above the plot (labels never overlap); `anchor`: which side of the line it is on. */
  marks: { kind: MarkKind; x: number; label: string; row: number; anchor: 'start' | 'end' }[];
  ticks: { x: number; label: string }[];
}

export interface LayoutOptions {
  width?: number;
  laneHeight?: number;
  labelWidth?: number;
}

const LABEL_ROW = 13;
const CHAR_PX = 6.6;
const BOTTOM_AXIS = 22;
const MIN_BAR = 2;
const NICE_STEPS_MS = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];

/** A round step giving at most `maxTicks` ticks over `spanMs`. */
export function tickStep(spanMs: number, maxTicks = 10): number {
  return NICE_STEPS_MS.find((step) => spanMs / step <= maxTicks) ?? Math.ceil(spanMs / maxTicks / 3_600_000) * 3_600_000;
}

/** `+0s`, `+1.5s`, `+2m`, `+1m 30s`. */
export function offsetLabel(ms: number): string {
  if (ms < 60_000) return `+${Number.isInteger(ms / 1000) ? ms / 1000 : (ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `+${minutes}m ${seconds}s` : `+${minutes}m`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function layoutTimeline(timeline: RestoreTimeline, options: LayoutOptions = {}): TimelineGeometry {
  const width = options.width ?? 960;
  const laneHeight = options.laneHeight ?? 26;
  const labelWidth = options.labelWidth ?? 150;
  const left = labelWidth;
  const right = width - 16;
  const span = Math.max(1, timeline.end - timeline.start);
  const x = (t: number) => left + ((t - timeline.start) / span) * (right - left);
  const marks = placeLabels(
    timeline.marks.map((m) => ({ kind: m.kind, x: x(m.at), label: m.label })),
    right,
  );
  const top = 10 + LABEL_ROW * (Math.max(0, ...marks.map((m) => m.row)) + 1) + 6;
  const plot = { left, right, top, bottom: top + laneHeight * timeline.hosts.length };
  const lanes = timeline.hosts.map((host, i) => ({
    host,
    label: host === DEPLOY_HOST_LANE ? 'deploy host' : host,
    y: plot.top + i * laneHeight,
    height: laneHeight,
  }));
  const laneOf = new Map(lanes.map((lane) => [lane.host, lane]));
  const bars = timeline.spans.flatMap((s) => {
    const lane = laneOf.get(s.host);
    if (!lane) return [];
    const left = x(s.start);
    const duration = timeline.toScale ? ` ${seconds(s.end - s.start)}` : '';
    return [
      {
        host: s.host,
        phase: s.phase,
        kind: s.kind,
        status: s.status,
        x: left,
        y: lane.y + 4,
        width: Math.max(MIN_BAR, x(s.end) - left),
        height: lane.height - 8,
        title: `${s.kind === 'rollback' ? 'rollback: ' : ''}${s.phase} on ${lane.label}${duration}${s.status === 'ok' ? '' : ` (${s.status}${s.error ? `: ${s.error}` : ''})`}`,
        ...(s.error ? { error: s.error } : {}),
      },
    ];
  });
  return { width, height: plot.bottom + BOTTOM_AXIS, plot, lanes, bars, marks, ticks: ticksFor(timeline, x) };
}

/** Each label on the first row where it does not overlap the one before; near the right edge, left of its line. */
function placeLabels(marks: { kind: MarkKind; x: number; label: string }[], right: number): TimelineGeometry['marks'] {
  const rowEnds: number[] = [];
  return [...marks]
    .sort((a, b) => a.x - b.x)
    .map((m) => {
      const width = m.label.length * CHAR_PX + 6;
      const anchor: 'start' | 'end' = m.x + width > right ? 'end' : 'start';
      const from = anchor === 'start' ? m.x : m.x - width;
      let row = rowEnds.findIndex((end) => end < from);
      if (row < 0) row = rowEnds.length;
      rowEnds[row] = from + width;
      return { ...m, row, anchor };
    });
}

function ticksFor(timeline: RestoreTimeline, x: (t: number) => number): TimelineGeometry['ticks'] {
  if (!timeline.toScale) {
    // Slots: the phase names are on the bars and in the table; the axis counts the steps.
    return Array.from({ length: timeline.end - timeline.start + 1 }, (_, i) => ({ x: x(timeline.start + i), label: i === 0 ? 'start' : String(i) }));
  }
  const step = tickStep(timeline.end - timeline.start);
  const ticks: TimelineGeometry['ticks'] = [];
  for (let offset = 0; offset <= timeline.end - timeline.start; offset += step)
    ticks.push({ x: x(timeline.start + offset), label: offsetLabel(offset) });
  return ticks;
}
