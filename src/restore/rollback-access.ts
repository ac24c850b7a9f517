// Before `restore --rollback` changes anything: do commands run as root on every host it will touch? The
// same read-only probe as the restore preflight (restore.login-access). Without it, a login that cannot
// stop units fails part-way, with some members rolled back and others not.
import type { EtcdMember, Inventory } from '../config/types.js';
import type { Transport } from '../transport/types.js';
import { DEPLOY_HOST, type RestoreJournal } from './journal.js';
import { hostLabels, loginAccessAction, loginAccessProblems } from './login-access.js';
import type { PlannedAction, PlannedPhase } from './plan-types.js';
import { readOnlyPhaseContext, runPhase } from './run-phases.js';

export interface RollbackAccessOptions {
  inventory: Inventory;
  members: readonly EtcdMember[];
  journal: RestoreJournal;
  /** The rollback plan: every host in it except the deploy host is probed. */
  plan: readonly PlannedPhase[];
  transports: ReadonlyMap<string, Transport>;
}

/** Every host a plan runs commands on, in plan order; the deploy host runs as whoever runs orchestrate. */
export function hostsTouchedBy(plan: readonly PlannedPhase[]): string[] {
  return [...new Set(plan.flatMap((phase) => [...phase.hosts.keys()]))].filter((host) => host !== DEPLOY_HOST);
}

/** One line per host whose commands cannot do the rollback, `name (host): problem and fix`; empty when all can. */
export async function rollbackAccessProblems(options: RollbackAccessOptions): Promise<string[]> {
  // Members rename dirs beside the data dir (the same parent the restore wrote in); kube hosts only stop and start units.
  const parentDirs = new Map(options.members.map((m) => [m.host, options.journal.members[m.host]?.paths.parentDir]));
  const hosts = new Map<string, PlannedAction[]>(
    hostsTouchedBy(options.plan).map((host) => {
      const dir = parentDirs.get(host);
      return [host, [loginAccessAction('login user can stop units and put data dirs back', dir ? [dir] : [])]];
    }),
  );
  const outcome = await runPhase(
    { id: 'rollback-access', title: 'read-only check of the login on every host', hosts },
    readOnlyPhaseContext(options.inventory, options.transports),
  );
  const labelOf = hostLabels(options.members);
  const problems: string[] = [];
  for (const host of hosts.keys()) {
    const who = labelOf(host);
    const checked = outcome.outcomes.get(host)?.[0];
    if (checked?.result) problems.push(...loginAccessProblems(checked, who));
    else problems.push(`${who}: ${outcome.failures.get(host) ?? 'the check did not run'}`);
  }
  return problems;
}
