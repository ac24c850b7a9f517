// The report's sections as HTML fragments: the restore timeline with its figures and table, the backup
// history, the drill history, the current status. Pure functions of their inputs; all text is escaped.
import { basename } from 'node:path';
import { shownName, type ClusterSurvey } from '../etcd/cluster/observe.js';
import { formatAge, formatBytes } from '../etcd/backup/format.js';
import type { DrillRecord } from '../drill/drill-catalog.js';
import type { BackupHistory } from './backup-history.js';
import { barChart, scheduleChart, shortTime } from './history-svg.js';
import { DEPLOY_HOST_LANE, type RestoreTimeline } from './restore-timeline.js';
import { el, text } from './svg.js';
import { layoutTimeline } from './timeline-layout.js';
import { renderTimelineSvg } from './timeline-svg.js';

export const age = (ms: number | undefined) => (ms === undefined ? 'n/a' : formatAge(ms, { tenths: true }));
const iso = (t: number) => `${new Date(t).toISOString().replace('T', ' ').slice(0, 19)} UTC`;

export function table(head: string[], rows: string[][], className = ''): string {
  return el(
    'table',
    { class: className || undefined },
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, text(h))))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))),
  );
}

export function figure(label: string, value: string, note = ''): string {
  return el(
    'div',
    { class: 'figure' },
    el('div', { class: 'figure-label' }, text(label)),
    el('div', { class: 'figure-value' }, text(value)),
    note ? el('div', { class: 'figure-note' }, text(note)) : undefined,
  );
}

const LEGEND = [
  ['prepare', 'copy, restore into a new dir'],
  ['stop', 'stop services / etcd'],
  ['swap', 'swap data dirs'],
  ['start', 'start etcd / services'],
  ['verify', 'verify the cluster'],
  ['other', 'cleanup'],
];

function legend(): string {
  const items = LEGEND.map(([group = '', label = '']) =>
    el('span', { class: 'legend-item' }, el('span', { class: `swatch phase-${group}` }), text(label)),
  );
  items.push(el('span', { class: 'legend-item' }, el('span', { class: 'swatch rollback-swatch' }), text('rollback')));
  items.push(el('span', { class: 'legend-item' }, el('span', { class: 'swatch failed-swatch' }), text('failed')));
  return el('div', { class: 'legend' }, ...items);
}

function phaseTable(timeline: RestoreTimeline): string {
  const rows = [...timeline.spans]
    .sort((a, b) => a.start - b.start || timeline.hosts.indexOf(a.host) - timeline.hosts.indexOf(b.host))
    .map((s) => [
      text(s.kind === 'rollback' ? `rollback: ${s.phase}` : s.phase),
      text(s.host === DEPLOY_HOST_LANE ? 'deploy host' : s.host),
      text(timeline.toScale ? iso(s.start).slice(11, 19) : `step ${s.start + 1}`),
      text(timeline.toScale ? age(s.end - s.start) : '-'),
      el('span', { class: `status-text ${s.status}` }, text(s.status === 'ok' ? 'ok' : `${s.status}${s.error ? `: ${s.error}` : ''}`)),
    ]);
  return table(['phase', 'host', 'start', 'took', 'result'], rows, 'phases');
}

export function restoreSection(timeline: RestoreTimeline | undefined, source: string): string {
  if (!timeline)
    return el(
      'section',
      { id: 'restore' },
      el('h2', {}, text('Last restore')),
      el('p', {}, text('No restore has been recorded for this cluster (no journal).')),
    );
  const { figures } = timeline;
  const verdict =
    timeline.status === 'completed'
      ? 'completed'
      : timeline.status === 'rolled-back'
        ? 'failed and rolled back'
        : timeline.error === 'interrupted'
          ? 'interrupted'
          : timeline.status;
  const geometry = layoutTimeline(timeline);
  const notes: string[] = [];
  if (!timeline.toScale)
    notes.push(
      'This journal records no phase times (written before the restore recorded them): phases are drawn in order, one step each, not to scale.',
    );
  if (timeline.error && timeline.error !== 'interrupted') notes.push(`Why it stopped: ${timeline.error}`);
  if (timeline.rollbackReason) notes.push(`Rolled back because: ${timeline.rollbackReason}`);
  return el(
    'section',
    { id: 'restore' },
    el('h2', {}, text(`Last restore: run ${timeline.runId}, ${verdict}`)),
    el(
      'div',
      { class: 'figures' },
      figure('RTO (wall time)', age(figures.wallMs)),
      figure('API down', age(figures.apiDowntimeMs), figures.apiDowntimeMs === undefined ? 'not stopped, or not up again' : ''),
      figure('RPO (snapshot age)', age(figures.rpoMs), `writes after ${timeline.snapshot.takenAt} are lost`),
      figure('snapshot', `revision ${timeline.snapshot.revision}`, `${basename(timeline.snapshot.path)}, ${timeline.snapshot.totalKey} keys`),
    ),
    renderTimelineSvg(geometry, `restore ${timeline.runId}: one lane per host, one bar per phase`),
    legend(),
    ...notes.map((n) => el('p', { class: 'note' }, text(n))),
    el('p', { class: 'source' }, text(source)),
    el('details', { open: 'open' }, el('summary', {}, text('every phase on every host')), phaseTable(timeline)),
  );
}

