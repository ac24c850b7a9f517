// `lab up`: N real hosts on this machine, each with its own filesystem view, sshd and etcd member.
import { mkdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { withDirLock } from './dir-lock.js';
import { waitForHealthyCluster } from './etcd-health.js';
import { prepareHostFiles } from './host-files.js';
import { hostSystemctl } from './host-exec.js';
import { portInUse, spawnHostHolder, waitForOwnNamespace, waitForSshd } from './host-start.js';
import { writeLabInventory } from './inventory-writer.js';
import { addLabKnownHosts, knownHostsLines, knownHostsTag, type KnownHostsEdit } from './known-hosts-file.js';
import { takeLabDown } from './lab-down.js';
import { LabError, requireRoot } from './lab-error.js';
import { labInfoFromState, type LabInfo } from './lab-info.js';
import { readLabState, writeLabState, type LabState } from './lab-state.js';
import {
  defaultLabMembers,
  defaultLabNet,
  etcdMemberName,
  labAddresses,
  labHostPaths,
  labPaths,
  parseLabNet,
  parseMemberCount,
  resolveLabDir,
  type LabPaths,
} from './paths.js';
import { createLabPki } from './pki.js';
import { isSameProcessAlive } from './processes.js';
import { labSeedKeys, seedLabData } from './seed-data.js';
import { createClientKey, type HostPublicKey } from './ssh-keys.js';
import { readSystemctlAsset } from './systemctl-asset.js';
import { etcdServiceName, initialCluster, kubeServices } from './units.js';

export interface LabUpOptions {
  dir: string;
  /** First three octets inside 127.0.0.0/8; default 127.0.100. */
  net?: string;
  /** 1 to 7; default 3. */
  members?: number;
  /** The deploy host's known_hosts that gets the lab's host keys; default ~/.ssh/known_hosts. */
  userKnownHostsFile?: string;
  /** Leave a lab that failed to come up in place, for its logs. */
  keepOnFailure?: boolean;
  onProgress?: (message: string) => void;
}

export interface LabUpResult extends LabInfo {
  /** Set when a running lab was found with another --net or --members than asked for. */
  differsFromRequest?: string;
  knownHosts?: KnownHostsEdit;
}

const sshdTimeoutMs = 10_000;
const etcdTimeoutMs = 25_000;

/** A lab counts as running when every host's holder (sshd) is still the process lab up started. */
export async function labIsRunning(state: LabState): Promise<boolean> {
  if (state.phase !== 'up' || state.hosts.length === 0) return false;
  const alive = await Promise.all(
    state.hosts.map((host) =>
      host.pid !== undefined && host.startTime !== undefined ? isSameProcessAlive({ pid: host.pid, startTime: host.startTime }) : false,
    ),
  );
  return alive.every(Boolean);
}

async function refuseBusyAddresses(addresses: readonly string[]): Promise<void> {
  const checks = await Promise.all(
    addresses.flatMap((address) => [22, 2379, 2380].map(async (port) => ({ address, port, used: await portInUse(address, port) }))),
  );
  const busy = checks.filter((check) => check.used);
  if (busy.length > 0) {
    throw new LabError(
      `cannot start the lab: ${busy.map((check) => `${check.address}:${check.port}`).join(', ')} already in use`,
      'another lab (or service) uses these addresses: take it down, or pick another network with --net 127.0.<n>',
      'lab.address-in-use',
    );
  }
}

export async function labUp(options: LabUpOptions): Promise<LabUpResult> {
  requireRoot('`lab up`');
  const began = Date.now();
  const dir = resolveLabDir(options.dir);
  const net = parseLabNet(options.net ?? defaultLabNet);
  const members = parseMemberCount(options.members ?? defaultLabMembers);
  const progress = options.onProgress ?? ((): void => undefined);
  const paths = labPaths(dir);
  const createdDir = !(await stat(dir).catch(() => undefined));
  await mkdir(dir, { recursive: true, mode: 0o755 });

  try {
    return await bringUpLocked(options, { dir, net, members, began, createdDir, paths, progress });
  } catch (error) {
    // A folder this call created and left empty (e.g. refused before anything started) goes away again.
    if (createdDir) await rmdir(dir).catch(() => undefined);
    throw error;
  }
}

interface UpPlan {
  dir: string;
  net: string;
  members: number;
  began: number;
  createdDir: boolean;
  paths: LabPaths;
  progress: (message: string) => void;
}

async function bringUpLocked(options: LabUpOptions, plan: UpPlan): Promise<LabUpResult> {
  const { dir, net, members, began, createdDir, paths, progress } = plan;
  return withDirLock(paths.lockDir, `bringing the lab in ${dir} up`, async () => {
    const existing = await readLabState(paths.stateFile);
    if (existing && (await labIsRunning(existing))) {
      const info: LabUpResult = labInfoFromState(existing, true);
      const netDiffers = options.net !== undefined && existing.net !== net;
      const membersDiffer = options.members !== undefined && existing.hosts.length !== members;
      if (netDiffers || membersDiffer) {
        info.differsFromRequest = `it runs ${existing.hosts.length} member(s) on ${existing.net}.x, not ${members} on ${net}.x; run \`orchestrate lab down --dir ${dir}\` first to change it`;
      }
      return info;
    }
    if (existing) {
      progress(existing.phase === 'up' ? 'clearing a lab whose hosts no longer all run' : 'clearing a lab that did not come up completely');
      await takeLabDown(paths, existing);
    } else if (await stat(paths.hostsDir).catch(() => undefined)) {
      throw new LabError(
        `${dir} has a hosts/ folder but no lab.json`,
        `take care of any processes still running from it, then remove ${paths.hostsDir}`,
        'lab.no-state',
      );
    }

    const addresses = labAddresses(net, members);
    await refuseBusyAddresses(addresses);
    const userKnownHostsFile = options.userKnownHostsFile ?? join(homedir(), '.ssh', 'known_hosts');
    const state: LabState = {
      version: 1,
      phase: 'creating',
      dir,
      net,
      createdAt: new Date(began).toISOString(),
      userKnownHostsFile,
      knownHostsTag: knownHostsTag(dir),
      createdDir: existing?.createdDir ?? createdDir,
      hosts: addresses.map((address) => {
        const host = labHostPaths(paths, address);
        return {
          address,
          name: etcdMemberName(address),
          upperDir: host.upperDir,
          workDir: host.workDir,
          mergedDir: host.mergedDir,
          sshdLog: host.sshdLog,
        };
      }),
    };
    // Written before anything starts, so `lab down` can always find what was started.
    await writeLabState(paths.stateFile, state);
    try {
      const result = await bringUp(paths, state, userKnownHostsFile, progress);
      state.phase = 'up';
      state.startupMs = Date.now() - began;
      await writeLabState(paths.stateFile, state);
      const info: LabUpResult = labInfoFromState(state, false);
      info.knownHosts = result.knownHosts;
      return info;
    } catch (error) {
      if (!options.keepOnFailure) {
        progress('lab up failed: taking down what was started');
        await takeLabDown(paths, state).catch(() => undefined);
      }
      throw error;
    }
  });
}

async function bringUp(
  paths: LabPaths,
  state: LabState,
  userKnownHostsFile: string,
  progress: (message: string) => void,
): Promise<{ knownHosts: KnownHostsEdit }> {
  const addresses = state.hosts.map((host) => host.address);
  // Everything hosts read at the deploy host's paths must exist before their overlays are mounted.
  progress('creating CA, etcd and client certificates, and the SSH key pair');
  await mkdir(paths.logsDir, { recursive: true, mode: 0o755 });
  const [, authorizedKey, systemctlScript] = await Promise.all([createLabPki(paths, addresses), createClientKey(paths), readSystemctlAsset()]);

  progress(`preparing ${state.hosts.length} host(s): host keys, sshd, deploy user, units, stand-in systemctl`);
  const cluster = initialCluster(state.hosts);
  const hostKeys = new Map<string, HostPublicKey[]>();
  await Promise.all(
    state.hosts.map(async (host) => {
      const keys = await prepareHostFiles({
        paths,
        host: labHostPaths(paths, host.address),
        name: host.name,
        initialCluster: cluster,
        systemctlScript,
        authorizedKey,
      });
      hostKeys.set(host.address, keys);
    }),
  );
  const ordered = new Map(addresses.map((address) => [address, hostKeys.get(address) ?? []]));
  await writeFile(paths.knownHostsFile, `${knownHostsLines(ordered).join('\n')}\n`, { mode: 0o644 });
  const knownHosts = await addLabKnownHosts(userKnownHostsFile, state.knownHostsTag, ordered);

  progress('starting sshd in each host');
  for (const host of state.hosts) {
    const started = await spawnHostHolder(labHostPaths(paths, host.address));
    host.pid = started.pid;
    host.startTime = started.startTime;
    await writeLabState(paths.stateFile, state);
  }
  for (const host of state.hosts) {
    host.mountNamespace = await waitForOwnNamespace(labHostPaths(paths, host.address), host.pid ?? 0, 5_000);
  }
  await writeLabState(paths.stateFile, state);
  await Promise.all(state.hosts.map((host) => waitForSshd(labHostPaths(paths, host.address), host.pid ?? 0, sshdTimeoutMs)));

  progress('starting etcd on every member at once (they need each other for quorum)');
  await Promise.all(state.hosts.map((host) => systemctlInHost(host.address, host.pid ?? 0, ['enable', '--now', etcdServiceName])));
  const files = { caFile: paths.caFile, certFile: paths.clientCertFile, keyFile: paths.clientKeyFile };
  await waitForHealthyCluster(files, state.hosts, etcdTimeoutMs);

  progress('starting the Kubernetes stand-ins and seeding /registry keys');
  await Promise.all([
    ...state.hosts.map((host) => systemctlInHost(host.address, host.pid ?? 0, ['enable', '--now', ...kubeServices])),
    seedLabData(files, addresses[0] ?? '', labSeedKeys(addresses)),
  ]);
  await writeLabInventory(paths, addresses);
  return { knownHosts };
}

async function systemctlInHost(address: string, pid: number, args: string[]): Promise<void> {
  const result = await hostSystemctl(pid, args);
  if (result.code !== 0) {
    throw new LabError(`host ${address}: systemctl ${args.join(' ')} exited with ${result.code ?? result.signal}: ${result.stderr.trim()}`);
  }
}
