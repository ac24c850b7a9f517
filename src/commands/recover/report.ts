// The end of a recovery, for a person: what was done, what it lost, how long it took.
import { formatDuration } from '../../etcd/restore/snapshot-source.js';
import { formatPlan, formatReport } from '../restore/report.js';
import type { RecoverReport } from './recover-run.js';
import type { RecoverySummary } from '../../report/recovery-section.js';
import type { StartReport } from './start-run.js';

function startLines(start: StartReport): string[] {
  const lines = [`Recovery ${start.runId} (start as is): ${start.status}`];
  if (start.failure) lines.push(`  failed:   ${start.failure}`);
  if (start.started.length) lines.push(`  started:  ${start.started.join(', ')}`);
  for (const r of start.replaced)
    lines.push(`  replaced: ${r.host} ${r.ok ? 'ok' : `FAILED (${r.failure ?? ''})`}${r.oldDataAt ? `; old data kept at ${r.oldDataAt}` : ''}`);
  for (const l of start.left) lines.push(`  left:     ${l.host}: ${l.why}`);
  if (start.verdict?.ok && start.verdict.leader)
    lines.push(`  cluster:  verified - one leader (${start.verdict.leader.name}), cluster id ${start.verdict.clusterId ?? '?'}, members = inventory`);
  else if (start.verdict && !start.verdict.ok) lines.push(`  cluster:  NOT verified - ${start.verdict.problems.join('; ')}`);
  if (start.phases.length) {
    lines.push('  phases:');
    for (const p of start.phases) lines.push(`    ${p.id.padEnd(34)} ${formatDuration(p.ms)}`);
  }
  lines.push(`  journal:  ${start.journal}`);
  return lines;
}

export function formatRecoverReport(report: RecoverReport): string {
  const lines: string[] = [];
  if (report.dryRun) {
    const plan = report.start?.plan ?? report.restore?.plan;
    if (plan) lines.push(formatPlan(plan).trimEnd());
    lines.push('Dry run: nothing was changed.');
    return `${lines.join('\n')}\n`;
  }
  if (report.status === 'nothing-to-do') return 'Nothing to recover: every member is healthy.\n';
  if (report.start) lines.push(...startLines(report.start));
  // The restore counts the age of its snapshot as lost; for a rebuild that age is only the time since the last write.
  if (report.restore)
    lines.push(
      ...formatReport(report.restore)
        .trimEnd()
        .split('\n')
        .filter((l) => !(report.choice?.kind === 'rebuild' && l.startsWith('  RPO:'))),
    );
  lines.push(`  RTO:      ${formatDuration(report.wallMs)} in all, diagnosis included`);
  lines.push(`  RPO:      ${lostText(report)}`);
  return `${lines.join('\n')}\n`;
}

function lostText(report: RecoverReport): string {
  const lost = report.lost;
  if (report.start) return 'nothing lost (start as is)';
  if (!lost) return 'see the restore report';
  return `${lost.revisions ?? '?'} revision(s)${lost.entries ? `, up to ${lost.entries} raft entries` : ''}${lost.ms !== undefined ? `, about ${formatDuration(lost.ms)} of writes` : ''}`;
}

const pathTitles = { start: 'start as is', rebuild: 'rebuild from a member', snapshot: 'newest snapshot' } as const;

/** The run as the HTML report's recovery section shows it. */
export function recoverySummary(report: RecoverReport): RecoverySummary {
  const choice = report.choice;
  const path =
    choice?.kind === 'rebuild'
      ? `rebuild from ${choice.source}`
      : choice && choice.kind !== 'nothing' && choice.kind !== 'refuse'
        ? pathTitles[choice.kind]
        : report.start
          ? 'start as is (continued)'
          : 'restore (continued)';
  const phases = report.start?.phases ?? report.restore?.rto.phases ?? [];
  return {
    path,
    status: report.status,
    ...(choice && 'reason' in choice ? { reason: choice.reason } : {}),
    lost: lostText(report),
    wallMs: report.wallMs,
    ...(report.diagnosis ? { diagnosisMs: report.diagnosis.ms } : {}),
    members: (report.diagnosis?.members ?? []).map((m) => ({
      name: m.name,
      host: m.host,
      state: m.state,
      detail: m.detail,
      ...(m.revision !== undefined ? { revision: m.revision } : {}),
    })),
    phases,
    ...(report.failure ? { failure: report.failure } : {}),
  };
}
