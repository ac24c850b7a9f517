// When each phase ran on each host: what the timeline needs. Restores record it in their journal
// (`timings`); for a journal written before they did, the same facts come from `restore --json` events.
import type { JournalTimings, PhaseTiming, RestoreJournal } from '../etcd/restore/journal.js';

export type { JournalTimings, PhaseTiming };

/** A restore journal as the report reads it: the journal, plus `timings` once the restore records them. */
export type TimedJournal = RestoreJournal;

/** The events `restore --json` prints that matter here (see src/restore/run-phases.ts). */
export type RecordedEvent =
  | { type: 'phase-start'; phase: string; hosts: string[]; at: string }
  | { type: 'phase-end'; phase: string; ms: number; failed: Record<string, string>; skipped: string[]; at: string }
  | { type: 'step'; phase: string; host: string; ok: boolean; ms: number; detail?: string; at: string }
  | { type: 'warning' | 'info'; message: string; at: string }
  | { type: string; at?: string };

const DEPLOY_HOST_LABEL = 'deploy host';

/**
 * Per-host phase times from a `restore --json` event log: a host's phase starts at its first step's start
 * (`at - ms`) and ends with its last step; phases after the "rolling back" warning are the rollback's. A
 * phase that began but never ended on a host (the run was interrupted or died) has no `end`.
 */
export function timingsFromEvents(events: readonly RecordedEvent[]): JournalTimings {
  const timings: JournalTimings = {};
  let kind: PhaseTiming['kind'] = 'restore';
  const open = new Map<string, PhaseTiming>();
  const key = (host: string, phase: string) => `${kind}\u0000${host}\u0000${phase}`;
  for (const event of events) {
    if ((event.type === 'warning' || event.type === 'info') && 'message' in event && /rolling back/.test(event.message)) kind = 'rollback';
    if (event.type === 'phase-start' && 'hosts' in event) {
      for (const raw of event.hosts) {
        const host = raw === DEPLOY_HOST_LABEL ? 'localhost' : raw;
        const timing: PhaseTiming = { phase: event.phase, kind, start: event.at };
        (timings[host] ??= []).push(timing);
        open.set(key(host, event.phase), timing);
      }
    }
    if (event.type === 'step' && 'host' in event) {
      const host = event.host === DEPLOY_HOST_LABEL ? 'localhost' : event.host;
      const timing = open.get(key(host, event.phase));
      if (!timing) continue;
      const stepStart = new Date(Date.parse(event.at) - event.ms).toISOString();
      if (!timing.end && Date.parse(stepStart) > Date.parse(timing.start)) timing.start = stepStart;
      timing.end = event.at;
      if (!event.ok) {
        timing.result = 'failed';
        timing.error = event.detail ?? 'failed';
      } else timing.result ??= 'ok';
    }
    if (event.type === 'phase-end' && 'failed' in event) {
      for (const [raw, message] of Object.entries(event.failed)) {
        const timing = open.get(key(raw === DEPLOY_HOST_LABEL ? 'localhost' : raw, event.phase));
        if (!timing) continue;
        timing.end ??= event.at;
        timing.result = /interrupted/.test(message) ? 'interrupted' : 'failed';
        timing.error = message;
      }
    }
  }
  return timings;
}

/** Parse a JSON-lines event log (lines that are not JSON objects, or not events, are skipped). */
export function parseEventLog(text: string): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as { type?: unknown };
      if (typeof parsed.type === 'string') events.push(parsed as RecordedEvent);
    } catch {
      // a torn last line
    }
  }
  return events;
}
