// The words of a restore report: the preview before confirmation, each member's state at the end, what
// an interruption leaves down, and the RTO breakdown.
import type { EtcdMember } from '../../config/types.js';
import type { PhaseOutcome } from '../../engine/phased.js';
import type { MemberObservation } from '../../etcd/cluster/observe.js';
import type { ResolvedMember } from '../../etcd/members/resolve.js';
import { initialClusterFlag } from '../../etcd/restore/identity.js';
import { isDone, type RestoreJournal, type RestoreMode } from '../../etcd/restore/journal.js';
import { restorePaths, type MemberRestorePaths } from '../../etcd/restore/paths.js';
import { formatDuration, type ChosenSnapshot } from '../../etcd/restore/snapshot-source.js';
import type { HostServices } from '../../etcd/restore/unit-commands.js';
import type { MemberFacts } from './preflight.js';
import type { MemberReport, RestoreReport } from './report.js';
import type { RollbackOutcome } from './rollback-run.js';

export function memberReports(
  members: readonly EtcdMember[],
  journal: RestoreJournal | undefined,
  paths: ReadonlyMap<string, MemberRestorePaths>,
  hadOld: ReadonlyMap<string, boolean>,
  rollback?: RollbackOutcome,
): MemberReport[] {
  return members.map((m) => {
    const p = paths.get(m.host) ?? restorePaths(m.dataDir, journal?.runId ?? 'unknown');
    const report: MemberReport = { host: m.host, name: m.name, dataDir: p.dataDir };
    const restoredAside = rollback?.restoredDataAt.get(m.host);
    if (restoredAside) {
      report.restoredDataAt = restoredAside;
      report.state = 'old data back in place';
      return report;
    }
    if (!journal) return report;
    const swapped = isDone(journal, m.host, 'swap-data');
    if (rollback && rollback.status !== 'rollback-failed') report.state = 'old data in place (never moved)';
    else if (swapped) {
      if (hadOld.get(m.host)) report.oldDataAt = p.asideDir;
      report.state = 'restored data in place';
    } else if (journal.begun.includes('swap-data'))
      report.state = `swap not confirmed: the data dir is ${p.dataDir} or ${p.asideDir}; re-run to finish or --rollback`;
    else report.state = 'old data in place (never moved)';
    if (rollback?.status === 'rollback-failed' && swapped)
      report.state = `restored data still in place (rollback failed here); old data at ${p.asideDir}`;
    return report;
  });
}

export function interruptedFailure(
  journal: RestoreJournal,
  journalFile: string,
  failedPhase: string | undefined,
  lastPhase: string | undefined,
): string {
  const where = failedPhase ? ` during ${failedPhase}` : lastPhase ? ` after ${lastPhase}` : ' before the first phase';
  const begun = (phase: string) => journal.begun.includes(phase);
  let down = '';
  if (!begun('start-etcd')) {
    if (begun('stop-etcd')) down = '; until then etcd stays stopped (the cluster and the Kubernetes API are down)';
    else if (begun('stop-kube-master')) down = '; until then the kube_master services stay stopped (the Kubernetes API is down)';
    else if (begun('stop-kube-node')) down = '; until then the kube_node services stay stopped';
  }
  return `interrupted${where}; the journal ${journalFile} records each member's state: run the same command again to continue, or --rollback to undo${down}`;
}

export function rtoOf(
  journal: RestoreJournal,
  started: number,
  outcomes: readonly PhaseOutcome[],
  preparation: readonly { id: string; ms: number }[],
): RestoreReport['rto'] {
  const down = journal.marks['api-down'];
  const up = journal.marks['api-up'];
  const rto: RestoreReport['rto'] = { wallMs: Date.now() - started, phases: [...preparation, ...outcomes.map((o) => ({ id: o.id, ms: o.ms }))] };
  if (down && up) rto.apiDowntimeMs = new Date(up).getTime() - new Date(down).getTime();
  return rto;
}

/** A member as the restore will treat it. */
export interface PlanMember {
  member: EtcdMember;
  paths: MemberRestorePaths;
  hadOldData: boolean;
  /** The tool found on the member (member mode). */
  tool?: string;
  /** Its tool can bump revisions (etcd 3.5.10+). */
  canBump?: boolean;
}

export interface SummaryInput {
  members: EtcdMember[];
  snapshot: ChosenSnapshot;
  ageMs: number;
  current: readonly MemberObservation[];
  planMembers: readonly PlanMember[];
  services: readonly (HostServices & { staticPods?: boolean })[];
  mode: RestoreMode;
  journalFile: string;
  runId: string;
  resuming: boolean;
  preflight: Map<string, MemberFacts>;
  /** Revisions raised by this much (0: not bumped). */
  bump: number;
}

