// What a running lab offers its users (tests, the demo, an operator): built from lab.json.
import { labDeployUser, labHostPaths, labPaths, labSshPort } from './paths.js';
import type { LabState } from './lab-state.js';

export interface LabHostInfo {
  /** Loopback address; also the inventory hostname (kubeasz style). */
  address: string;
  /** etcd member name, `etcd-<address>`. */
  name: string;
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
  /** The members' server/peer certificate; the inventory's etcd_cert_file (valid for clients too). */
  certFile: string;
  keyFile: string;
  /** Client-only certificate for the deploy host. */
  clientCertFile: string;
  clientKeyFile: string;
}

export interface LabInfo {
  dir: string;
  net: string;
  inventoryFile: string;
  stateFile: string;
  hosts: LabHostInfo[];
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
  logsDir: string;
  startupMs: number;
  /** True when `lab up` found this lab already running and changed nothing. */
  alreadyRunning: boolean;
}

export function labInfoFromState(state: LabState, alreadyRunning: boolean): LabInfo {
  const paths = labPaths(state.dir);
  return {
    dir: state.dir,
    net: state.net,
    inventoryFile: paths.inventoryFile,
    stateFile: paths.stateFile,
    hosts: state.hosts.map((host) => ({
      address: host.address,
      name: host.name,
      upperDir: host.upperDir,
      pid: host.pid ?? 0,
      mountNamespace: host.mountNamespace ?? '',
      clientUrl: `https://${host.address}:2379`,
      peerUrl: `https://${host.address}:2380`,
      sshdLog: host.sshdLog ?? labHostPaths(paths, host.address).sshdLog,
    })),
    keyFile: paths.keyFile,
    publicKeyFile: paths.publicKeyFile,
    knownHostsFile: paths.knownHostsFile,
    userKnownHostsFile: state.userKnownHostsFile,
    pki: {
      caFile: paths.caFile,
      certFile: paths.certFile,
      keyFile: paths.certKeyFile,
      clientCertFile: paths.clientCertFile,
      clientKeyFile: paths.clientKeyFile,
    },
    sshPort: labSshPort,
    deployUser: labDeployUser,
    unitLogDir: 'var/log/lab-units',
    systemctlLog: 'var/log/lab-systemctl.log',
    logsDir: paths.logsDir,
    startupMs: state.startupMs ?? 0,
    alreadyRunning,
  };
}
