// Who is who in a lab, before anything starts: addresses, names and roles of its hosts. Pure.
//   kubeasz: members named etcd-<address> and listed by address, as kubeasz names hosts;
//   kubeadm: hosts named like nodes (master-01, node-01), each member's etcd named after its node.
// Members take <net>.1..N, kube_node-only hosts <net>.N+1..N+M, the bastion <net>.254.
import { UsageError } from '../errors.js';
import type { LabHostRole, LabTopology } from './lab-state.js';

export const labTopologies = ['kubeasz', 'kubeadm'] as const;
export const defaultLabTopology: LabTopology = 'kubeasz';
export const maxLabNodes = 200;
export const bastionHostNumber = 254;
export const bastionName = 'bastion';

export interface PlannedHost {
  address: string;
  /** etcd member name for members; the inventory name otherwise. */
  name: string;
  inventoryName: string;
  role: LabHostRole;
}

export function parseLabTopology(text: string): LabTopology {
  const found = labTopologies.find((topology) => topology === text.trim());
  if (!found) throw new UsageError(`--topology must be one of ${labTopologies.join(', ')}, got "${text}"`, 'for example --topology kubeadm');
  return found;
}

export function parseNodeCount(text: string | number): number {
  const count = typeof text === 'number' ? text : Number(text);
  if (!Number.isInteger(count) || count < 0 || count > maxLabNodes) {
    throw new UsageError(`--nodes must be a whole number from 0 to ${maxLabNodes}, got "${text}"`, 'for example --nodes 10');
  }
  return count;
}

function numbered(prefix: string, index: number, total: number): string {
  return `${prefix}-${String(index).padStart(Math.max(2, String(total).length), '0')}`;
}

export function planLabHosts(options: { net: string; members: number; nodes: number; topology: LabTopology; bastion: boolean }): PlannedHost[] {
  const { net, members, nodes, topology } = options;
  const hosts: PlannedHost[] = [];
  for (let index = 1; index <= members; index++) {
    const address = `${net}.${index}`;
    const inventoryName = topology === 'kubeadm' ? numbered('master', index, members) : address;
    hosts.push({ address, name: topology === 'kubeadm' ? inventoryName : `etcd-${address}`, inventoryName, role: 'member' });
  }
  for (let index = 1; index <= nodes; index++) {
    const address = `${net}.${members + index}`;
    const inventoryName = topology === 'kubeadm' ? numbered('node', index, nodes) : address;
    hosts.push({ address, name: inventoryName, inventoryName, role: 'node' });
  }
  if (options.bastion) hosts.push({ address: `${net}.${bastionHostNumber}`, name: bastionName, inventoryName: bastionName, role: 'bastion' });
  return hosts;
}
