// etcd and Kubernetes variables of an inventory, with kubeasz's defaults applied.
import { isIPv6Literal } from './ipv6-literal.js';
import * as path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { EtcdMember, Inventory, InventoryHost } from './types.js';
import { expandHome } from './connection.js';
import { inventoryMeta } from './inventory-meta.js';
import { problemAtOrigin } from './origin.js';

/** kubeasz's conventions, used when a variable is not set for a host or any of its groups. */
export const etcdDefaults = {
  dataDir: '/var/lib/etcd',
  clusterToken: 'etcd-cluster-0',
  service: 'etcd',
  peerPort: 2380,
  clientPort: 2379,
  kubeMasterServices: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
  kubeNodeServices: ['kubelet', 'kube-proxy'],
  /** Relative to the inventory's folder: backups land next to the inventory unless told otherwise. */
  backupDir: 'backups',
} as const;

/** The group kubeasz puts etcd members in. */
export const ETCD_GROUP = 'etcd';

export function stringVar(host: InventoryHost, name: string): string | undefined {
  const value = host.vars[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function listVar(host: InventoryHost, name: string): string[] | undefined {
  const value = host.vars[name];
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}

/** The address the host is reached at: `ansible_host`, else the inventory hostname. */
export function hostAddress(host: InventoryHost): string {
  return stringVar(host, 'ansible_host') ?? stringVar(host, 'ansible_ssh_host') ?? host.name;
}

/** `host:port` for a URL, with brackets around IPv6 addresses. */
export function urlHost(address: string, port: number): string {
  return `${isIPv6Literal(address) ? `[${address}]` : address}:${port}`;
}

/** The member a host of group `etcd` is, after kubeasz's defaults. */
export function etcdMemberFor(host: InventoryHost): EtcdMember {
  const address = hostAddress(host);
  const member: EtcdMember = {
    host: host.name,
    name: stringVar(host, 'etcd_name') ?? `etcd-${host.name}`,
    address,
    peerUrl: stringVar(host, 'etcd_peer_url') ?? `https://${urlHost(address, etcdDefaults.peerPort)}`,
    clientUrl: stringVar(host, 'etcd_client_url') ?? `https://${urlHost(address, etcdDefaults.clientPort)}`,
    dataDir: stringVar(host, 'etcd_data_dir') ?? etcdDefaults.dataDir,
    token: stringVar(host, 'etcd_cluster_token') ?? etcdDefaults.clusterToken,
    service: stringVar(host, 'etcd_service') ?? etcdDefaults.service,
  };
  const caFile = stringVar(host, 'etcd_ca_file');
  const certFile = stringVar(host, 'etcd_cert_file');
  const keyFile = stringVar(host, 'etcd_key_file');
  if (caFile) member.caFile = caFile;
  if (certFile) member.certFile = certFile;
  if (keyFile) member.keyFile = keyFile;
  const onMember = {
    ...optional('caFile', stringVar(host, 'etcd_member_ca_file')),
    ...optional('certFile', stringVar(host, 'etcd_member_cert_file')),
    ...optional('keyFile', stringVar(host, 'etcd_member_key_file')),
  };
  if (Object.keys(onMember).length > 0) member.onMember = onMember;
  return member;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** The member's TLS files as a command running on the member must name them. */
export function memberTlsFiles(member: EtcdMember): { caFile?: string; certFile?: string; keyFile?: string } {
  const caFile = member.onMember?.caFile ?? member.caFile;
  const certFile = member.onMember?.certFile ?? member.certFile;
  const keyFile = member.onMember?.keyFile ?? member.keyFile;
  return { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
}

/** Members of group `etcd`, in file order; empty when the group is missing or empty. */
export function etcdMembers(inventory: Inventory): EtcdMember[] {
  const names = inventory.groups.get(ETCD_GROUP) ?? [];
  return names.flatMap((name) => {
    const host = inventory.hosts.get(name);
    return host ? [etcdMemberFor(host)] : [];
  });
}

/** Members of group `etcd`, or a ConfigError (pointing at the inventory) for commands that cannot work without them. */
export function requireEtcd(inventory: Inventory): EtcdMember[] {
  const members = etcdMembers(inventory);
  if (members.length > 0) return members;
  throw new ConfigError([missingEtcdProblem(inventory)]);
}

export function missingEtcdProblem(inventory: Inventory, severity: 'error' | 'warning' = 'error'): ConfigProblem {
  const defined = inventory.groups.has(ETCD_GROUP);
  const meta = inventoryMeta(inventory);
  const fields = {
    severity,
    code: defined ? 'inventory.empty-etcd-group' : 'inventory.missing-etcd-group',
    message: defined ? 'group "etcd" has no hosts' : 'the inventory has no group "etcd"',
    expected: 'the etcd members listed under a group named etcd',
    hint: 'add the members, e.g.\n    all:\n      children:\n        etcd:\n          hosts:\n            10.0.0.1:\n  or, in an INI inventory:\n    [etcd]\n    10.0.0.1',
  };
  const origin = meta?.groupOrigins.get(ETCD_GROUP) ?? meta?.fileOrigin;
  if (origin) return problemAtOrigin(origin, fields);
  return { ...fields, loc: { file: inventory.file, line: 1, col: 1 } };
}

/**
 * How orchestrate asks etcd: `client` (the deploy host's etcd client, with the inventory's client
 * certificate) or `ssh` (etcdctl on each member over SSH, with the member's own certificate). `auto` (the
 * default): ssh when the members speak TLS and the inventory gives the deploy host no client certificate.
 */
export function etcdAccess(inventory: Inventory): 'client' | 'ssh' {
  const first = etcdMembers(inventory)[0];
  const host = first ? inventory.hosts.get(first.host) : undefined;
  const chosen = host?.vars.etcd_access;
  if (chosen === 'client' || chosen === 'ssh') return chosen;
  return first && first.clientUrl.startsWith('https:') && first.certFile === undefined ? 'ssh' : 'client';
}

/** Units stopped and started around a restore on control-plane hosts. */
export function kubeMasterServices(host: InventoryHost): string[] {
  return listVar(host, 'kube_master_services') ?? [...etcdDefaults.kubeMasterServices];
}

/** Units stopped and started around a restore on worker hosts. */
export function kubeNodeServices(host: InventoryHost): string[] {
  return listVar(host, 'kube_node_services') ?? [...etcdDefaults.kubeNodeServices];
}

/**
 * Folder for snapshots on the deploy host. Taken from the first etcd member's variables (which include
 * `all` and `etcd` group vars), else from `all`; relative paths and the default (`backups`) resolve against
 * the inventory's folder, so an inventory and its backups stay together wherever the command is run from.
 */
export function backupDir(inventory: Inventory): string {
  const firstMember = inventory.groups.get(ETCD_GROUP)?.[0];
  const host = firstMember === undefined ? undefined : inventory.hosts.get(firstMember);
  const fromHost = host ? stringVar(host, 'backup_dir') : undefined;
  const fromAll = inventory.groupVars?.get('all')?.backup_dir;
  const configured = fromHost ?? (typeof fromAll === 'string' && fromAll !== '' ? fromAll : undefined) ?? etcdDefaults.backupDir;
  return path.resolve(inventory.dir, expandHome(configured));
}
