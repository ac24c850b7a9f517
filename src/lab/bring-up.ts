// The steps of `lab up` once the lab's record exists: certificates and keys, each host's files, the hosts
// themselves (sshd), then etcd and the Kubernetes stand-ins the way the lab's topology runs them.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { bastionProgram, bastionSshdExtra, writeBastionFiles } from './bastion.js';
import { hostConcurrency, mapLimit } from './concurrency.js';
import type { EtcdBinaries } from './etcd-versions.js';
import { prepareHostFiles, type LabAssets } from './host-files.js';
import { spawnHostHolder, waitForOwnNamespace, waitForSshd, type HolderOptions } from './host-start.js';
import { writeLabInventory } from './inventory-writer.js';
import { addLabKnownHosts, knownHostsLines, type KnownHostsEdit } from './known-hosts-file.js';
import type { PlannedHost } from './lab-layout.js';
import { hostRole, labTopology, writeLabState, type LabHostState, type LabState } from './lab-state.js';
import { labHostPaths, type LabPaths } from './paths.js';
import { createLabCa, createLabPki, issueDeployClient } from './pki.js';
import { createLabNetns, netnsPath } from './netns.js';
import { createClientKey, type HostPublicKey } from './ssh-keys.js';
import { startKubeadmHosts, startKubeaszHosts } from './start-topology.js';
import { packagePath } from '../package-root.js';

const sshdTimeoutMs = 10_000;

export interface BringUpContext {
  paths: LabPaths;
  state: LabState;
  etcd: EtcdBinaries;
  userKnownHostsFile: string;
  progress: (message: string) => void;
}

export function plannedOf(host: LabHostState): PlannedHost {
  return { address: host.address, name: host.name, inventoryName: host.inventoryName ?? host.address, role: hostRole(host) };
}

async function readAssets(): Promise<LabAssets> {
  const asset = (name: string): Promise<string> => readFile(packagePath('src', 'lab', 'assets', name), 'utf8');
  const [systemctl, kubelet, shim, parser, crictl] = await Promise.all(
    ['systemctl.sh', 'kubelet.sh', 'lab-cri-shim.sh', 'parse-manifests.mjs', 'crictl.mjs'].map(asset),
  );
  return { systemctl: systemctl ?? '', kubelet: kubelet ?? '', shim: shim ?? '', parser: parser ?? '', crictl: crictl ?? '' };
}

async function createCredentials(context: BringUpContext): Promise<{ authorizedKey: string; assets: LabAssets }> {
  const { paths, state } = context;
  const members = state.hosts.filter((host) => hostRole(host) === 'member').map((host) => host.address);
  const pki = async (): Promise<void> => {
    if (labTopology(state) === 'kubeadm') {
      // kubeadm's etcd CA; each member's own certificates are made with its files.
      await createLabCa(paths, 'etcd-ca');
      await issueDeployClient(paths);
    } else {
      await createLabPki(paths, members);
    }
  };
  const [, authorizedKey, assets] = await Promise.all([pki(), createClientKey(paths), readAssets()]);
  return { authorizedKey, assets };
}

function holderOptions(context: BringUpContext, host: LabHostState): HolderOptions {
  const { state } = context;
  const role = hostRole(host);
  const netns = state.netns ? netnsPath(state.netns) : undefined;
  if (role === 'bastion') return { ...(netns ? { bindNetnsPath: netns } : {}), program: bastionProgram(host.address) };
  return {
    ...(labTopology(state) === 'kubeadm' ? { hostname: host.inventoryName ?? host.address } : {}),
    ...(netns ? { netnsPath: netns } : {}),
  };
}

async function startHolders(context: BringUpContext): Promise<void> {
  const { paths, state } = context;
  // One at a time, each pid recorded before the next starts, so `lab down` finds everything after a crash.
  for (const [index, host] of state.hosts.entries()) {
    const started = await spawnHostHolder(labHostPaths(paths, host.address), holderOptions(context, host));
    host.pid = started.pid;
    host.startTime = started.startTime;
    if (index % 16 === 15 || index === state.hosts.length - 1) await writeLabState(paths.stateFile, state);
  }
  await mapLimit(state.hosts, hostConcurrency, async (host) => {
    host.mountNamespace = await waitForOwnNamespace(labHostPaths(paths, host.address), host.pid ?? 0, 10_000);
  });
  await writeLabState(paths.stateFile, state);
  await mapLimit(state.hosts, hostConcurrency * 2, (host) =>
    waitForSshd(labHostPaths(paths, host.address), host.pid ?? 0, sshdTimeoutMs, state.netns !== undefined && hostRole(host) !== 'bastion'),
  );
}

export async function bringUp(context: BringUpContext): Promise<{ knownHosts: KnownHostsEdit }> {
  const { paths, state, progress } = context;
  // Everything hosts read at the deploy host's paths must exist before their overlays are mounted.
  progress('creating the CA, certificates and the SSH key pair');
  await mkdir(paths.logsDir, { recursive: true, mode: 0o755 });
  const { authorizedKey, assets } = await createCredentials(context);
  if (state.netns) {
    progress(`creating network namespace ${state.netns} for the hosts behind the bastion`);
    await createLabNetns(state.netns);
  }

  progress(`preparing ${state.hosts.length} host(s): host keys, sshd, deploy user, units, stand-ins`);
  const all = state.hosts.map(plannedOf);
  const hostKeys = await mapLimit(state.hosts, hostConcurrency, async (host): Promise<[string, HostPublicKey[]]> => {
    const hostPaths = labHostPaths(paths, host.address);
    const bastion = hostRole(host) === 'bastion';
    const keys = await prepareHostFiles({
      paths,
      host: hostPaths,
      planned: plannedOf(host),
      topology: labTopology(state),
      all,
      assets,
      etcd: context.etcd,
      authorizedKey,
      ...(bastion ? { sshdExtra: bastionSshdExtra } : {}),
    });
    if (bastion) await writeBastionFiles(hostPaths);
    return [host.address, keys];
  });
  const ordered = new Map(hostKeys);
  await writeFile(paths.knownHostsFile, `${knownHostsLines(ordered).join('\n')}\n`, { mode: 0o644 });
  const knownHosts = await addLabKnownHosts(context.userKnownHostsFile, state.knownHostsTag, ordered);

  progress(`starting sshd in each host${state.netns ? ' (members inside the namespace, the bastion outside)' : ''}`);
  await startHolders(context);

  if (labTopology(state) === 'kubeadm') await startKubeadmHosts(context);
  else await startKubeaszHosts(context);
  await writeLabInventory(paths, state);
  return { knownHosts };
}
