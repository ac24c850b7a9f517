// How a command that only reads the cluster asks its members: from here, with the inventory's client
// certificate, or (etcd_access: ssh, where only the members hold one) on each member over SSH, with
// etcdctl and the member's own certificate. One place for status, report and the report that a restore
// or a recovery writes at its end.
import type { Inventory } from '../config/types.js';
import type { ConnectionOptions } from '../engine/connections.js';
import type { ObserveCluster } from '../etcd/cluster/observe.js';
import { positiveInteger } from './command-line.js';

export interface MemberObserver {
  /** Undefined: ask from the deploy host (surveyCluster's default). */
  observe?: ObserveCluster;
  /** Ends the SSH session, if one was opened. */
  close(): Promise<void>;
}

export async function memberObserver(inventory: Inventory, connection: ConnectionOptions): Promise<MemberObserver> {
  const { etcdAccess } = await import('../config/etcd-vars.js');
  if (etcdAccess(inventory) !== 'ssh') return { close: async () => undefined };
  const { EngineSession } = await import('../engine/session.js');
  const { coreCatalog } = await import('../modules/core-catalog.js');
  const { clusterObserver } = await import('../modules/etcd-access.js');
  const session = new EngineSession({ inventory, catalog: coreCatalog, connection });
  return { observe: clusterObserver(session.state, inventory), close: () => session.close() };
}

/** The SSH options of a read-only command (status, report), as the connection pool takes them. */
export function readOnlyConnection(values: {
  'known-hosts'?: string;
  'accept-new-host-keys'?: boolean;
  'connect-timeout'?: string;
  'ssh-config'?: string;
}): ConnectionOptions {
  const connectSeconds = values['connect-timeout'] === undefined ? undefined : positiveInteger(values['connect-timeout'], '--connect-timeout');
  return {
    acceptNewHostKeys: values['accept-new-host-keys'] === true,
    ...(values['known-hosts'] !== undefined ? { knownHostsFile: values['known-hosts'] } : {}),
    ...(values['ssh-config'] !== undefined ? { sshConfigFile: values['ssh-config'] } : {}),
    ...(connectSeconds !== undefined ? { connectTimeoutMs: connectSeconds * 1000 } : {}),
  };
}
