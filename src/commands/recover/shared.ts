// What the recover and member replace commands share: how they ask, how they refuse, their timeouts.
import type { Inventory } from '../../config/types.js';
import { RefusedError } from '../../errors.js';
import type { ConnectionOptions } from '../../engine/connections.js';
import type { PhasedRun } from '../../engine/phased.js';
import type { Emit } from '../restore/events.js';
import { readPreflight } from '../restore/preflight.js';
import type { Procedure } from '../procedure.js';
import { requireEtcd } from '../../config/etcd-vars.js';

export interface RecoverTimeouts {
  /** A unit to stop or start. */
  serviceSeconds: number;
  /** Quorum, catching up, verification. */
  etcdSeconds: number;
}

export const DEFAULT_RECOVER_TIMEOUTS: RecoverTimeouts = { serviceSeconds: 90, etcdSeconds: 120 };

export interface CommonRunOptions {
  inventory: Inventory;
  dryRun: boolean;
  yes: boolean;
  /** Asks on a terminal; absent without one (then --yes is needed). */
  confirm?: (question: string) => Promise<boolean>;
  emit: Emit;
  connect: ConnectionOptions;
  signal: AbortSignal;
  timeouts: RecoverTimeouts;
}

export async function confirmOrRefuse(options: CommonRunOptions, question: string, code: string): Promise<void> {
  if (options.yes) return;
  if (!options.confirm) {
    throw new RefusedError(
      'refusing without confirmation: there is no terminal to ask on and --yes was not given; nothing was changed',
      'review the plan with --dry-run, then run again with --yes',
      code,
    );
  }
  if (!(await options.confirm(question)))
    throw new RefusedError('not confirmed; nothing was changed', 'run again and answer yes, or pass --yes', code);
}

/** The read-only preflight (commands run as root, data dir parent writable) on these hosts; problems refuse. */
export async function preflightOrRefuse(procedure: Procedure, inventory: Inventory, hosts: ReadonlySet<string>, code: string): Promise<PhasedRun> {
  const run = await procedure.pass({ dryRun: true, tags: ['preflight'], onlyHosts: hosts });
  const reading = readPreflight(run, requireEtcd(inventory), { memberFacts: false });
  if (reading.problems.length > 0) {
    throw new RefusedError(
      `preflight failed, nothing was changed:\n  - ${reading.problems.join('\n  - ')}`,
      'fix the problems above and run again',
      code,
    );
  }
  return run;
}
