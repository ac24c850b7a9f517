// Builds the restore and rollback plans from the inventory, the snapshot and the preflight's facts.
// Pure: no host is contacted here; run-time values (the sha256 of an archive made on the deploy host)
// are read through closures and shown as <deferred: ...> in the preview.
import type { EtcdMember } from '../config/types.js';
import type { CallStep, ExecStep, StepResult } from '../engine/step.js';
import { asExec, asTransfer } from '../modules/helpers.js';
import type { RestoreTool } from '../modules/restore/identity.js';
import {
  cleanupCommand,
  restoreIntoNewDirCommand,
  revertSwapCommand,
  swapCommand,
  unpackNewDirCommand,
} from '../modules/restore/data-commands.js';
import { DEPLOY_HOST, type RestoreJournal, type RestoreMode, type RestorePhase, type RollbackPhase } from './journal.js';
import type { MemberRestorePaths } from '../modules/restore/paths.js';
import type { PlannedAction, PlannedPhase } from './plan-types.js';
import { startEtcdCommand, startUnitsCommand, stopUnitsCommand, type HostServices } from '../modules/restore/unit-commands.js';
import type { ClusterVerdict } from '../modules/restore/verify-cluster.js';

export interface PlanMember {
  member: EtcdMember;
  paths: MemberRestorePaths;
  hadOldData: boolean;
  /** The tool found on the member (member mode). */
  tool?: RestoreTool;
}

export interface PlanTimeouts {
  /** Each unit stop or start, waiting for the state. */
  serviceSeconds: number;
  /** Quorum and verification after etcd starts. */
  etcdSeconds: number;
  /** One restore or transfer. */
  dataMs: number;
}

export const DEFAULT_TIMEOUTS: PlanTimeouts = { serviceSeconds: 90, etcdSeconds: 60, dataMs: 30 * 60_000 };

/** Work done in this process for the second mode (restore on the deploy host). */
export interface DeployHostRestore {
  tool: RestoreTool;
  /** Restores one member's dir locally and archives it; returns the archive's path and sha256. */
  prepare(member: PlanMember, signal: AbortSignal): Promise<{ archive: string; sha256: string }>;
  describe(member: PlanMember): string;
}

export interface RestorePlanInput {
  mode: RestoreMode;
  members: PlanMember[];
  services: HostServices[];
  snapshot: { path: string; sha256: string; hasHash: boolean; revision: number };
  timeouts?: PlanTimeouts;
  deployHost?: DeployHostRestore;
  /** Waits for quorum and judges the cluster (bounded); the plan only schedules it. */
  verify: (signal: AbortSignal) => Promise<ClusterVerdict>;
  verifyDescription: string;
}

const tail = (text: string): string => text.trim().split('\n').slice(-3).join(' | ');

/** The default check of an exec step: exit code 0, else why not with the end of its output. */
export function mustSucceed(result: StepResult): string | undefined {
  const exec = asExec(result);
  if (!exec) return 'no result from the command';
  if (exec.exitCode === 0) return undefined;
  const why = exec.timedOut ? `timed out after ${Math.round(exec.durationMs / 1000)}s` : exec.exitCode === null ? `killed (${exec.signal ?? 'no status'})` : `exit ${exec.exitCode}`;
  return `${why}: ${tail(exec.stderr) || tail(exec.stdout) || 'no output'}`;
}

const exec = (command: string, timeoutMs: number, extra: Partial<ExecStep> = {}): ExecStep => ({ kind: 'exec', command, timeoutMs, ...extra });

function perHost<T extends { host: string }>(items: readonly T[], actions: (item: T) => PlannedAction[]): Map<string, PlannedAction[]> {
  const map = new Map<string, PlannedAction[]>();
  for (const item of items) {
    const list = actions(item);
    if (list.length) map.set(item.host, [...(map.get(item.host) ?? []), ...list]);
  }
  return map;
}

const withHost = (members: PlanMember[]) => members.map((m) => ({ ...m, host: m.member.host }));

