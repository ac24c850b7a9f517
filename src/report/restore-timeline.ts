// The last restore (or rollback) as a timeline model: lanes (hosts), spans (a phase on a host), marks
// (the API going down and coming back, failures, the rollback, an interruption) and the RTO/RPO figures.
// With recorded phase times it is to scale; without them (journals written before the restore recorded
// times) phases are laid out in order, one slot each, and the model says so.
import type { RestoreJournal } from '../etcd/restore/journal.js';
import type { JournalTimings, PhaseTiming, TimedJournal } from './phase-timings.js';

export type SpanStatus = 'ok' | 'failed' | 'interrupted' | 'unfinished';

export interface TimelineSpan {
  host: string;
  phase: string;
  kind: 'restore' | 'rollback';
  /** ms since the epoch when to scale; slot numbers when not. */
  start: number;
  end: number;
  status: SpanStatus;
  error?: string;
}

export type MarkKind = 'api-down' | 'api-up' | 'failure' | 'rollback' | 'interrupted' | 'finished';

export interface TimelineMark {
  kind: MarkKind;
  at: number;
  label: string;
}

export interface RestoreTimeline {
  runId: string;
  status: RestoreJournal['status'];
  /** true: start/end are times; false: phase slots, in order. */
  toScale: boolean;
  start: number;
  end: number;
  /** Lanes, top to bottom: members in inventory order, then other hosts, then the deploy host. */
  hosts: string[];
  spans: TimelineSpan[];
  marks: TimelineMark[];
  figures: { wallMs?: number; apiDowntimeMs?: number; rpoMs: number };
  snapshot: RestoreJournal['snapshot'];
  error?: string;
  rollbackReason?: string;
}

export const DEPLOY_HOST_LANE = 'localhost';

const ms = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));

function laneOrder(journal: RestoreJournal, extra: Iterable<string>): string[] {
  const members = Object.keys(journal.members);
  const others = [...new Set(extra)].filter((h) => !members.includes(h) && h !== DEPLOY_HOST_LANE);
  const deploy = [...extra].includes(DEPLOY_HOST_LANE) ? [DEPLOY_HOST_LANE] : [];
  return [...members, ...others, ...deploy];
}

function statusOf(timing: PhaseTiming, runEnded: boolean, interrupted: boolean): SpanStatus {
  if (timing.result === 'ok' || timing.result === 'failed' || timing.result === 'interrupted') return timing.result;
  if (!runEnded) return 'unfinished';
  return interrupted ? 'interrupted' : 'unfinished';
}

function figures(journal: RestoreJournal, end: number, apiUpByRollback?: number): RestoreTimeline['figures'] {
  const started = Date.parse(journal.startedAt);
  const down = ms(journal.marks['api-down']);
  const up = ms(journal.marks['api-up']) ?? apiUpByRollback;
  const finished = ms(journal.marks.finished) ?? ms(journal.rollback?.finishedAt);
  return {
    ...(finished !== undefined ? { wallMs: finished - started } : journal.status === 'in-progress' ? {} : { wallMs: end - started }),
    ...(down !== undefined && up !== undefined ? { apiDowntimeMs: up - down } : {}),
    rpoMs: Math.max(0, started - Date.parse(journal.snapshot.takenAt)),
  };
}

