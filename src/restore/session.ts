// What a restore or rollback run holds while it works: the members, the services, the connections,
// the journal, and the way it reports progress.
import { connectionFor } from '../config/connection.js';
import type { EtcdMember, Inventory } from '../config/types.js';
import { UnreachableError } from '../errors.js';
import { closeTransports, openTransports, type OpenTransportsOptions } from '../transport/open-transports.js';
import type { Transport } from '../transport/types.js';
import type { JournalWriter } from './journal.js';
import type { PlanTimeouts } from './plan.js';
import type { RestoreEvent } from './run-phases.js';
import type { HostServices } from '../modules/restore/unit-commands.js';

export interface Session {
  inventory: Inventory;
  members: EtcdMember[];
  services: HostServices[];
  transports: Map<string, Transport>;
  timeouts: PlanTimeouts;
  signal: AbortSignal;
  emit: (event: RestoreEvent) => void;
  writer?: JournalWriter;
}

/** Every host a restore touches: the members, then the kube hosts, in inventory order. */
export function hostsOf(members: readonly EtcdMember[], services: readonly HostServices[]): string[] {
  return [...new Set([...members.map((m) => m.host), ...services.map((s) => s.host)])];
}

/** Connect to every host at once; if any cannot be reached, close the others and say which and why. */
export async function connectAll(
  inventory: Inventory,
  hosts: readonly string[],
  options: OpenTransportsOptions,
  nothingChanged: boolean,
): Promise<Map<string, Transport>> {
  const specs = hosts.map((name) => {
    const host = inventory.hosts.get(name);
    if (!host) throw new Error(`host ${name} is not in the inventory`);
    return connectionFor(host);
  });
  const opened = await openTransports(specs, options);
  const failed = [...opened.values()].filter((entry): entry is UnreachableError => entry instanceof UnreachableError);
  if (failed.length > 0) {
    await closeTransports(opened);
    throw new UnreachableError(
      failed.map((f) => f.host).join(', '),
      `${failed.length === 1 ? 'is' : 'are'} unreachable (${failed.map((f) => f.message).join('; ')})${nothingChanged ? '; nothing was changed' : ''}`,
      failed.find((f) => f.hint)?.hint ?? 'every member and kube host must be reachable before a restore starts',
    );
  }
  return new Map([...opened].map(([host, entry]) => [host, entry as Transport]));
}

export async function disconnectAll(transports: Map<string, Transport>): Promise<void> {
  await closeTransports(transports);
}

export const now = (): string => new Date().toISOString();
