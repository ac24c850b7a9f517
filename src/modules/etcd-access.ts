// How the modules of a run ask etcd: the deploy host's own client (the inventory's client certificate) or
// etcdctl on each member over SSH with the member's own certificate (`etcd_access`, see
// config/etcd-vars.ts). A unit test may put a fake observer in the run's state.
import { etcdAccess } from '../config/etcd-vars.js';
import type { EtcdMember, Inventory } from '../config/types.js';
import { observeCluster, type ObserveCluster } from '../etcd/cluster/observe.js';
import { membershipOverSsh, type MembershipClient } from '../etcd/cluster/membership-over-ssh.js';
import { observeOverSsh, type MemberClientCerts } from '../etcd/cluster/observe-over-ssh.js';
import { EtcdMemberClient } from '../etcd/client.js';
import type { EtcdSettings } from '../etcd/members/etcd-flags.js';
import { hostRunnerKey } from './host-runner.js';
import { stateKey, type RunState } from './run-state.js';

/** An observer to use instead of the real ones (unit tests). */
export const observeClusterKey = stateKey<ObserveCluster | undefined>('observe-cluster', () => undefined);

/** Settings read on the members (etcd.member-config puts them here), by host. */
export const memberSettingsKey = stateKey<Map<string, { topology: 'systemd' | 'kubeadm'; settings: EtcdSettings }>>(
  'member-settings',
  () => new Map(),
);

export function clusterObserver(state: RunState, inventory: Inventory): ObserveCluster {
  const fake = state.peek(observeClusterKey);
  if (fake) return fake;
  const run = state.peek(hostRunnerKey);
  if (etcdAccess(inventory) === 'ssh' && run) return observeOverSsh(run, (member) => memberClientCerts(state, inventory, member));
  return observeCluster;
}

/** A client for the membership calls, on `peer`: the deploy host's own, or etcdctl on the peer over SSH. */
export async function membershipClient(state: RunState, inventory: Inventory, peer: EtcdMember, timeoutMs: number): Promise<MembershipClient> {
  const run = state.peek(hostRunnerKey);
  if (etcdAccess(inventory) === 'ssh' && run) return membershipOverSsh(run, peer, memberClientCerts(state, inventory, peer), timeoutMs);
  return EtcdMemberClient.open(peer, { timeoutMs });
}

/** The member's own client certificate: the inventory's etcd_member_*_file, else what its configuration names. */
export function memberClientCerts(state: RunState, inventory: Inventory, member: EtcdMember): MemberClientCerts {
  const given = { ca: member.onMember?.caFile, cert: member.onMember?.certFile, key: member.onMember?.keyFile };
  const read = state.peek(memberSettingsKey)?.get(member.host);
  const kubeadm = read?.topology === 'kubeadm' || ['kubeadm', 'static-pod'].includes(String(inventory.hosts.get(member.host)?.vars.etcd_topology));
  const ca = given.ca ?? read?.settings.trustedCaFile ?? (kubeadm ? '/etc/kubernetes/pki/etcd/ca.crt' : member.caFile);
  // kubeadm's server certificate is for serving; its healthcheck-client certificate (beside the CA) is for asking.
  const dir = ca?.replace(/\/[^/]*$/, '');
  const cert = given.cert ?? (kubeadm && dir ? `${dir}/healthcheck-client.crt` : (read?.settings.certFile ?? member.certFile));
  const key = given.key ?? (kubeadm && dir ? `${dir}/healthcheck-client.key` : (read?.settings.keyFile ?? member.keyFile));
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}
