// Builds restore journals for the report's unit tests: the real RestoreJournal type, phases begun and
// done per host, marks, and (optionally) per-host phase times laid out from a start time.
import type { RestorePhase } from '../../../src/etcd/restore/journal.js';
import { restorePaths } from '../../../src/etcd/restore/paths.js';

/** The phases of playbooks/restore.yml and playbooks/restore-rollback.yml that change something, in order (their tags). */
export const RESTORE_PHASES = [
  'copy-snapshot',
  'restore-data',
  'stop-kube-node',
  'stop-kube-master',
  'stop-etcd',
  'swap-data',
  'start-etcd',
  'verify-cluster',
  'start-kube-master',
  'start-kube-node',
  'cleanup',
];
export const ROLLBACK_PHASES = [
  'stop-kube-node',
  'stop-kube-master',
  'stop-etcd',
  'revert-data',
  'start-etcd',
  'verify-cluster',
  'start-kube-master',
  'start-kube-node',
];
import type { JournalTimings, PhaseTiming, TimedJournal } from '../../../src/report/phase-timings.js';

export const HOSTS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
export const T0 = Date.parse('2026-12-01T10:00:00.000Z');
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

export function baseJournal(overrides: Partial<TimedJournal> = {}): TimedJournal {
  return {
    version: 1,
    runId: '20261201T100000Z-abcd',
    clusterToken: 'etcd-cluster-0',
    inventory: '/srv/inventory.yml',
    mode: 'member',
    status: 'completed',
    startedAt: at(0),
    updatedAt: at(30),
    snapshot: { path: '/srv/backups/snapshot_x.db', sha256: 'ab', size: 1024, revision: 42, totalKey: 50, hasHash: true, takenAt: at(-3600) },
    members: Object.fromEntries(
      HOSTS.map((host, i) => [
        host,
        {
          name: `etcd-${i + 1}`,
          paths: restorePaths('/var/lib/etcd', 'x'),
          hadOldData: true,
          service: 'etcd',
        },
      ]),
    ),
    begun: [],
    done: {},
    marks: { started: at(0) },
    ...overrides,
  };
}

/** Phases on every host (verify-cluster on the deploy host), each `step` seconds long, one after the other. */
export function timedRun(phases: readonly RestorePhase[], step = 2): { done: Record<string, RestorePhase[]>; timings: JournalTimings } {
  const done: Record<string, RestorePhase[]> = {};
  const timings: JournalTimings = {};
  phases.forEach((phase, i) => {
    const hosts = phase === 'verify-cluster' ? ['localhost'] : HOSTS;
    for (const host of hosts) {
      (done[host] ??= []).push(phase);
      const timing: PhaseTiming = { phase, kind: 'restore', start: at(1 + i * step), end: at(1 + i * step + step - 0.5), result: 'ok' };
      (timings[host] ??= []).push(timing);
    }
  });
  return { done, timings };
}

export function completedJournal(): TimedJournal {
  const { done, timings } = timedRun(RESTORE_PHASES);
  const end = 1 + RESTORE_PHASES.length * 2;
  return baseJournal({
    begun: [...RESTORE_PHASES],
    done,
    timings,
    updatedAt: at(end),
    marks: { started: at(0), 'api-down': at(1 + 3 * 2), 'api-up': at(1 + 8 * 2 + 1.5), finished: at(end) },
  });
}