export function stopPhases(services: HostServices[], members: PlanMember[], serviceSeconds: number): PlannedPhase<'stop-kube-node' | 'stop-kube-master' | 'stop-etcd'>[] {
  const stop = (units: string[]): PlannedAction[] =>
    units.length ? [{ title: `stop ${units.join(', ')} and wait until inactive`, step: exec(stopUnitsCommand(units, serviceSeconds), (serviceSeconds + 30) * 1000) }] : [];
  return [
    { id: 'stop-kube-node', title: 'stop the kube_node services', hosts: perHost(services, (s) => stop([...s.kubeNode].reverse())) },
    { id: 'stop-kube-master', title: 'stop the kube_master services (the API goes down here)', hosts: perHost(services, (s) => stop([...s.kubeMaster].reverse())) },
    { id: 'stop-etcd', title: 'stop etcd on every member', hosts: perHost(withHost(members), (m) => stop([m.member.service])) },
  ];
}

export function startPhases(
  services: HostServices[],
  members: PlanMember[],
  serviceSeconds: number,
  verify: { run: (signal: AbortSignal) => Promise<ClusterVerdict>; description: string },
): PlannedPhase<'start-etcd' | 'verify-cluster' | 'start-kube-master' | 'start-kube-node'>[] {
  const start = (units: string[]): PlannedAction[] =>
    units.length ? [{ title: `start ${units.join(', ')} and wait until active`, step: exec(startUnitsCommand(units, serviceSeconds), (serviceSeconds + 30) * 1000) }] : [];
  const verifyStep: CallStep<ClusterVerdict> = { kind: 'call', description: verify.description, readOnly: false, run: verify.run };
  return [
    { id: 'start-etcd', title: 'start etcd on every member together', hosts: perHost(withHost(members), (m) => [{ title: `start ${m.member.service}`, step: exec(startEtcdCommand(m.member.service), (serviceSeconds + 30) * 1000) }]) },
    {
      id: 'verify-cluster',
      title: 'wait for quorum, then verify through the etcd client',
      hosts: new Map([[DEPLOY_HOST, [{ title: 'verify the cluster', step: verifyStep, check: (r) => verdictProblem(r as ClusterVerdict | undefined) }]]]),
    },
    { id: 'start-kube-master', title: 'start the kube_master services (the API comes back here)', hosts: perHost(services, (s) => start(s.kubeMaster)) },
    { id: 'start-kube-node', title: 'start the kube_node services', hosts: perHost(services, (s) => start(s.kubeNode)) },
  ];
}

function verdictProblem(verdict: ClusterVerdict | undefined): string | undefined {
  if (!verdict) return 'no verdict';
  return verdict.ok ? undefined : verdict.problems.join('; ');
}

