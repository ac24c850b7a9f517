// lab.json: the record of one lab, written before anything starts and updated as it comes up,
// so `lab down` can always find what `lab up` started, even after a crash half-way.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { LabEtcdVersion } from './etcd-versions.js';
import { LabError } from './lab-error.js';

/** How the control plane runs: kubeasz's systemd units, or kubeadm's static pods under kubelet. */
export type LabTopology = 'kubeasz' | 'kubeadm';
/** member: an etcd member and control-plane host; node: kube_node only; bastion: the jump host. */
export type LabHostRole = 'member' | 'node' | 'bastion';

export interface LabHostState {
  address: string;
  /** etcd member name (`etcd-<address>` kubeasz, the node name kubeadm); for other roles the inventory name. */
  name: string;
  /** Absent in records of earlier versions: member. */
  role?: LabHostRole;
  /** The host's name in the inventory (kubeasz: its address; kubeadm: its node name). Absent: the address. */
  inventoryName?: string;
  upperDir: string;
  workDir: string;
  mergedDir: string;
  sshdLog: string;
  /** The holder process: unshare, then chroot, then exec'd into sshd -D (one pid throughout). */
  pid?: number;
  startTime?: string;
  /** `mnt:[inode]` of the host's private mount namespace. */
  mountNamespace?: string;
}

export interface LabState {
  version: 1;
  /** `creating` until every host runs and etcd is healthy, then `up`. */
  phase: 'creating' | 'up';
  dir: string;
  net: string;
  /** Absent in records of earlier versions: kubeasz and 3.4. */
  topology?: LabTopology;
  etcdVersion?: LabEtcdVersion;
  /** The network namespace the lab created for its hosts (bastion labs), e.g. `orchestrate-lab-1a2b3c4d`. */
  netns?: string;
  createdAt: string;
  /** Milliseconds `lab up` took, once up. */
  startupMs?: number;
  /** The deploy host's known_hosts that got this lab's keys, and the tag on those lines. */
  userKnownHostsFile: string;
  knownHostsTag: string;
  /** True when `lab up` created DIR itself (then `lab down` removes it if nothing else is left in it). */
  createdDir: boolean;
  hosts: LabHostState[];
}

export async function readLabState(file: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as { version?: unknown; hosts?: unknown };
    if (parsed.version !== 1 || !Array.isArray(parsed.hosts)) throw new Error('unknown layout');
    return parsed as LabState;
  } catch (error) {
    throw new LabError(
      `${file} is not a lab record this version understands (${(error as Error).message})`,
      `stop any lab processes by hand and remove ${file}`,
      'lab.bad-state',
    );
  }
}

/** Atomic replace, so a reader never sees half a file. */
export async function writeLabState(file: string, state: LabState): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
}

export function hostRole(host: LabHostState): LabHostRole {
  return host.role ?? 'member';
}

export function labTopology(state: LabState): LabTopology {
  return state.topology ?? 'kubeasz';
}

export function labEtcdVersion(state: LabState): LabEtcdVersion {
  return state.etcdVersion ?? '3.4';
}

/** The deploy host's client certificate of a lab, reaching its members from inside its network namespace if it has one. */
export function labClientFiles(state: LabState): { caFile: string; certFile: string; keyFile: string; netnsPath?: string } {
  const pki = `${state.dir}/pki`;
  return {
    caFile: `${pki}/ca.pem`,
    certFile: `${pki}/client.pem`,
    keyFile: `${pki}/client-key.pem`,
    ...(state.netns ? { netnsPath: `/run/netns/${state.netns}` } : {}),
  };
}
