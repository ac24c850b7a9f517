// What a running lab offers its users (tests, the demo, an operator): built from lab.json.
import { labDeployUser, labPaths, labSshPort } from './paths.js';
import type { LabEtcdVersion } from './etcd-versions.js';
import { hostRole, labEtcdVersion, labTopology, type LabHostRole, type LabHostState, type LabState, type LabTopology } from './lab-state.js';

export interface LabHostInfo {
  /** Loopback address (inside the lab's network namespace for a bastion lab, except the bastion's). */
  address: string;
  /** etcd member name (`etcd-<address>` kubeasz, the node name kubeadm); the inventory name for nodes and the bastion. */
  name: string;
  /** The host's name in the inventory and ssh_config: its address (kubeasz) or node name (kubeadm, e.g. master-01). */
  inventoryName: string;
  role: LabHostRole;
  /** The host's copy-on-write layer: files the host wrote appear here (e.g. `var/log/lab-systemctl.log`). */
  upperDir: string;
  /** sshd of the host (also the holder of its mount namespace): `nsenter -t <pid> -m -r -w` enters the host. */
  pid: number;
  /** `mnt:[inode]` of the host's mount namespace. */
  mountNamespace: string;
  clientUrl: string;
  peerUrl: string;
  sshdLog: string;
}

export interface LabPkiInfo {
  caFile: string;
  /** kubeasz: the members' server/peer certificate, the inventory's etcd_cert_file (valid for clients too); kubeadm: the client certificate. */
  certFile: string;
  keyFile: string;
  /** Client-only certificate for the deploy host. */
  clientCertFile: string;
  clientKeyFile: string;
}

export interface LabInfo {
  dir: string;
  net: string;
  topology: LabTopology;
  /** The etcd every member runs (3.4: Debian 12's; 3.5: Debian 13's, first in each member's PATH). */
  etcdVersion: LabEtcdVersion;
  inventoryFile: string;
  stateFile: string;
  /** The etcd members (control-plane hosts), in order. */
  hosts: LabHostInfo[];
  /** kube_node-only hosts (`--nodes`). */
  nodes: LabHostInfo[];
  /** The jump host of a `--bastion` lab: the only lab address the deploy host can reach. */
  bastion?: LabHostInfo;
  /** The lab's network namespace (bastion labs): `nsenter --net=<path>` reaches the members directly. */
  netns?: { name: string; path: string };
  /** Host entries for `ssh -F` (ProxyJump bastion in a bastion lab). */
  sshConfigFile: string;
  /** Private key accepted for root and for the non-root `deployUser` on every host. */
  keyFile: string;
  publicKeyFile: string;
  /** known_hosts with only this lab's host keys. */
  knownHostsFile: string;
  /** The deploy host's known_hosts that also got the lab's keys (tagged lines). */
  userKnownHostsFile: string;
  pki: LabPkiInfo;
  sshPort: number;
  deployUser: string;
  /** Where each host's units log, relative to its upper dir. */
  unitLogDir: string;
  /** Start/stop log of the stand-in systemctl, relative to a host's upper dir. */
  systemctlLog: string;
  /** Decision log of the stand-in kubelet (kubeadm), relative to a host's upper dir. */
  kubeletLog: string;
  logsDir: string;
  startupMs: number;
  /** True when `lab up` found this lab already running and changed nothing. */
  alreadyRunning: boolean;
}

function hostInfo(state: LabState, host: LabHostState): LabHostInfo {
  return {
    address: host.address,
    name: host.name,
    inventoryName: host.inventoryName ?? host.address,
    role: hostRole(host),
    upperDir: host.upperDir,
    pid: host.pid ?? 0,
    mountNamespace: host.mountNamespace ?? '',
    clientUrl: `https://${host.address}:2379`,
    peerUrl: `https://${host.address}:2380`,
    sshdLog: host.sshdLog,
  };
}

export function labInfoFromState(state: LabState, alreadyRunning: boolean): LabInfo {
  const paths = labPaths(state.dir);
  const bastion = state.hosts.find((host) => hostRole(host) === 'bastion');
  return {
    dir: state.dir,
    net: state.net,
    topology: labTopology(state),
    etcdVersion: labEtcdVersion(state),
    inventoryFile: paths.inventoryFile,
    stateFile: paths.stateFile,
    hosts: state.hosts.filter((host) => hostRole(host) === 'member').map((host) => hostInfo(state, host)),
    nodes: state.hosts.filter((host) => hostRole(host) === 'node').map((host) => hostInfo(state, host)),
    ...(bastion ? { bastion: hostInfo(state, bastion) } : {}),
    ...(state.netns ? { netns: { name: state.netns, path: `/run/netns/${state.netns}` } } : {}),
    sshConfigFile: paths.sshConfigFile,
    keyFile: paths.keyFile,
    publicKeyFile: paths.publicKeyFile,
    knownHostsFile: paths.knownHostsFile,
    userKnownHostsFile: state.userKnownHostsFile,
    pki: {
      caFile: paths.caFile,
      // kubeadm labs have no shared member certificate: the deploy host's client certificate stands in.
      certFile: labTopology(state) === 'kubeadm' ? paths.clientCertFile : paths.certFile,
      keyFile: labTopology(state) === 'kubeadm' ? paths.clientKeyFile : paths.certKeyFile,
      clientCertFile: paths.clientCertFile,
      clientKeyFile: paths.clientKeyFile,
    },
    sshPort: labSshPort,
    deployUser: labDeployUser,
    unitLogDir: 'var/log/lab-units',
    systemctlLog: 'var/log/lab-systemctl.log',
    kubeletLog: 'var/log/lab-kubelet.log',
    logsDir: paths.logsDir,
    startupMs: state.startupMs ?? 0,
    alreadyRunning,
  };
}
