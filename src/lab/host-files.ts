// Everything a lab host needs that differs from the deploy host, written into its upper layer before the
// overlay is mounted: identity, sshd config and host keys, the deploy user, unit files and the stand-ins.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EtcdBinaries } from './etcd-versions.js';
import { addDeployUser } from './host-users.js';
import { writeKubeadmHostFiles } from './kubeadm-files.js';
import { writeKubeaszHostFiles } from './kubeasz-files.js';
import type { PlannedHost } from './lab-layout.js';
import type { LabTopology } from './lab-state.js';
import { labSshPort, type LabHostPaths, type LabPaths } from './paths.js';
import { createHostKeys, labHostKeyTypes, type HostPublicKey } from './ssh-keys.js';
import { writeUpperFile, writeUpperSymlink } from './upper-files.js';

export const labSshdConfigPath = '/etc/ssh/sshd_config_lab';
export const labHostIdentityPath = '/etc/lab-host';
/** Inside each host, so sshd can read it as `deploy` too, whatever the permissions of the lab folder's parents. */
export const labAuthorizedKeysPath = '/etc/ssh/lab_authorized_keys';

export function sshdConfig(address: string, extra: readonly string[] = []): string {
  return [
    `# orchestrate lab: sshd of lab host ${address} (test fixture)`,
    `ListenAddress ${address}`,
    `Port ${labSshPort}`,
    ...labHostKeyTypes.map((type) => `HostKey /etc/ssh/ssh_host_${type}_key`),
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    `AuthorizedKeysFile ${labAuthorizedKeysPath}`,
    'PidFile /run/sshd.pid',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'Subsystem sftp internal-sftp',
    ...extra,
    '',
  ].join('\n');
}

export interface LabAssets {
  systemctl: string;
  kubelet: string;
  shim: string;
  parser: string;
  crictl: string;
}

export interface HostFilesInput {
  paths: LabPaths;
  host: LabHostPaths;
  planned: PlannedHost;
  topology: LabTopology;
  /** Every host of the lab (for /etc/hosts and the etcd members of kubeadm manifests). */
  all: readonly PlannedHost[];
  assets: LabAssets;
  etcd: EtcdBinaries;
  /** The lab client's public key line, authorized for root and deploy. */
  authorizedKey: string;
  /** Extra lines for the host's sshd_config (the bastion logs each forward). */
  sshdExtra?: readonly string[];
}

/** Prepares one host's upper layer; returns its public host keys. */
export async function prepareHostFiles(input: HostFilesInput): Promise<HostPublicKey[]> {
  const { host, planned } = input;
  const upper = host.upperDir;
  await mkdir(upper, { recursive: true, mode: 0o755 });
  await mkdir(host.workDir, { recursive: true, mode: 0o700 });
  await mkdir(host.mergedDir, { recursive: true, mode: 0o755 });

  await writeUpperFile(upper, labHostIdentityPath, `${planned.inventoryName === host.address ? host.address : `${host.address} ${planned.inventoryName}`}\n`, {
    mode: 0o644,
  });
  const hostKeys = await createHostKeys(join(upper, 'etc/ssh'), host.address);
  await writeUpperFile(upper, labSshdConfigPath, sshdConfig(host.address, input.sshdExtra), { mode: 0o644 });
  await writeUpperFile(upper, labAuthorizedKeysPath, `${input.authorizedKey}\n`, { mode: 0o644 });
  await addDeployUser(upper);
  // A fresh node's root shell: the deploy host's own ~/.bashrc (pyenv and the like) would slow every SSH command.
  for (const name of ['.bashrc', '.profile']) {
    const skeleton = await readFile(join('/etc/skel', name), 'utf8').catch(() => '# orchestrate lab\n');
    await writeUpperFile(upper, `/root/${name}`, skeleton, { mode: 0o644 });
  }
  // Installed in this host only; /usr/local/bin comes first in PATH, /usr/bin covers absolute calls.
  await writeUpperFile(upper, '/usr/local/bin/systemctl', input.assets.systemctl, { mode: 0o755 });
  await writeUpperFile(upper, '/usr/bin/systemctl', input.assets.systemctl, { mode: 0o755 });
  if (planned.role === 'bastion') return hostKeys;

  if (planned.role === 'member') for (const link of input.etcd.hostLinks) await writeUpperSymlink(upper, link.path, link.target);
  if (input.topology === 'kubeadm') await writeKubeadmHostFiles(input);
  else await writeKubeaszHostFiles(input);
  return hostKeys;
}
