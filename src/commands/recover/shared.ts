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

/** The connection options of recover and member replace, as restore reads them (with ansible.cfg's defaults). */
export interface ConnectionValues {
  'known-hosts'?: string | undefined;
  'accept-new-host-keys'?: boolean | undefined;
  'ssh-config'?: string | undefined;
  'connect-timeout'?: string | undefined;
}

/** The inventory (with ansible.cfg's defaults, its warnings printed unless --json) and how to connect. */
export async function loadForRecovery(
  inventoryFile: string,
  values: ConnectionValues,
  json: boolean,
  seconds: (text: string | undefined, option: string) => number | undefined,
): Promise<{ inventory: Inventory; connect: ConnectionOptions }> {
  const { acceptNewHostKeys, ansibleDefaults } = await import('../ansible-defaults.js');
  const defaults = await ansibleDefaults();
  const connectSeconds = seconds(values['connect-timeout'], '--connect-timeout') ?? defaults.settings.timeout?.value;
  const { loadInventory } = await import('../../config/inventory.js');
  const { formatProblems } = await import('../../config/format-problems.js');
  const { inventory, warnings } = await loadInventory(inventoryFile, { ...defaults.inventoryOptions, requireEtcd: true });
  if (warnings.length && !json) process.stderr.write(formatProblems(warnings));
  const connect: ConnectionOptions = {
    ...(values['known-hosts'] ? { knownHostsFile: values['known-hosts'] } : {}),
    ...(acceptNewHostKeys(values['accept-new-host-keys'] === true, defaults.hostKeys) ? { acceptNewHostKeys: true } : {}),
    ...(values['ssh-config'] !== undefined ? { sshConfigFile: values['ssh-config'] } : {}),
    ...(connectSeconds ? { connectTimeoutMs: connectSeconds * 1000 } : {}),
  };
  return { inventory, connect };
}
