// DIR/inventory.yml: a kubeasz-style Ansible inventory of the lab that the tool reads as it is.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { LabPaths } from './paths.js';
import { etcdClusterToken } from './units.js';

export function renderLabInventory(paths: LabPaths, addresses: readonly string[]): string {
  const hosts = Object.fromEntries(addresses.map((address) => [address, {}]));
  const inventory = {
    all: {
      vars: {
        ansible_user: 'root',
        ansible_ssh_private_key_file: paths.keyFile,
        etcd_ca_file: paths.caFile,
        etcd_cert_file: paths.certFile,
        etcd_key_file: paths.certKeyFile,
        etcd_cluster_token: etcdClusterToken,
        backup_dir: 'backups',
      },
      children: {
        etcd: { hosts },
        kube_master: { hosts },
        kube_node: { hosts },
      },
    },
  };
  const header = [
    '# Inventory of the orchestrate lab in this folder (written by `orchestrate lab up`).',
    '# Hosts are named by address as kubeasz does; each runs sshd on port 22 and one etcd member under TLS.',
    `# The same certificate and key paths work on the deploy host and on every member. known_hosts: ${paths.knownHostsFile}`,
    '',
  ].join('\n');
  return `${header}${stringify(inventory, { aliasDuplicateObjects: false })}`;
}

export async function writeLabInventory(paths: LabPaths, addresses: readonly string[]): Promise<void> {
  await writeFile(paths.inventoryFile, renderLabInventory(paths, addresses), { mode: 0o644 });
}
