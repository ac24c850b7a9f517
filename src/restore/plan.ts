// Builds the restore and rollback plans (which module runs where, with which arguments) from the inventory,
// the snapshot and the preflight's facts. Pure: no host is contacted here. The order is the order of
// playbooks/restore.yml (a unit test keeps the two equal).
import type { EtcdMember } from '../config/types.js';
import { observeCluster } from '../modules/restore/cluster-probe.js';
import type { RestoreTool } from '../modules/restore/identity.js';
import {
  dataMoveAsideModule,
  dataMoveBackModule,
  etcdRestoreModule,
  etcdRestoreOnDeployHostModule,
  etcdServiceModule,
  etcdSnapshotCopyModule,
  etcdVerifyClusterModule,
  kubeServicesModule,
} from '../modules/restore/index.js';
import type { MemberRestorePaths } from '../modules/restore/paths.js';
import type { HostServices } from '../modules/restore/unit-commands.js';
import { DEPLOY_HOST, type RestoreJournal, type RestoreMode, type RestorePhase, type RollbackPhase } from './journal.js';
import type { PlannedAction, PlannedPhase } from './plan-types.js';

export interface PlanMember {
  member: EtcdMember;
  paths: MemberRestorePaths;
  hadOldData: boolean;
  /** The tool found on the member (member mode). */
  tool?: RestoreTool;
}

export interface PlanTimeouts {
  /** Each group of units to stop or start, waiting for the state. */
  serviceSeconds: number;
  /** Quorum and verification after etcd starts. */
  etcdSeconds: number;
  /** One restore. */
  dataSeconds: number;
}

export const DEFAULT_TIMEOUTS: PlanTimeouts = { serviceSeconds: 90, etcdSeconds: 60, dataSeconds: 1800 };

export interface RestorePlanInput {
  runId: string;
  mode: RestoreMode;
  members: PlanMember[];
  services: HostServices[];
  snapshot: { path: string; sha256: string; hasHash: boolean; revision: number };
  timeouts?: PlanTimeouts;
  /** Second mode: the deploy host's tool and a scratch folder for the member dirs. */
  deployHost?: { tool: RestoreTool; workDir: string };
}

function perHost<T>(items: readonly T[], host: (item: T) => string, actions: (item: T) => PlannedAction[]): Map<string, PlannedAction[]> {
  const map = new Map<string, PlannedAction[]>();
  for (const item of items) {
    const list = actions(item);
    if (list.length) map.set(host(item), [...(map.get(host(item)) ?? []), ...list]);
  }
  return map;
}
const memberHost = (m: PlanMember) => m.member.host;
const serviceHost = (s: HostServices) => s.host;

/**
 * Followers first, then the leader: a leader stopped together with its followers tries to hand its
 * leadership to a member that is going away and waits out etcd's transfer timeout (~7 s, seen here);
 * alone, it finds no one to hand over to and exits at once.
 */
export async function followersThenLeader(members: readonly EtcdMember[], hosts: string[]): Promise<string[][]> {
  const observations = await observeCluster(
    members.filter((m) => hosts.includes(m.host)),
    1_500,
  );
  const leader = observations.find((o) => o.status && o.status.leaderId !== '0' && o.status.leaderId === o.status.memberId);
  if (!leader) return [hosts];
  return [hosts.filter((h) => h !== leader.host), [leader.host]];
}

export function stopPhases(
  services: HostServices[],
  members: PlanMember[],
  seconds: number,
): PlannedPhase<'stop-kube-node' | 'stop-kube-master' | 'stop-etcd'>[] {
  const kube = (group: 'kube_node' | 'kube_master', units: (s: HostServices) => string[]) =>
    perHost(services, serviceHost, (s) =>
      units(s).length
        ? [
            {
              title: `stop ${[...units(s)].reverse().join(', ')}`,
              module: kubeServicesModule,
              args: { group, state: 'stopped', wait_seconds: seconds },
            },
          ]
        : [],
    );
  return [
    { id: 'stop-kube-node', title: 'stop the kube_node services, waiting until they are inactive', hosts: kube('kube_node', (s) => s.kubeNode) },
    { id: 'stop-kube-master', title: 'stop the kube_master services (the API goes down here)', hosts: kube('kube_master', (s) => s.kubeMaster) },
    {
      id: 'stop-etcd',
      title: 'stop etcd on every member, waiting until it is inactive',
      hosts: perHost(members, memberHost, (m) => [
        { title: `stop ${m.member.service}`, module: etcdServiceModule, args: { state: 'stopped', wait_seconds: seconds } },
      ]),
      waves: (hosts) =>
        followersThenLeader(
          members.map((m) => m.member),
          hosts,
        ),
      wavesNote: 'the followers first, then the leader',
    },
  ];
}