/** Where a member's identity came from, when not all of it is the inventory's: the preview says so. */
function identityOrigin(member: EtcdMember): string | undefined {
  const resolved = member as Partial<ResolvedMember>;
  const parts: string[] = [];
  if (resolved.topology === 'kubeadm') parts.push('kubeadm static pod');
  const fromConfig = Object.entries(resolved.sources ?? {}).filter(([, source]) => source.from === 'config');
  if (fromConfig.length > 0)
    parts.push(`${fromConfig.map(([field]) => fieldNames[field] ?? field).join(', ')} from ${fromConfig[0]?.[1].file ?? 'its configuration'}`);
  if (resolved.walDir !== undefined) parts.push(`WAL apart in ${resolved.walDir}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

const fieldNames: Record<string, string> = { name: 'name', peerUrl: 'peer URL', clientUrl: 'client URL', dataDir: 'data dir', walDir: 'WAL dir' };

export function summaryText(input: SummaryInput): string {
  const { snapshot } = input;
  const token = input.members[0]?.token ?? '';
  const lines: string[] = [];
  lines.push(`Restore of etcd cluster "${token}" (${input.members.length} members), run ${input.runId}${input.resuming ? ' (continuing)' : ''}`);
  lines.push(`  snapshot  ${snapshot.path}`);
  lines.push(
    `            revision ${snapshot.revision}, ${snapshot.totalKey} keys, ${(snapshot.size / 1048576).toFixed(1)} MiB, sha256 ${snapshot.sha256.slice(0, 16)}..., ${snapshot.hasHash ? 'hash trailer ok' : 'no hash trailer'}`,
  );
  lines.push(`            taken ${snapshot.takenAt} (${formatDuration(input.ageMs)} ago, ${snapshot.takenAtSource})`);
  const answered = input.current.filter((o) => o.ok && o.revision !== undefined);
  if (answered.length) {
    const revision = Math.max(...answered.map((o) => o.revision ?? 0));
    const leader = answered.find((o) => o.isLeader === true);
    const lost = revision - snapshot.revision;
    lines.push(
      `  cluster   answers now: revision ${revision}${leader ? `, leader ${leader.name}` : ''} (${answered.length}/${input.members.length} members)${lost > 0 ? ` - ${lost} revisions newer than the snapshot will be lost` : ''}`,
    );
  } else if (!input.resuming) {
    lines.push('  cluster   does not answer now');
  }
  lines.push(`  identity  --initial-cluster ${initialClusterFlag(input.members)} --initial-cluster-token ${token}`);
  lines.push(
    `  mode      ${input.mode === 'member' ? 'each member restores its own data dir' : 'every data dir is restored on the deploy host and uploaded'}`,
  );
  lines.push(
    input.bump > 0
      ? `  revision  bumped by ${input.bump} and compacted: the cluster serves ${snapshot.revision + input.bump}; watchers that reconnect with an older revision get a compaction error and relist`
      : `  revision  not bumped: the cluster serves ${snapshot.revision} again (see the warning)`,
  );
  lines.push('  members (data dir -> old data kept at):');
  for (const m of input.planMembers) {
    const facts = input.preflight.get(m.member.host);
    const free = facts?.free_kib !== undefined ? `, ${(facts.free_kib / 1048576).toFixed(1)} GiB free` : '';
    const certs = facts?.certificates.length ? `, certificates valid ${Math.min(...facts.certificates.map((c) => c.daysLeft))}+ days` : '';
    lines.push(
      `    ${m.member.name} (${m.member.host}) ${m.paths.dataDir} -> ${m.hadOldData ? m.paths.asideDir : '(no data dir now)'}  [${m.tool ?? 'deploy host tool'}${free}${certs}]`,
    );
    const origin = identityOrigin(m.member);
    if (origin) lines.push(`      ${origin}`);
  }
  // Hosts with the same units are named together: "kube-proxy, kubelet on 127.0.0.1, 127.0.0.2".
  const order = (key: 'kubeNode' | 'kubeMaster', reverse: boolean) => {
    const byUnits = new Map<string, string[]>();
    for (const s of input.services.filter((h) => h[key].length)) {
      const listed = (reverse ? [...s[key]].reverse() : s[key]).join(', ');
      // kubeadm's control plane is static pods: their manifests move, kubelet stays up.
      const units = s.staticPods ? `static pods ${listed}` : listed;
      byUnits.set(units, [...(byUnits.get(units) ?? []), s.host]);
    }
    return (
      [...byUnits]
        .map(
          ([units, hosts]) =>
            `${units} on ${hosts.length === input.services.length && hosts.length > 2 ? `all ${hosts.length} hosts` : hosts.join(', ')}`,
        )
        .join('; ') || 'none'
    );
  };
  lines.push(
    `  stop      kube_node (${order('kubeNode', true)}), then kube_master (${order('kubeMaster', true)}), then etcd on every member (followers first, leader last)`,
  );
  lines.push(
    `  start     etcd on every member together, then kube_master (${order('kubeMaster', false)}), then kube_node (${order('kubeNode', false)})`,
  );
  lines.push(`  journal   ${input.journalFile}`);
  lines.push(`This replaces the data of every etcd member; the Kubernetes API is down from the kube_master stop until they start again.`);
  return `${lines.join('\n')}\n`;
}
