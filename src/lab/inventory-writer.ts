// DIR/inventory.yml and DIR/ssh_config: how an operator would describe the lab's hosts.
//   kubeasz: hosts named by address, the lab's etcd certificate paths and token set (kubeasz's own values);
//   kubeadm: hosts named like nodes with `ansible_host`, and nothing about etcd (no etcd_name, no
//   etcd_topology, no certificate paths): on a kubeadm cluster those are in each member's manifest.
//   --bastion: members are reached through the jump host (`ansible_ssh_common_args: -o ProxyJump=...`).
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { bastionName } from './lab-layout.js';
import { hostRole, labTopology, type LabHostState, type LabState } from './lab-state.js';
import type { LabPaths } from './paths.js';
import { etcdClusterToken } from './units.js';

function inventoryName(host: LabHostState): string {
  return host.inventoryName ?? host.address;
}

export function renderLabInventory(paths: LabPaths, state: LabState): string {
  const kubeadm = labTopology(state) === 'kubeadm';
  const members = state.hosts.filter((host) => hostRole(host) === 'member');
  const nodes = state.hosts.filter((host) => hostRole(host) === 'node');
  const bastion = state.hosts.find((host) => hostRole(host) === 'bastion');
  const entries = (hosts: LabHostState[]): Record<string, Record<string, string>> =>
    Object.fromEntries(hosts.map((host): [string, Record<string, string>] => [inventoryName(host), kubeadm ? { ansible_host: host.address } : {}]));
  const vars: Record<string, string> = {
    ansible_user: 'root',
    ansible_ssh_private_key_file: paths.keyFile,
    ...(kubeadm
      ? {}
      : { etcd_ca_file: paths.caFile, etcd_cert_file: paths.certFile, etcd_key_file: paths.certKeyFile, etcd_cluster_token: etcdClusterToken }),
    ...(bastion ? { ansible_ssh_common_args: `-o ProxyJump=root@${bastion.address}` } : {}),
    backup_dir: 'backups',
  };
  const inventory = {
    all: {
      vars,
      children: { etcd: { hosts: entries(members) }, kube_master: { hosts: entries(members) }, kube_node: { hosts: entries([...members, ...nodes]) } },
    },
  };
  const header = [
    '# Inventory of the orchestrate lab in this folder (written by `orchestrate lab up`).',
    kubeadm
      ? '# kubeadm topology: hosts are named like nodes; etcd runs as a static pod under kubelet, and its name, URLs,\n# data dir and certificates are in each member\'s /etc/kubernetes/manifests/etcd.yaml (nothing about etcd here).'
      : '# Hosts are named by address as kubeasz does; each member runs sshd on port 22 and one etcd member under TLS.\n# The same certificate and key paths work on the deploy host and on every member.',
    ...(bastion ? [`# Every host is reached through the bastion ${bastion.address} (ProxyJump); ${paths.dir}/ssh_config says the same for ssh.`] : []),
    `# known_hosts: ${paths.knownHostsFile}. The deploy host's own etcd client certificate: ${paths.clientCertFile} (CA ${paths.caFile}).`,
    '',
  ].join('\n');
  return `${header}${stringify(inventory, { aliasDuplicateObjects: false })}`;
}

/** Host entries as an operator writes them in ~/.ssh/config, the members behind `ProxyJump bastion` when there is one. */
export function renderLabSshConfig(paths: LabPaths, state: LabState): string {
  const bastion = state.hosts.find((host) => hostRole(host) === 'bastion');
  const entry = (name: string, address: string, jump: boolean): string =>
    [
      `Host ${name}`,
      `  HostName ${address}`,
      '  User root',
      `  IdentityFile ${paths.keyFile}`,
      '  IdentitiesOnly yes',
      ...(jump ? [`  ProxyJump ${bastionName}`] : []),
      `  UserKnownHostsFile ${paths.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n');
  const blocks = [
    `# ssh_config of the orchestrate lab in ${paths.dir} (written by \`orchestrate lab up\`): ssh -F ${paths.dir}/ssh_config <host>\n`,
    ...(bastion ? [entry(bastionName, bastion.address, false)] : []),
    ...state.hosts.filter((host) => hostRole(host) !== 'bastion').map((host) => entry(inventoryName(host), host.address, bastion !== undefined)),
  ];
  return blocks.join('\n');
}

export async function writeLabInventory(paths: LabPaths, state: LabState): Promise<void> {
  await writeFile(paths.inventoryFile, renderLabInventory(paths, state), { mode: 0o644 });
  await writeFile(paths.sshConfigFile, renderLabSshConfig(paths, state), { mode: 0o644 });
}
