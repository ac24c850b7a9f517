// How the journal steers the phases of a restore and of its rollback: which host still has to run which
// phase after an interruption, what is recorded when a phase begins and when a host finishes it, the
// marks the RTO is measured by, and which phases may be cut short by Ctrl-C.
import type { EtcdMember } from '../../config/types.js';
import type { PhasePolicy } from '../../engine/phased.js';
import { followersThenLeader, type ObserveCluster } from '../../etcd/cluster/observe.js';
import { DEPLOY_HOST, isDone, rollbackDone, type JournalWriter, type RestoreJournal } from '../../etcd/restore/journal.js';

/** Phases whose commands Ctrl-C cancels: they change nothing the running cluster uses. */
const INTERRUPTIBLE = new Set(['copy-snapshot', 'restore-data']);
const STOP_PHASES = new Set(['stop-kube-node', 'stop-kube-master', 'stop-etcd']);

/** Whether a phase still has to run on a host, given the journal of an earlier (interrupted) run. */
export function shouldRunRestorePhase(journal: RestoreJournal, phase: string, host: string): boolean {
  // Stopping is idempotent and a member may have rebooted since: redo it until etcd is started on the new data.
  if (STOP_PHASES.has(phase)) return !journal.begun.includes('start-etcd');
  if (phase === 'start-etcd') return !isDone(journal, DEPLOY_HOST, 'verify-cluster');
  return !isDone(journal, host, phase);
}

export function shouldRunRollbackPhase(journal: RestoreJournal, phase: string, host: string): boolean {
  if (STOP_PHASES.has(phase)) return !(journal.rollback?.begun.includes('start-etcd') ?? false);
  if (phase === 'start-etcd') return !rollbackDone(journal, DEPLOY_HOST, 'verify-cluster');
  return !rollbackDone(journal, host, phase);
}

/**
 * Test-only fault injection: ORCHESTRATE_FAILPOINT=<phase>:<host> kills this process (SIGKILL, no cleanup)
 * right after the journal recorded that host's phase - a deploy host dying mid-restore, on demand.
 * `<phase>:*` fires on the first host to finish the phase (the fault matrix need not know who runs it).
 */
export function failpoint(phase: string, host: string): void {
  const spec = process.env.ORCHESTRATE_FAILPOINT;
  if (spec && (spec === `${phase}:${host}` || spec === `${phase}:*`)) process.kill(process.pid, 'SIGKILL');
}

/** Followers first, then the leader (see followersThenLeader), for the etcd stop of a restore or rollback. */
function etcdStopWaves(members: readonly EtcdMember[], observe?: ObserveCluster): PhasePolicy['waves'] {
  return (phase, hosts) => (phase === 'stop-etcd' ? followersThenLeader(members, [...hosts], observe) : undefined);
}

export function restorePolicy(writer: JournalWriter, members: readonly EtcdMember[], observe?: ObserveCluster): PhasePolicy {
  return {
    shouldRun: (phase, host) => shouldRunRestorePhase(writer.journal, phase, host),
    onBegin: async (phase) => {
      await writer.markBegun(phase);
      if (phase === 'stop-kube-master' && !writer.journal.marks['api-down']) await writer.mark('api-down');
    },
    onHostStart: (phase, host) => writer.time('restore', phase, host, 'start'),
    onHostDone: async (phase, host) => {
      await Promise.all([writer.markDone(host, phase), writer.time('restore', phase, host, 'end')]);
      failpoint(phase, host);
    },
    waves: etcdStopWaves(members, observe),
    interruptible: (phase) => INTERRUPTIBLE.has(phase),
  };
}

/** A rollback is never cut short: it is what leaves the cluster usable. */
export function rollbackPolicy(
  writer: JournalWriter,
  members: readonly EtcdMember[],
  restoredDataAt: Map<string, string>,
  observe?: ObserveCluster,
): PhasePolicy {
  return {
    shouldRun: (phase, host) => shouldRunRollbackPhase(writer.journal, phase, host),
    onBegin: (phase) =>
      writer.update((j) => {
        if (j.rollback && !j.rollback.begun.includes(phase)) j.rollback.begun.push(phase);
      }),
    onHostStart: (phase, host) => writer.time('rollback', phase, host, 'start'),
    onHostDone: async (phase, host, results) => {
      const restoredAt = results[0]?.result.result.restored_data_at;
      if (phase === 'revert-data' && typeof restoredAt === 'string') restoredDataAt.set(host, restoredAt);
      await writer.time('rollback', phase, host, 'end');
      await writer.update((j) => {
        if (!j.rollback) return;
        const list = (j.rollback.done[host] ??= []);
        if (!list.includes(phase)) list.push(phase);
      });
    },
    waves: etcdStopWaves(members, observe),
    interruptible: () => false,
    // A failed stop or swap-back halts it (going on could start etcd on the wrong data); after a failed
    // start it goes on, so that whatever can come up does.
    runsAfterFailure: (_phase, failed) => !STOP_PHASES.has(failed) && failed !== 'revert-data' && failed !== 'preflight',
  };
}

/** Phases a rollback leaves out, by what the journal says the restore did (see playbooks/restore-rollback.yml). */
export function rollbackSkippedPhases(journal: RestoreJournal): string[] {
  const begun = (phase: string) => journal.begun.includes(phase);
  const stoppedSomething = begun('stop-kube-node') || begun('stop-kube-master') || begun('stop-etcd');
  const swapped = begun('swap-data');
  const starts = ['start-etcd', 'verify-cluster', 'start-kube-master', 'start-kube-node'];
  if (!stoppedSomething) return [...STOP_PHASES, ...starts];
  if (!swapped) return [...STOP_PHASES];
  return [];
}