export function startPhases(
  services: HostServices[],
  members: PlanMember[],
  timeouts: PlanTimeouts,
  verify: Record<string, unknown>,
): PlannedPhase<'start-etcd' | 'verify-cluster' | 'start-kube-master' | 'start-kube-node'>[] {
  const kube = (group: 'kube_node' | 'kube_master', units: (s: HostServices) => string[]) =>
    perHost(services, serviceHost, (s) =>
      units(s).length
        ? [
            {
              title: `start ${units(s).join(', ')}`,
              module: kubeServicesModule,
              args: { group, state: 'started', wait_seconds: timeouts.serviceSeconds },
            },
          ]
        : [],
    );
  return [
    {
      id: 'start-etcd',
      title: 'start etcd on every member together',
      hosts: perHost(members, memberHost, (m) => [
        { title: `start ${m.member.service}`, module: etcdServiceModule, args: { state: 'started', wait_seconds: timeouts.serviceSeconds } },
      ]),
    },
    {
      id: 'verify-cluster',
      title: 'wait for quorum, then verify the cluster through the etcd client',
      hosts: new Map([
        [DEPLOY_HOST, [{ title: 'verify the cluster', module: etcdVerifyClusterModule, args: { timeout_seconds: timeouts.etcdSeconds, ...verify } }]],
      ]),
    },
    {
      id: 'start-kube-master',
      title: 'start the kube_master services, waiting until active (the API comes back here)',
      hosts: kube('kube_master', (s) => s.kubeMaster),
    },
    { id: 'start-kube-node', title: 'start the kube_node services, waiting until active', hosts: kube('kube_node', (s) => s.kubeNode) },
  ];
}

