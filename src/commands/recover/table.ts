// How a diagnosis and the choice read for a person: one row per member, the newest verified snapshot, what
// each way out would lose, and the way chosen with its reason.
import type { RecoveryDecision, RecoveryOption } from '../../etcd/diagnose/decide.js';
import type { JudgedMember } from '../../etcd/diagnose/member-state.js';
import { formatDuration } from '../../etcd/restore/snapshot-source.js';
import type { Diagnosis } from './diagnose-run.js';

function pad(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function walCell(m: JudgedMember): string {
  const wal = m.diagnosis.wal;
  if (!wal) return '-';
  const state = wal.state === 'intact' ? 'ok' : wal.state;
  return `${state} ${wal.lastIndex}/${wal.commitIndex}`;
}

function certificateCell(m: JudgedMember): string {
  const certs = m.diagnosis.certificates;
  const bad = certs.find((c) => c.problem);
  if (bad) return `BAD ${bad.file}`;
  const dates = certs.flatMap((c) => (c.notAfter ? [c.notAfter] : [])).sort();
  const soonest = dates[0];
  return soonest ? `ok until ${soonest.slice(0, 10)}` : '-';
}

function etcdCell(m: JudgedMember): string {
  const d = m.diagnosis;
  if (d.unreachable) return 'unreachable';
  if (d.observation?.ok) return d.observation.isLeader ? 'leader' : d.observation.leaderId === '0' ? 'no leader' : 'follower';
  return d.serviceActive ? 'running, silent' : 'stopped';
}

export function memberTable(decision: RecoveryDecision): string[] {
  const rows = [['member', 'state', 'etcd', 'db revision', 'applied', 'WAL last/commit', 'certificates', 'detail']];
  for (const m of decision.members) {
    const d = m.diagnosis;
    rows.push([
      `${d.name} (${d.host})`,
      m.state,
      etcdCell(m),
      d.db?.ok ? String(d.db.revision) : d.observation?.ok ? `${d.observation.revision ?? '?'} (live)` : '-',
      d.db?.ok ? String(d.db.consistentIndex) : '-',
      walCell(m),
      certificateCell(m),
      m.detail,
    ]);
  }
  return pad(rows);
}

function loss(option: RecoveryOption): string {
  if (!option.possible) return `not possible: ${option.note}`;
  if (option.lostRevisions === 0 && (option.lostEntries ?? 0) === 0) return `loses nothing - ${option.note}`;
  const parts = [`loses ${option.lostRevisions ?? '?'} revision(s)`];
  if (option.lostEntries !== undefined && option.lostEntries > 0)
    parts.push(`up to ${option.lostEntries} raft entr${option.lostEntries === 1 ? 'y' : 'ies'} no db applied`);
  if (option.lostMs !== undefined) parts.push(`about ${formatDuration(option.lostMs)} of writes`);
  return `${parts.join(', ')} - ${option.note}`;
}

const pathNames: Record<RecoveryOption['path'], string> = {
  start: '1. start as is',
  rebuild: '2. rebuild from a member',
  snapshot: '3. newest snapshot',
};

export function decisionText(diagnosis: Diagnosis, decision: RecoveryDecision): string {
  const lines = [
    `Diagnosis of ${decision.members.length} members in ${formatDuration(diagnosis.ms)} (quorum ${decision.quorum}; ${diagnosis.reads} reads, ${Math.ceil(diagnosis.bytes / 1024)} KiB, nothing written):`,
  ];
  lines.push(...memberTable(decision).map((l) => `  ${l}`));
  for (const m of decision.members) {
    for (const c of m.diagnosis.certificates.filter((c) => c.problem))
      lines.push(`  certificate: ${m.diagnosis.name}: ${c.role} ${c.file}: ${c.problem ?? ''}`);
    for (const w of m.diagnosis.db?.warnings ?? []) lines.push(`  warning: ${m.diagnosis.name}: db: ${w}`);
  }
  lines.push(
    diagnosis.snapshot
      ? `  newest verified snapshot: revision ${diagnosis.snapshot.revision}, taken ${diagnosis.snapshot.takenAt} (${diagnosis.snapshot.path})`
      : `  newest verified snapshot: none (${diagnosis.snapshotNote ?? 'none found'})`,
  );
  lines.push(`Ways out (the freshest data seen is at revision ${decision.freshestRevision}):`);
  for (const option of decision.options) lines.push(`  ${pathNames[option.path].padEnd(26)} ${loss(option)}`);
  const choice = decision.choice;
  if (choice.kind === 'nothing') lines.push(`Choice: nothing to do - ${choice.reason}`);
  else if (choice.kind === 'refuse') lines.push(`Choice: none - ${choice.reason}`, `  fix: ${choice.fix}`);
  else if (choice.kind === 'start') {
    lines.push(`Choice: 1. start as is - ${choice.reason}`);
    if (choice.start.length) lines.push(`  start:   ${choice.start.join(', ')}`);
    if (choice.replace.length) lines.push(`  replace: ${choice.replace.join(', ')} (one at a time, once the quorum is back; old data moved aside)`);
    for (const left of choice.leave) lines.push(`  leave:   ${left.host}: ${left.why}`);
  } else if (choice.kind === 'rebuild') lines.push(`Choice: 2. rebuild from ${choice.source} - ${choice.reason}`);
  else lines.push(`Choice: 3. newest snapshot - ${choice.reason}`);
  return `${lines.join('\n')}\n`;
}
