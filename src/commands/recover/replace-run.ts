// Runs playbooks/member-replace.yml for one member after another (the `member replace` command, and
// `recover` once the quorum is back), journaled: each phase done on a member is recorded, with the ids the
// replace removed and added, so a re-run skips what is done and the membership steps know where they stand.
import type { Inventory } from '../../config/types.js';
import type { ConnectionOptions } from '../../engine/connections.js';
import type { PhaseOutcome } from '../../engine/phased.js';
import type { ClusterVerdict } from '../../etcd/cluster/verdict.js';
import type { RecoverJournalWriter } from '../../etcd/member/journal.js';
import { replaceProgress } from '../../modules/recover/replace-state.js';
import { packagePath } from '../../package-root.js';
import { Procedure } from '../procedure.js';
import { restoreEventsOf, type Emit } from '../restore/events.js';
import { failpoint } from '../restore/restore-policy.js';

export const memberReplacePlaybookPath = packagePath('playbooks', 'member-replace.yml');
const REQUIRED_PHASES = ['preflight', 'remove-member', 'set-aside', 'add-member', 'start-joining', 'promote', 'verify-cluster'];

export interface ReplaceTimeouts {
  serviceSeconds: number;
  etcdSeconds: number;
}

export function openReplaceProcedure(
  inventory: Inventory,
  runId: string,
  timeouts: ReplaceTimeouts,
  connect: ConnectionOptions,
  over?: Procedure,
): Promise<Procedure> {
  return Procedure.open(
    {
      inventory,
      playbookFile: memberReplacePlaybookPath,
      extraVars: { replace_run_id: runId, replace_service_timeout: timeouts.serviceSeconds, replace_etcd_timeout: timeouts.etcdSeconds },
      requiredPhases: REQUIRED_PHASES,
      connection: connect,
    },
    true,
    over,
  );
}

/**
 * Every member's own configuration, read-only: the names, URLs and data dirs the members give themselves
 * (kubeadm's are in each manifest), so the verification after a replace compares the live member list with
 * them and not with the inventory's defaults. A member that cannot be read keeps the inventory's values.
 */
export async function readMemberConfigs(procedure: Procedure): Promise<void> {
  await procedure.pass({ dryRun: true, tags: ['member-config'] });
}

export interface ReplaceOutcome {
  host: string;
  ok: boolean;
  interrupted: boolean;
  failure?: string;
  phases: PhaseOutcome[];
  verdict?: ClusterVerdict;
  asideDir?: string;
}

/** Replace `hosts` one at a time; stops at the first that fails or at an interrupt. */
export async function replaceMembers(
  procedure: Procedure,
  writer: RecoverJournalWriter,
  hosts: readonly string[],
  emit: Emit,
  signal: AbortSignal,
): Promise<ReplaceOutcome[]> {
  const outcomes: ReplaceOutcome[] = [];
  const progress = procedure.session.state.get(replaceProgress);
  for (const host of hosts) {
    progress.set(host, { ...writer.journal.replaced[host] });
    const save = () =>
      writer.update((j) => {
        j.replaced[host] = { ...progress.get(host) };
      });
    const run = await procedure.pass({
      dryRun: false,
      skipTags: ['preflight'],
      onlyHosts: new Set([host]),
      signal,
      onEvent: restoreEventsOf(emit),
      policy: {
        // The verification runs every time: it is what says the replace is finished.
        shouldRun: (phase) => phase === 'verify-cluster' || !writer.isDone(host, phase),
        onBegin: (phase) =>
          writer.update((j) => {
            if (!j.begun.includes(`${host}:${phase}`)) j.begun.push(`${host}:${phase}`);
          }),
        onHostDone: async (phase) => {
          await save();
          await writer.markDone(host, phase);
          failpoint(phase, host);
        },
        // A membership change or a start is not cut in the middle; Ctrl-C stops between steps.
        interruptible: () => false,
      },
    });
    await save();
    const verify = run.phases.find((p) => p.id === 'verify-cluster');
    const verdict = verify?.results.get('localhost')?.[0]?.result.result.verdict as ClusterVerdict | undefined;
    const failed = run.failed;
    const outcome: ReplaceOutcome = {
      host,
      ok: !failed && !run.interrupted,
      interrupted: run.interrupted,
      phases: run.phases.filter((p) => p.ran.length > 0),
      ...(failed ? { failure: `${failed.id}: ${[...failed.failures.values()].join('; ')}` } : {}),
      ...(verdict ? { verdict } : {}),
      ...(progress.get(host)?.asideDir ? { asideDir: progress.get(host)?.asideDir } : {}),
    };
    outcomes.push(outcome);
    if (!outcome.ok) break;
  }
  return outcomes;
}
