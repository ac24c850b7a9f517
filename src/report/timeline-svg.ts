// The restore timeline drawn as inline SVG from its geometry: lanes, phase bars coloured by what the phase
// does (rollback bars hatched, failed ones outlined in red with a cross, interrupted ones dashed), marks
// as labelled vertical lines, a time axis. Every bar has a <title> (hover) and the page repeats the
// numbers in a table, so nothing depends on colour or on hovering, on screen or on paper.
import { el, fitLabel, text } from './svg.js';
import type { TimelineGeometry } from './timeline-layout.js';

/** The colour class of a phase: what it does to the cluster. */
export function phaseGroup(phase: string): string {
  if (phase === 'copy-snapshot' || phase === 'restore-data') return 'prepare';
  if (phase.startsWith('stop-')) return 'stop';
  if (phase === 'swap-data' || phase === 'revert-data') return 'swap';
  if (phase.startsWith('start-')) return 'start';
  if (phase === 'verify-cluster') return 'verify';
  return 'other';
}

const LABEL_ROW = 13;

function bar(b: TimelineGeometry['bars'][number]): string {
  const label = fitLabel(b.phase, b.width);
  const classes = ['bar', `phase-${phaseGroup(b.phase)}`, `status-${b.status}`, b.kind === 'rollback' ? 'rollback' : ''].filter(Boolean).join(' ');
  const cross = b.status === 'failed' ? el('path', { class: 'cross', d: `M${b.x + b.width - 9},${b.y + 3} l6,6 m0,-6 l-6,6` }) : undefined;
  return el(
    'g',
    { class: classes, 'data-host': b.host, 'data-phase': b.phase, 'data-kind': b.kind, 'data-status': b.status },
    el('title', {}, text(b.title)),
    el('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 2 }),
    b.kind === 'rollback' ? el('rect', { class: 'hatch', x: b.x, y: b.y, width: b.width, height: b.height, rx: 2 }) : undefined,
    label ? el('text', { x: b.x + 3, y: b.y + b.height / 2 + 4, class: 'bar-label' }, text(label)) : undefined,
    cross,
  );
}

export function renderTimelineSvg(g: TimelineGeometry, title: string): string {
  const { plot } = g;
  const lanes = g.lanes.map((lane, i) =>
    el(
      'g',
      { class: 'lane', 'data-host': lane.host },
      el('rect', { class: i % 2 ? 'lane-bg odd' : 'lane-bg', x: 0, y: lane.y, width: g.width, height: lane.height }),
      el('text', { class: 'lane-label', x: 6, y: lane.y + lane.height / 2 + 4 }, text(fitLabel(lane.label, plot.left - 8) ?? lane.label.slice(0, 3))),
    ),
  );
  const ticks = g.ticks.map((t) =>
    el(
      'g',
      { class: 'tick' },
      el('line', { x1: t.x, x2: t.x, y1: plot.top, y2: plot.bottom + 4 }),
      el('text', { x: t.x, y: plot.bottom + 16, 'text-anchor': 'middle' }, text(t.label)),
    ),
  );
  const marks = g.marks.map((m) =>
    el(
      'g',
      { class: `mark mark-${m.kind}`, 'data-kind': m.kind },
      el('title', {}, text(m.label)),
      el('line', { x1: m.x, x2: m.x, y1: 6 + m.row * LABEL_ROW, y2: plot.bottom }),
      el('text', { x: m.anchor === 'start' ? m.x + 3 : m.x - 3, y: 16 + m.row * LABEL_ROW, 'text-anchor': m.anchor }, text(m.label)),
    ),
  );
  const defs = el(
    'defs',
    {},
    el(
      'pattern',
      { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      el('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'hatch-line' }),
    ),
  );
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      class: 'timeline',
      viewBox: `0 0 ${g.width} ${g.height}`,
      width: g.width,
      height: g.height,
      role: 'img',
      'aria-label': title,
    },
    el('title', {}, text(title)),
    defs,
    ...lanes,
    ...ticks,
    ...g.bars.map(bar),
    ...marks,
  );
}