export function buildRestorePlan(input: RestorePlanInput): PlannedPhase<RestorePhase>[] {
  const timeouts = input.timeouts ?? DEFAULT_TIMEOUTS;
  const members = withHost(input.members);
  const allMembers = input.members.map((m) => m.member);
  let copy: PlannedPhase<'copy-snapshot'>;
  let restore: PlannedPhase<'restore-data'>;

  if (input.mode === 'member') {
    copy = {
      id: 'copy-snapshot',
      title: 'copy the snapshot to every member, its sha256 checked there (nothing is stopped yet)',
      hosts: perHost(members, (m) => [
        {
          title: `upload the snapshot; sha256 on the member must be ${input.snapshot.sha256}`,
          step: { kind: 'upload', source: { path: input.snapshot.path }, dest: m.paths.snapshotCopy, mode: 0o600 },
          check: uploadMatches(() => input.snapshot.sha256),
        },
      ]),
    };
    restore = {
      id: 'restore-data',
      title: "restore each member's own identity into a new dir beside its data dir (etcd still runs on the old one)",
      hosts: perHost(members, (m) => {
        if (!m.tool) throw new Error(`no restore tool known for ${m.host}`);
        return [
          {
            title: `restore as ${m.member.name} into ${m.paths.newDir}`,
            step: exec(restoreIntoNewDirCommand(m.member, allMembers, m.paths, m.tool, !input.snapshot.hasHash), timeouts.dataMs),
          },
        ];
      }),
    };
  } else {
    const deployHost = input.deployHost;
    if (!deployHost) throw new Error('deploy-host mode needs the local restore');
    const prepared = new Map<string, { archive: string; sha256: string }>();
    const archiveSha = (host: string) => prepared.get(host)?.sha256 ?? '<deferred: sha256 of the archive>';
    copy = {
      id: 'copy-snapshot',
      title: "restore every member's dir on the deploy host, each with its own identity, and upload it (nothing is stopped yet)",
      hosts: perHost(members, (m) => [
        {
          title: `restore ${m.member.name} on the deploy host`,
          step: {
            kind: 'call',
            description: deployHost.describe(m),
            readOnly: false,
            run: async (signal) => {
              const result = await deployHost.prepare(m, signal);
              prepared.set(m.host, result);
              return result;
            },
          },
          check: () => undefined,
        },
        {
          title: 'upload the restored dir as an archive; sha256 on the member must match the archive',
          step: { kind: 'upload', source: { path: `<deferred: archive of ${m.member.name}'s restored dir>` }, dest: m.paths.uploadArchive, mode: 0o600 },
          resolve: () => ({ kind: 'upload', source: { path: prepared.get(m.host)?.archive ?? '<not prepared>' }, dest: m.paths.uploadArchive, mode: 0o600 }),
          check: uploadMatches(() => archiveSha(m.host)),
        },
      ]),
    };
    restore = {
      id: 'restore-data',
      title: 'unpack each restored dir beside the data dir (etcd still runs on the old one)',
      hosts: perHost(members, (m) => [{ title: `unpack into ${m.paths.newDir}`, step: exec(unpackNewDirCommand(m.paths), timeouts.dataMs) }]),
    };
  }

  const swap: PlannedPhase<'swap-data'> = {
    id: 'swap-data',
    title: 'move the old data dir aside (kept) and the restored one into place',
    hosts: perHost(members, (m) => [
      { title: `${m.paths.dataDir} -> ${m.paths.asideDir}, ${m.paths.newDir} -> ${m.paths.dataDir}`, step: exec(swapCommand(m.paths, m.hadOldData), 60_000) },
    ]),
  };
  const cleanup: PlannedPhase<'cleanup'> = {
    id: 'cleanup',
    title: 'remove the snapshot copies (old data dirs stay)',
    hosts: perHost(members, (m) => (input.mode === 'member' ? [{ title: 'remove the snapshot copy', step: exec(cleanupCommand(m.paths), 60_000) }] : [])),
  };
  return [
    copy,
    restore,
    ...stopPhases(input.services, input.members, timeouts.serviceSeconds),
    swap,
    ...startPhases(input.services, input.members, timeouts.serviceSeconds, { run: input.verify, description: input.verifyDescription }),
    cleanup,
  ];
}

/** The transport hashes the file on the far side and compares it with the source; this also pins the source to the verified snapshot. */
function uploadMatches(expected: () => string): (result: StepResult) => string | undefined {
  return (result) => {
    const transfer = asTransfer(result);
    if (!transfer) return 'the upload returned no result';
    return transfer.sha256 === expected() ? undefined : `sha256 on the member is ${transfer.sha256}, expected ${expected()}`;
  };
}

export interface RollbackPlanInput {
  journal: RestoreJournal;
  members: EtcdMember[];
  services: HostServices[];
  timeouts?: PlanTimeouts;
  verify: (signal: AbortSignal) => Promise<ClusterVerdict>;
  verifyDescription: string;
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
    title: 'put each old data dir back (the restored one is moved aside, not deleted)',
    hosts: perHost(withHost(members), (m) => [
      { title: `${m.paths.asideDir} -> ${m.paths.dataDir}`, step: exec(revertSwapCommand(m.paths, m.hadOldData), 60_000) },
    ]),
  };
  if (!stoppedSomething) return [revert];
  const starts = startPhases(input.services, members, timeouts.serviceSeconds, { run: input.verify, description: input.verifyDescription });
  if (!swapped) return [revert, ...starts];
  return [...stopPhases(input.services, members, timeouts.serviceSeconds), revert, ...starts];
}
