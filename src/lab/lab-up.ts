// `lab up`: real hosts on this machine, each with its own filesystem view, sshd and (members) an etcd member,
// in the topology asked for (kubeasz units or kubeadm static pods), optionally behind a bastion and with
// kube_node-only hosts.
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { bringUp } from './bring-up.js';
import { withDirLock } from './dir-lock.js';
import { defaultLabEtcdVersion, etcdBinaries, requireEtcdBinaries, type EtcdBinaries, type LabEtcdVersion } from './etcd-versions.js';
import { portInUse } from './host-start.js';
import { knownHostsTag, type KnownHostsEdit } from './known-hosts-file.js';
import { takeLabDown } from './lab-down.js';
import { LabError, requireRoot } from './lab-error.js';
import { labInfoFromState, type LabInfo } from './lab-info.js';
import { defaultLabTopology, parseNodeCount, planLabHosts } from './lab-layout.js';
import { hostRole, readLabState, writeLabState, type LabState, type LabTopology } from './lab-state.js';
import { labNetnsName, netnsExists } from './netns.js';
import { defaultLabMembers, defaultLabNet, labHostPaths, labPaths, parseLabNet, parseMemberCount, resolveLabDir, type LabPaths } from './paths.js';
import { isSameProcessAlive } from './processes.js';

export interface LabUpOptions {
  dir: string;
  /** First three octets inside 127.0.0.0/8; default 127.0.100. */
  net?: string;
  /** etcd members (control-plane hosts), 1 to 7; default 3. */
  members?: number;
  /** kube_node-only hosts (sshd, kubelet and kube-proxy stand-ins, no etcd), 0 to 200; default 0. */
  nodes?: number;
  /** etcd 3.4 (Debian 12's, default) or 3.5 (Debian 13's, fetched by scripts/setup.sh). */
  etcd?: LabEtcdVersion;
  /** kubeasz (systemd units, default) or kubeadm (static pods under a stand-in kubelet). */
  topology?: LabTopology;
  /** Put every host in a network namespace of the lab's own, reachable only through a bastion. */
  bastion?: boolean;
  /** The deploy host's known_hosts that gets the lab's host keys; default ~/.ssh/known_hosts. */
  userKnownHostsFile?: string;
  /** Leave a lab that failed to come up in place, for its logs. */
  keepOnFailure?: boolean;
  onProgress?: (message: string) => void;
}

export interface LabUpResult extends LabInfo {
  /** Set when a running lab was found with another shape than asked for. */
  differsFromRequest?: string;
  knownHosts?: KnownHostsEdit;
}

/** A lab counts as running when every host's holder (sshd) is still the process lab up started. */
export async function labIsRunning(state: LabState): Promise<boolean> {
  if (state.phase !== 'up' || state.hosts.length === 0) return false;
  const alive = await Promise.all(
    state.hosts.map(async (host) =>
      host.pid !== undefined && host.startTime !== undefined ? isSameProcessAlive({ pid: host.pid, startTime: host.startTime }) : false,
    ),
  );
  return alive.every(Boolean);
}

/** Addresses the lab will listen on in the deploy host's network (all of them, or only the bastion's). */
async function refuseBusyAddresses(state: LabState): Promise<void> {
  const visible = state.hosts.filter((host) => state.netns === undefined || hostRole(host) === 'bastion');
  const checks = await Promise.all(
    visible.flatMap((host) =>
      (hostRole(host) === 'member' ? [22, 2379, 2380] : [22]).map(async (port) => ({ address: host.address, port, used: await portInUse(host.address, port) })),
    ),
  );
  const busy = checks.filter((check) => check.used);
  if (busy.length > 0) {
    throw new LabError(
      `cannot start the lab: ${busy.map((check) => `${check.address}:${check.port}`).join(', ')} already in use`,
      'another lab (or service) uses these addresses: take it down, or pick another network with --net 127.0.<n>',
      'lab.address-in-use',
    );
  }
  if (state.netns && (await netnsExists(state.netns))) {
    throw new LabError(
      `network namespace ${state.netns} already exists, but no lab record in ${state.dir} names it`,
      `if nothing runs in it: ip netns delete ${state.netns}`,
      'lab.netns-exists',
    );
  }
}

interface UpPlan {
  dir: string;
  net: string;
  members: number;
  nodes: number;
  topology: LabTopology;
  bastion: boolean;
  etcd: EtcdBinaries;
  began: number;
  createdDir: boolean;
  paths: LabPaths;
  progress: (message: string) => void;
}