export function backupSection(history: BackupHistory): string {
  const failed = history.points.filter((p) => !p.ok);
  const lastGood = [...history.points].reverse().find((p) => p.ok);
  const rpoNote = { inventory: 'backup_rpo in the inventory', option: '--rpo', interval: 'twice the backup interval', default: 'default' }[
    history.rpoSource
  ];
  const intervalNote = history.intervalMs
    ? `${formatAge(history.intervalMs)} (${history.intervalSource === 'inventory' ? 'backup_interval' : 'inferred from the snapshots'})`
    : 'unknown';
  return el(
    'section',
    { id: 'backups' },
    el('h2', {}, text('Backups')),
    el(
      'div',
      { class: 'figures' },
      figure('newest good snapshot', lastGood ? `${formatAge(history.end - lastGood.at)} ago` : 'none', lastGood ? iso(lastGood.at) : ''),
      figure('attempts', `${history.points.length}`, `${failed.length} failed, since ${iso(history.start).slice(0, 10)}`),
      figure('schedule', intervalNote),
      figure('RPO target', formatAge(history.rpoMs), `${rpoNote}; ${history.gaps.length} gap(s) longer`),
    ),
    ...(history.points.length
      ? [scheduleChart(history), barChart(history, 'size'), barChart(history, 'duration')]
      : [el('p', {}, text('No backup attempt is recorded in the catalog for this window.'))]),
    history.points.length === 0
      ? undefined
      : history.gaps.length
        ? table(
            ['no good snapshot from', 'to', 'for'],
            history.gaps.map((g) => [text(iso(g.from)), text(g.ongoing ? 'now' : iso(g.to)), el('strong', { class: 'bad' }, text(formatAge(g.ms)))]),
            'gaps',
          )
        : el('p', {}, text(`No gap between good snapshots is longer than the RPO target of ${formatAge(history.rpoMs)}.`)),
    failed.length
      ? el('h3', {}, text('Failed attempts')) +
          table(
            ['when', 'took', 'why'],
            failed
              .slice(-20)
              .reverse()
              .map((p) => [text(iso(p.at)), text(age(p.durationMs)), text(p.error ?? '')]),
            'failures',
          )
      : undefined,
    history.olderRecords ? el('p', { class: 'note' }, text(`${history.olderRecords} older attempts are not drawn.`)) : undefined,
  );
}

export function drillSection(drills: readonly DrillRecord[], freshness: string): string {
  const rows = [...drills]
    .reverse()
    .slice(0, 30)
    .map((d) => [
      text(iso(Date.parse(d.end))),
      text(basename(d.snapshot.file)),
      el(
        'span',
        { class: `status-text ${d.result === 'ok' ? 'ok' : 'failed'}` },
        text(d.result === 'ok' ? 'restorable' : `FAILED${d.failedStage ? ` (${d.failedStage})` : ''}`),
      ),
      text(String(d.members)),
      text(age(d.timeToQuorumMs)),
      text(age(d.durationMs)),
      text(d.error ?? d.tools ?? ''),
    ]);
  return el(
    'section',
    { id: 'drills' },
    el('h2', {}, text('Restore drills')),
    el('p', { class: 'lead' }, text(freshness)),
    rows.length
      ? table(['when', 'snapshot', 'result', 'members', 'to quorum', 'took', 'detail'], rows, 'drills')
      : el(
          'p',
          {},
          text('No drill has run. `orchestrate drill INVENTORY` restores the newest snapshot into a throwaway cluster and records the result here.'),
        ),
  );
}

export function statusSection(status: { survey: ClusterSurvey; at: number } | { error: string } | undefined, freshness: string[]): string {
  if (!status) return '';
  if ('error' in status)
    return el(
      'section',
      { id: 'status' },
      el('h2', {}, text('Current status')),
      el('p', { class: 'bad' }, text(`The cluster did not answer: ${status.error}`)),
    );
  const { survey } = status;
  const rows = survey.members.map((m) => [
    text(shownName(m)),
    text(m.endpoint),
    el(
      'span',
      { class: `status-text ${m.ok ? 'ok' : 'failed'}` },
      text(m.ok ? (m.isLearner ? 'learner' : m.isLeader ? 'leader' : 'follower') : `DOWN: ${m.error ?? ''}`),
    ),
    text(m.revision !== undefined ? String(m.revision) : '-'),
    text(formatBytes(m.dbSize)),
    text(m.version ?? '-'),
    text(m.alarms?.join(', ') ?? ''),
  ]);
  const healthy = survey.members.filter((m) => m.ok).length;
  return el(
    'section',
    { id: 'status' },
    el('h2', {}, text(`Current status (${iso(status.at)})`)),
    el(
      'p',
      { class: 'lead' },
      text(
        `${healthy} of ${survey.members.length} members answer; leader ${survey.leader ?? 'none'}${survey.clusterId ? `; cluster id ${survey.clusterId}` : ''}`,
      ),
    ),
    table(['member', 'endpoint', 'role', 'revision', 'db size', 'version', 'alarms'], rows, 'members'),
    ...freshness.map((line) => el('p', {}, text(line))),
  );
}

export { shortTime };
