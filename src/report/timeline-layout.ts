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
  marks: { kind: MarkKind; x: number; label: string }[];
  ticks: { x: number; label: string }[];
}

export interface LayoutOptions {
  width?: number;
  laneHeight?: number;
  labelWidth?: number;
}

const TOP = 34;
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
  const plot = { left: labelWidth, right: width - 16, top: TOP, bottom: TOP + laneHeight * timeline.hosts.length };
  const span = Math.max(1, timeline.end - timeline.start);
  const x = (t: number) => plot.left + ((t - timeline.start) / span) * (plot.right - plot.left);
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
  const marks = timeline.marks.map((m) => ({ kind: m.kind, x: x(m.at), label: m.label }));
  return { width, height: plot.bottom + BOTTOM_AXIS, plot, lanes, bars, marks, ticks: ticksFor(timeline, x) };
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