export async function labUp(options: LabUpOptions): Promise<LabUpResult> {
  requireRoot('`lab up`');
  const began = Date.now();
  const dir = resolveLabDir(options.dir);
  const plan: UpPlan = {
    dir,
    net: parseLabNet(options.net ?? defaultLabNet),
    members: parseMemberCount(options.members ?? defaultLabMembers),
    nodes: parseNodeCount(options.nodes ?? 0),
    topology: options.topology ?? defaultLabTopology,
    bastion: options.bastion ?? false,
    etcd: etcdBinaries(options.etcd ?? defaultLabEtcdVersion),
    began,
    createdDir: false,
    paths: labPaths(dir),
    progress: options.onProgress ?? ((): void => undefined),
  };
  await requireEtcdBinaries(plan.etcd);
  plan.createdDir = !(await stat(dir).catch(() => undefined));
  await mkdir(dir, { recursive: true, mode: 0o755 });
  try {
    return await bringUpLocked(options, plan);
  } catch (error) {
    // A folder this call created and left empty (e.g. refused before anything started) goes away again.
    if (plan.createdDir) await rmdir(dir).catch(() => undefined);
    throw error;
  }
}

function shapeOf(state: LabState): string {
  const members = state.hosts.filter((host) => hostRole(host) === 'member').length;
  const nodes = state.hosts.filter((host) => hostRole(host) === 'node').length;
  const bastion = state.hosts.some((host) => hostRole(host) === 'bastion');
  return `${members} member(s)${nodes ? ` and ${nodes} node(s)` : ''}, ${state.topology ?? 'kubeasz'}, etcd ${state.etcdVersion ?? '3.4'}${bastion ? ', behind a bastion' : ''} on ${state.net}.x`;
}

function newState(options: LabUpOptions, plan: UpPlan, existing: LabState | undefined): LabState {
  const { dir, net, paths } = plan;
  const planned = planLabHosts({ net, members: plan.members, nodes: plan.nodes, topology: plan.topology, bastion: plan.bastion });
  return {
    version: 1,
    phase: 'creating',
    dir,
    net,
    topology: plan.topology,
    etcdVersion: plan.etcd.version,
    ...(plan.bastion ? { netns: labNetnsName(dir) } : {}),
    createdAt: new Date(plan.began).toISOString(),
    userKnownHostsFile: options.userKnownHostsFile ?? join(homedir(), '.ssh', 'known_hosts'),
    knownHostsTag: knownHostsTag(dir),
    createdDir: existing?.createdDir ?? plan.createdDir,
    hosts: planned.map((host) => {
      const hostPaths = labHostPaths(paths, host.address);
      return {
        address: host.address,
        name: host.name,
        role: host.role,
        inventoryName: host.inventoryName,
        upperDir: hostPaths.upperDir,
        workDir: hostPaths.workDir,
        mergedDir: hostPaths.mergedDir,
        sshdLog: hostPaths.sshdLog,
      };
    }),
  };
}

async function bringUpLocked(options: LabUpOptions, plan: UpPlan): Promise<LabUpResult> {
  const { dir, paths, progress } = plan;
  return withDirLock(paths.lockDir, `bringing the lab in ${dir} up`, async () => {
    const existing = await readLabState(paths.stateFile);
    if (existing && (await labIsRunning(existing))) {
      const info: LabUpResult = labInfoFromState(existing, true);
      // Only what was asked for explicitly counts; the rest is taken as the running lab has it.
      const count = (role: string): number => existing.hosts.filter((host) => hostRole(host) === role).length;
      const asked: UpPlan = {
        ...plan,
        net: options.net === undefined ? existing.net : plan.net,
        members: options.members ?? count('member'),
        nodes: options.nodes ?? count('node'),
        topology: options.topology ?? existing.topology ?? 'kubeasz',
        bastion: options.bastion ?? count('bastion') > 0,
        etcd: options.etcd === undefined ? etcdBinaries(existing.etcdVersion ?? '3.4') : plan.etcd,
      };
      const wanted = newState(options, asked, existing);
      if (shapeOf(wanted) !== shapeOf(existing)) {
        info.differsFromRequest = `it runs ${shapeOf(existing)}, not ${shapeOf(wanted)}; run \`orchestrate lab down --dir ${dir}\` first to change it`;
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

    const state = newState(options, plan, existing);
    await refuseBusyAddresses(state);
    // Written before anything starts, so `lab down` can always find what was started.
    await writeLabState(paths.stateFile, state);
    try {
      const result = await bringUp({ paths, state, etcd: plan.etcd, userKnownHostsFile: state.userKnownHostsFile, progress });
      state.phase = 'up';
      state.startupMs = Date.now() - plan.began;
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