export function buildRestorePlan(input: RestorePlanInput): PlannedPhase<RestorePhase>[] {
  const timeouts = input.timeouts ?? DEFAULT_TIMEOUTS;
  const { runId, members } = input;
  const skipHashCheck = !input.snapshot.hasHash;
  let copy: PlannedPhase<'copy-snapshot'>;
  let restore: PlannedPhase<'restore-data'>;
  if (input.mode === 'member') {
    copy = {
      id: 'copy-snapshot',
      title: 'copy the snapshot to every member, its sha256 checked there (nothing is stopped yet)',
      hosts: perHost(members, memberHost, (m) => [
        {
          title: `copy the snapshot to ${m.paths.snapshotCopy}`,
          module: etcdSnapshotCopyModule,
          args: { run_id: runId, src: input.snapshot.path, sha256: input.snapshot.sha256 },
        },
      ]),
    };
    restore = {
      id: 'restore-data',
      title: 'restore each member with its own identity into a new dir beside its data dir (etcd still runs on the old one)',
      hosts: perHost(members, memberHost, (m) => {
        if (!m.tool) throw new Error(`no restore tool known for ${m.member.host}`);
        return [
          {
            title: `restore as ${m.member.name} into ${m.paths.newDir}`,
            module: etcdRestoreModule,
            args: { run_id: runId, tool: m.tool, skip_hash_check: skipHashCheck, timeout_seconds: timeouts.dataSeconds },
          },
        ];
      }),
    };
  } else {
    const deployHost = input.deployHost;
    if (!deployHost) throw new Error('deploy-host mode needs the deploy host tool and work dir');
    copy = {
      id: 'copy-snapshot',
      title: "restore every member's dir on the deploy host, each with its own identity, and upload it (nothing is stopped yet)",
      hosts: perHost(members, memberHost, (m) => [
        {
          title: `restore ${m.member.name} on the deploy host and upload it to ${m.paths.uploadArchive}`,
          module: etcdRestoreOnDeployHostModule,
          args: {
            run_id: runId,
            snapshot: input.snapshot.path,
            tool: deployHost.tool,
            work_dir: deployHost.workDir,
            skip_hash_check: skipHashCheck,
            timeout_seconds: timeouts.dataSeconds,
          },
        },
      ]),
    };
    restore = {
      id: 'restore-data',
      title: 'unpack each restored dir beside the data dir (etcd still runs on the old one)',
      hosts: perHost(members, memberHost, (m) => [
        {
          title: `unpack into ${m.paths.newDir}`,
          module: etcdRestoreModule,
          args: { run_id: runId, from: 'archive', timeout_seconds: timeouts.dataSeconds },
        },
      ]),
    };
  }
  const swap: PlannedPhase<'swap-data'> = {
    id: 'swap-data',
    title: 'move the old data dir aside (kept, never deleted) and the restored one into place',
    hosts: perHost(members, memberHost, (m) => [
      {
        title: m.hadOldData
          ? `${m.paths.dataDir} -> ${m.paths.asideDir}; ${m.paths.newDir} -> ${m.paths.dataDir}`
          : `${m.paths.newDir} -> ${m.paths.dataDir} (no old data dir)`,
        module: dataMoveAsideModule,
        args: { run_id: runId, had_old_data: m.hadOldData },
      },
    ]),
  };
  const cleanup: PlannedPhase<'cleanup'> = {
    id: 'cleanup',
    title: 'remove the snapshot copies (the old data dirs stay)',
    hosts:
      input.mode === 'member'
        ? perHost(members, memberHost, () => [
            { title: 'remove the snapshot copy', module: etcdSnapshotCopyModule, args: { run_id: runId, state: 'absent' } },
          ])
        : new Map(),
  };
  return [
    copy,
    restore,
    ...stopPhases(input.services, members, timeouts.serviceSeconds),
    swap,
    ...startPhases(input.services, members, timeouts, { revision: input.snapshot.revision }),
    cleanup,
  ];
}

export interface RollbackPlanInput {
  journal: RestoreJournal;
  members: EtcdMember[];
  services: HostServices[];
  timeouts?: PlanTimeouts;
}

/**
 * Only what the journal says is needed: nothing stopped yet -> just drop our scratch; stopped but not
 * swapped -> drop scratch and start everything again; swapped (or completed) -> stop, swap back, start.
 */
export function buildRollbackPlan(input: RollbackPlanInput): PlannedPhase<RollbackPhase>[] {
  const timeouts = input.timeouts ?? DEFAULT_TIMEOUTS;
  const { journal } = input;
  const members: PlanMember[] = input.members.map((member) => {
    const recorded = journal.members[member.host];
    if (!recorded) throw new Error(`the journal has no record of ${member.host}`);
    return { member, paths: recorded.paths, hadOldData: recorded.hadOldData };
  });
  const begun = (phase: RestorePhase) => journal.begun.includes(phase);
  const stoppedSomething = begun('stop-kube-node') || begun('stop-kube-master') || begun('stop-etcd');
  const swapped = begun('swap-data');
  const revert: PlannedPhase<'revert-data'> = {
    id: 'revert-data',
    title: swapped
      ? 'put each old data dir back (the restored one is moved aside, not deleted)'
      : 'drop the scratch copies (the old data dirs were never moved)',
    hosts: perHost(members, memberHost, (m) => [
      {
        title: swapped
          ? `${m.paths.dataDir} -> ${m.paths.restoredAsideDir}; ${m.paths.asideDir} -> ${m.paths.dataDir}`
          : `remove ${m.paths.newDir} and the snapshot copy`,
        module: dataMoveBackModule,
        args: { run_id: journal.runId, had_old_data: m.hadOldData },
      },
    ]),
  };
  if (!stoppedSomething) return [revert];
  const starts = startPhases(input.services, members, timeouts, { quorum_only: true });
  if (!swapped) return [revert, ...starts];
  return [...stopPhases(input.services, members, timeouts.serviceSeconds), revert, ...starts];
}