function scaledTimeline(journal: RestoreJournal, timings: JournalTimings): RestoreTimeline {
  const interrupted = journal.error === 'interrupted' || journal.status === 'aborted';
  const runEnded = journal.status !== 'in-progress' || interrupted;
  const spans: TimelineSpan[] = [];
  const lastUpdate = Date.parse(journal.updatedAt);
  for (const [host, list] of Object.entries(timings)) {
    for (const timing of list) {
      const start = Date.parse(timing.start);
      const end = ms(timing.end) ?? Math.max(start, lastUpdate);
      spans.push({
        host,
        phase: timing.phase,
        kind: timing.kind,
        start,
        end,
        status: statusOf(timing, runEnded, interrupted),
        ...(timing.error ? { error: timing.error } : {}),
      });
    }
  }
  const marks: TimelineMark[] = [];
  const addMark = (kind: MarkKind, at: number | undefined, label: string) => {
    if (at !== undefined && Number.isFinite(at)) marks.push({ kind, at, label });
  };
  addMark('api-down', ms(journal.marks['api-down']), 'API down');
  addMark('api-up', ms(journal.marks['api-up']), 'API up');
  // The restore marks the API up only on its own way; after a rollback it is up when the rollback started kube_master everywhere.
  const rollbackStarts = spans.filter((s) => s.kind === 'rollback' && s.phase === 'start-kube-master');
  const apiUpByRollback =
    journal.marks['api-down'] && !journal.marks['api-up'] && rollbackStarts.length > 0 && rollbackStarts.every((s) => s.status === 'ok')
      ? Math.max(...rollbackStarts.map((s) => s.end))
      : undefined;
  addMark('api-up', apiUpByRollback, 'API up (rolled back)');
  const failed = spans.filter((s) => s.status === 'failed' && s.kind === 'restore').sort((a, b) => a.end - b.end)[0];
  if (failed) addMark('failure', failed.end, `${failed.phase} failed on ${failed.host === DEPLOY_HOST_LANE ? 'the deploy host' : failed.host}`);
  if (journal.rollback) addMark('rollback', ms(journal.rollback.startedAt), 'rollback');
  if (interrupted) addMark('interrupted', Math.max(lastUpdate, ...spans.map((s) => s.end)), 'interrupted');
  addMark('finished', ms(journal.marks.finished) ?? ms(journal.rollback?.finishedAt), journal.rollback ? 'rolled back' : 'done');
  const start = Math.min(Date.parse(journal.startedAt), ...spans.map((s) => s.start));
  const end = Math.max(start + 1, lastUpdate, ...spans.map((s) => s.end), ...marks.map((m) => m.at));
  return base(journal, true, start, end, laneOrder(journal, Object.keys(timings)), spans, marks, apiUpByRollback);
}

function base(
  journal: RestoreJournal,
  toScale: boolean,
  start: number,
  end: number,
  hosts: string[],
  spans: TimelineSpan[],
  marks: TimelineMark[],
  apiUpByRollback?: number,
): RestoreTimeline {
  return {
    runId: journal.runId,
    status: journal.status,
    toScale,
    start,
    end,
    hosts,
    spans,
    marks: marks.sort((a, b) => a.at - b.at),
    figures: figures(journal, toScale ? end : Date.parse(journal.updatedAt), apiUpByRollback),
    snapshot: journal.snapshot,
    ...(journal.error ? { error: journal.error } : {}),
    ...(journal.rollback ? { rollbackReason: journal.rollback.reason } : {}),
  };
}

/** No recorded times: one slot per phase begun, in order; a host's bar is in the slots of what it did. */
function orderedTimeline(journal: RestoreJournal): RestoreTimeline {
  const interrupted = journal.error === 'interrupted';
  const phases: { phase: string; kind: 'restore' | 'rollback'; done: (host: string) => boolean }[] = [
    ...journal.begun.map((phase) => ({
      phase,
      kind: 'restore' as const,
      done: (host: string) => journal.done[host]?.includes(phase) ?? false,
    })),
    ...(journal.rollback?.begun ?? []).map((phase) => ({
      phase,
      kind: 'rollback' as const,
      done: (host: string) => journal.rollback?.done[host]?.includes(phase) ?? false,
    })),
  ];
  const hostsSeen = new Set<string>([...Object.keys(journal.done), ...Object.keys(journal.rollback?.done ?? {})]);
  const hosts = laneOrder(journal, [...Object.keys(journal.members), ...hostsSeen]);
  const spans: TimelineSpan[] = [];
  const marks: TimelineMark[] = [];
  phases.forEach(({ phase, kind, done }, slot) => {
    const last = slot === phases.length - 1;
    for (const host of hosts) {
      if (done(host)) spans.push({ host, phase, kind, start: slot, end: slot + 1, status: 'ok' });
      else if (last && hostsSeen.has(host) && journal.status !== 'completed')
        spans.push({ host, phase, kind, start: slot, end: slot + 1, status: interrupted ? 'interrupted' : 'failed' });
    }
    if (kind === 'restore' && phase === 'stop-kube-master' && journal.marks['api-down'])
      marks.push({ kind: 'api-down', at: slot, label: 'API down' });
    if (kind === 'restore' && phase === 'start-kube-master' && journal.marks['api-up']) marks.push({ kind: 'api-up', at: slot + 1, label: 'API up' });
    if (kind === 'rollback' && slot > 0 && phases[slot - 1]?.kind === 'restore') marks.push({ kind: 'rollback', at: slot, label: 'rollback' });
  });
  if (interrupted) marks.push({ kind: 'interrupted', at: phases.length, label: 'interrupted' });
  return base(journal, false, 0, Math.max(1, phases.length), hosts, spans, marks);
}

export function restoreTimeline(journal: TimedJournal): RestoreTimeline {
  const timings = journal.timings;
  return timings && Object.keys(timings).length > 0 ? scaledTimeline(journal, timings) : orderedTimeline(journal);
}
