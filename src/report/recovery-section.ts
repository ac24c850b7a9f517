// The last `orchestrate recover` run as a report section: the way out it took and why, what it lost, what
// each member was found in, and how long each phase took. A recovery by restore (rebuild, snapshot) also
// draws its restore's timeline below, from the restore journal.
import { age, figure, table } from './report-sections.js';
import { el, text } from './svg.js';

export interface RecoverySummary {
  /** `start as is`, `rebuild from <member>`, `newest snapshot`, or `nothing to do`. */
  path: string;
  status: string;
  reason?: string;
  /** What the path lost, in words ("nothing", "3 revision(s), about 2s of writes"). */
  lost: string;
  wallMs: number;
  diagnosisMs?: number;
  members: { name: string; host: string; state: string; revision?: number; detail: string }[];
  phases: { id: string; ms: number }[];
  failure?: string;
}

export function recoverySection(recovery: RecoverySummary): string {
  return el(
    'section',
    { id: 'recovery' },
    el('h2', {}, text(`Last recovery: ${recovery.path}, ${recovery.status}`)),
    el(
      'div',
      { class: 'figures' },
      figure('RTO (wall time)', age(recovery.wallMs), 'diagnosis included'),
      figure('diagnosis', age(recovery.diagnosisMs), 'read-only, every member'),
      figure('data lost', recovery.lost),
    ),
    recovery.reason ? el('p', { class: 'lead' }, text(`Why this way: ${recovery.reason}`)) : undefined,
    recovery.failure ? el('p', { class: 'note bad' }, text(`Why it stopped: ${recovery.failure}`)) : undefined,
    table(
      ['member', 'found', 'db revision', 'detail'],
      recovery.members.map((m) => [
        text(`${m.name} (${m.host})`),
        text(m.state),
        text(m.revision === undefined ? '-' : String(m.revision)),
        text(m.detail),
      ]),
      'members',
    ),
    recovery.phases.length
      ? table(
          ['phase', 'took'],
          recovery.phases.map((p) => [text(p.id), text(age(p.ms))]),
          'recovery-phases',
        )
      : undefined,
  );
}
