// What a restore run hands back, and how it reads for a person: the preview before confirmation,
// the plan per phase and host, and the RTO/RPO report at the end.
import type { JournalStatus, RestoreMode } from '../../etcd/restore/journal.js';
import type { PrintablePhase } from './events.js';
import type { RestoreDataDiff } from './data-diff.js';
import { formatDuration } from '../../etcd/restore/snapshot-source.js';
import type { ClusterVerdict } from '../../etcd/cluster/verdict.js';

export interface MemberReport {
  host: string;
  name: string;
  dataDir: string;
  /** Where the member's data from before the restore lives now (never deleted). */
  oldDataAt?: string;
  /** After a rollback: where the restored data was put aside. */
  restoredDataAt?: string;
  /** Where this member stands, in words (from the journal): what is in its data dir now. */
  state?: string;
}

export interface RestoreReport {
  kind: 'restore' | 'rollback';
  runId: string;
  mode: RestoreMode;
  dryRun: boolean;
  resumed: boolean;
  /** `dry-run`, or the journal status at the end. */
  status: JournalStatus | 'dry-run';
  /** 0 when the cluster ended as asked; otherwise the CLI exit code. */
  exitCode: number;
  failure?: string;
  snapshot: { path: string; sha256: string; revision: number; totalKey: number; size: number; takenAt: string };
  rto: {
    wallMs: number;
    /** From the first kube-apiserver stop to the last start; absent without kube_master hosts. */
    apiDowntimeMs?: number;
    phases: { id: string; ms: number }[];
  };
  /** Snapshot age when the restore began: the writes lost. */
  rpoMs: number;
  members: MemberReport[];
  verdict?: ClusterVerdict;
  rollback?: { status: JournalStatus; problems: string[]; warnings: string[] };
  journal: string;
  warnings: string[];
  plan?: PrintablePhase[];
  /** What the snapshot brings back and throws away against the live cluster, from the preview. */
  dataDiff?: RestoreDataDiff;
}

export function formatPlan(phases: readonly PrintablePhase[]): string {
  const lines: string[] = [];
  phases.forEach((phase, index) => {
    lines.push(`${index + 1}. ${phase.id}: ${phase.title}`);
    if (phase.hosts.length === 0) lines.push('   (no host)');
    for (const host of phase.hosts) {
      lines.push(`   ${host.host === 'localhost' ? 'deploy host' : host.host}`);
      for (const action of host.actions) {
        lines.push(`     # ${action.title}`);
        for (const step of action.steps) {
          for (const [i, line] of step.split('\n').entries()) lines.push(`     ${i === 0 ? '' : '  '}${line}`);
        }
      }
    }
  });
  return `${lines.join('\n')}\n`;
}

export function formatReport(report: RestoreReport): string {
  const lines: string[] = [];
  const title = report.kind === 'restore' ? 'Restore' : 'Rollback';
  lines.push(`${title} ${report.runId}: ${report.status}${report.resumed ? ' (continued an interrupted run)' : ''}`);
  if (report.failure) lines.push(`  failed:   ${report.failure}`);
  if (report.rollback) {
    lines.push(`  rollback: ${report.rollback.status}`);
    for (const p of report.rollback.problems) lines.push(`    problem: ${p}`);
    for (const w of report.rollback.warnings) lines.push(`    warning: ${w}`);
  }
  lines.push(
    `  snapshot: ${report.snapshot.path} (revision ${report.snapshot.revision}, ${report.snapshot.totalKey} keys, taken ${report.snapshot.takenAt})`,
  );
  const downtime =
    report.rto.apiDowntimeMs === undefined ? 'n/a (the API was not stopped, or is not up again)' : formatDuration(report.rto.apiDowntimeMs);
  lines.push(`  RTO:      ${formatDuration(report.rto.wallMs)} wall time, API down ${downtime}`);
  lines.push(`  RPO:      ${formatDuration(report.rpoMs)} (age of the snapshot: writes after it are gone)`);
  if (report.rto.phases.length) {
    lines.push('  phases:');
    for (const p of report.rto.phases) lines.push(`    ${p.id.padEnd(18)} ${formatDuration(p.ms)}`);
  }
  if (report.verdict?.ok && report.verdict.leader) {
    lines.push(
      `  cluster:  verified - one leader (${report.verdict.leader.name}), cluster id ${report.verdict.clusterId}, revision ${report.verdict.revision}`,
    );
  } else if (report.verdict && !report.verdict.ok) {
    lines.push(`  cluster:  NOT verified - ${report.verdict.problems.join('; ')}`);
  }
  lines.push('  members:');
  for (const m of report.members) {
    const parts = [`${m.name} (${m.host}) ${m.dataDir}`];
    if (m.oldDataAt) parts.push(`old data kept at ${m.oldDataAt}`);
    if (m.restoredDataAt) parts.push(`restored data put aside at ${m.restoredDataAt}`);
    if (m.state) parts.push(m.state);
    lines.push(`    ${parts.join('; ')}`);
  }
  lines.push(`  journal:  ${report.journal}`);
  for (const w of report.warnings) lines.push(`  warning:  ${w}`);
  return `${lines.join('\n')}\n`;
}
