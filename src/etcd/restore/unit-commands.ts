// systemd units around a restore (kubeasz): etcd and the kube-* components; kubeadm's static pods are in static-pods.ts.
import { UsageError } from '../../errors.js';
import type { Inventory } from '../../config/types.js';
import { kubeMasterServices, kubeNodeServices } from '../../config/etcd-vars.js';
import { shellJoin, shellQuote } from '../../shell/quote.js';

/** The services of one host, in the order they start (they stop in reverse). */
export interface HostServices {
  host: string;
  kubeNode: string[];
  kubeMaster: string[];
}

/** `etcd_topology`, where set, forces how a host runs etcd: `systemd` (kubeasz) or `kubeadm` (`static-pod`). */
export function checkTopologyVariable(inventory: Inventory): void {
  for (const [name, host] of inventory.hosts) {
    const value = host.vars.etcd_topology;
    if (value === undefined || value === 'systemd' || value === 'kubeadm' || value === 'static-pod') continue;
    throw new UsageError(
      `${name}: unknown etcd_topology ${JSON.stringify(value)}`,
      'use systemd (kubeasz units) or kubeadm (static pods), or leave it out to detect it on each host',
    );
  }
}

/** Hosts of the kube_node and kube_master groups with their units (`kube_node_services` / `kube_master_services`, else kubeasz's defaults). */
export function hostServices(inventory: Inventory): HostServices[] {
  const nodes = new Set(inventory.groups.get('kube_node') ?? []);
  const masters = new Set(inventory.groups.get('kube_master') ?? []);
  const result: HostServices[] = [];
  for (const [name, host] of inventory.hosts) {
    if (!nodes.has(name) && !masters.has(name)) continue;
    result.push({
      host: name,
      kubeNode: nodes.has(name) ? kubeNodeServices(host) : [],
      kubeMaster: masters.has(name) ? kubeMasterServices(host) : [],
    });
  }
  return result;
}

/**
 * Stop units and wait (bounded) until every one is really inactive. One command per host and group:
 * the wait is a constant script, the unit names reach it quoted, as its arguments.
 */
export function stopUnitsCommand(units: readonly string[], waitSeconds = 90): string {
  const list = shellJoin(units);
  return [
    `systemctl stop ${list} || exit $?`,
    `timeout ${waitSeconds} sh -c 'for u in "$@"; do while systemctl is-active --quiet "$u"; do sleep 0.2; done; done' sh ${list} || { echo ${shellQuote(`still active after ${waitSeconds}s: ${units.join(' ')}`)} >&2; exit 1; }`,
  ].join('; ');
}

/** Start units in order and wait (bounded) until every one reports active. */
export function startUnitsCommand(units: readonly string[], waitSeconds = 90): string {
  const list = shellJoin(units);
  return [
    `systemctl start ${list} || exit $?`,
    `timeout ${waitSeconds} sh -c 'for u in "$@"; do until systemctl is-active --quiet "$u"; do sleep 0.2; done; done' sh ${list} || { echo ${shellQuote(`not active after ${waitSeconds}s: ${units.join(' ')}`)} >&2; exit 1; }`,
  ].join('; ');
}

/**
 * Start etcd without waiting for `active` here: under systemd (Type=notify) `systemctl start` returns once the
 * member is ready, and whether the cluster formed is what the verification step checks through the client.
 */
export function startEtcdCommand(unit: string): string {
  return shellJoin(['systemctl', 'start', unit]);
}
