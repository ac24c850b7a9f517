// What `orchestrate status` prints and exits with, from what it gathered: a pure function, so the
// text, the JSON and the exit code are tested without a cluster. Unhealthy (7) wins over stale (6);
// both are reported.
import type { ClusterSurvey } from '../etcd/cluster/observe.js';
import type { CatalogRecord } from '../etcd/backup/catalog.js';
import { judgeCluster, parseMemberErrors, type ClusterVerdict, type MemberState } from '../etcd/cluster/verdict.js';
import { formatAge, formatBytes, formatTable } from '../etcd/backup/format.js';
import type { SnapshotRow } from '../etcd/backup/snapshot-inventory.js';
import type { DrillFreshness } from '../drill/drill-freshness.js';
import { ExitCode } from '../errors.js';

export interface StatusInputs {
  cluster: string;
  backupDir: string;
  survey: ClusterSurvey;
  newest: { good?: SnapshotRow; rejected: SnapshotRow[] };
  lastAttempt?: CatalogRecord;
  now: number;
  maxAgeMs: number;
  /** As the operator wrote it, for messages. */
  maxAgeText: string;
  requireAllMembers: boolean;
  /** The last drill that proved a snapshot restorable; judged when it has a maximum age (--max-drill-age). */
  drill?: DrillFreshness;
}

export interface StatusReport {
  exitCode: number;
  verdict: ClusterVerdict;
  stale: boolean;
  /** The object `--json` prints. */
  json: Record<string, unknown>;
  /** The text report (ends with a newline). */
  text: string;
}

const stateLabels: Record<MemberState, string> = {
  healthy: 'healthy',
  down: 'DOWN',
  'no-leader': 'NO LEADER',
  'other-leader': 'OTHER LEADER',
  split: 'SPLIT',
  learner: 'learner',
};

function quorumLine(verdict: ClusterVerdict): string {
  const { members, needed, healthy, held } = verdict.quorum;
  if (!held) return `quorum LOST: ${healthy} of ${members} voting members healthy, needs ${needed}`;
  const spare = healthy - needed;
  return `quorum held: ${healthy} of ${members} voting members healthy, needs ${needed} (${spare === 0 ? 'no further failure tolerated' : `${spare} more failure(s) tolerated`})`;
}

export function statusReport(inputs: StatusInputs): StatusReport {
  const { survey, newest, lastAttempt, now, maxAgeMs, maxAgeText } = inputs;
  const verdict = judgeCluster(survey.members, { kind: 'healthy', requireAllMembers: inputs.requireAllMembers });
  const good = newest.good;
  const ageMs = good ? now - good.takenAt : undefined;
  const stale = ageMs === undefined || ageMs > maxAgeMs;
  const backupVerdict =
    ageMs === undefined
      ? `no verified snapshot in ${inputs.backupDir}`
      : stale
        ? `the newest verified snapshot is ${formatAge(ageMs)} old, more than --max-age ${maxAgeText}`
        : `the newest verified snapshot is ${formatAge(ageMs)} old (max ${maxAgeText})`;
  const unhealthy = verdict.problems.length > 0;
  const drillStale = inputs.drill?.stale === true;
  const exitCode = unhealthy ? ExitCode.unhealthy : stale || drillStale ? ExitCode.stale : ExitCode.ok;
  const leaders = survey.members.filter((m) => m.ok && m.isLeader).map((m) => m.name);

  const json = {
    cluster: inputs.cluster,
    members: survey.members,
    leader: survey.leader ?? null,
    healthy: verdict.quorum.healthy,
    quorum: verdict.quorum,
    unhealthy,
    unhealthyReasons: verdict.problems,
    warnings: verdict.warnings,
    splitBrain: verdict.splitBrain,
    alarms: verdict.alarms,
    memberStates: verdict.members,
    requireAllMembers: inputs.requireAllMembers,
    newestVerifiedSnapshot:
      good && ageMs !== undefined ? { ...good, takenAt: new Date(good.takenAt).toISOString(), ageSeconds: Math.round(ageMs / 1000) } : null,
    rejectedSnapshots: newest.rejected.map((r) => ({ file: r.path, problems: r.problems })),
    lastAttempt: lastAttempt ?? null,
    maxAgeSeconds: maxAgeMs / 1000,
    stale,
    verdict: backupVerdict,
    drill: inputs.drill
      ? {
          lastProvenSnapshot: inputs.drill.lastSuccess?.snapshot ?? null,
          lastSuccess: inputs.drill.lastSuccess?.end ?? null,
          lastAttempt: inputs.drill.lastAttempt ? { end: inputs.drill.lastAttempt.end, result: inputs.drill.lastAttempt.result } : null,
          ageSeconds: inputs.drill.ageMs === undefined ? null : Math.round(inputs.drill.ageMs / 1000),
          maxAgeSeconds: inputs.drill.maxAgeMs === undefined ? null : inputs.drill.maxAgeMs / 1000,
          stale: drillStale,
          text: inputs.drill.text,
        }
      : null,
    exitCode,
  };

  const lines: string[] = [];
  const clusterIds = [...new Set(survey.members.flatMap((m) => (m.ok && m.clusterId ? [m.clusterId] : [])))];
  const idText = clusterIds.length === 1 ? ` (id ${clusterIds[0]})` : clusterIds.length > 1 ? ` (ids ${clusterIds.join(', ')})` : '';
  const leaderText = leaders.length > 1 ? `leaders ${leaders.join(', ')}` : `leader ${leaders[0] ?? 'none'}`;
  lines.push(`cluster ${inputs.cluster}${idText}: ${verdict.quorum.healthy}/${survey.members.length} members healthy, ${leaderText}`);
  lines.push(quorumLine(verdict));
  const rows = survey.members.map((m, i) => {
    const state = verdict.members[i] ?? { name: m.name, state: 'down' as const };
    const alarms = parseMemberErrors(m.alarms).alarms;
    return [
      m.name,
      m.endpoint,
      `${stateLabels[state.state]}${alarms.length ? `, alarm ${alarms.join(',')}` : ''}`,
      m.ok ? (m.isLearner ? 'learner' : m.isLeader ? 'leader' : 'follower') : '-',
      m.revision !== undefined ? String(m.revision) : '-',
      formatBytes(m.dbSize),
      m.version ?? '-',
      m.ok ? `${m.durationMs} ms${state.state !== 'healthy' && state.detail ? `, ${state.detail}` : ''}` : (m.error ?? ''),
    ];
  });
  let text = `${lines.join('\n')}\n${formatTable(['MEMBER', 'ENDPOINT', 'HEALTH', 'ROLE', 'REVISION', 'DB SIZE', 'VERSION', 'ANSWER'], rows)}`;
  if (good && ageMs !== undefined) {
    text += `newest verified snapshot: ${good.path}\n  taken ${new Date(good.takenAt).toISOString()} (${formatAge(ageMs)} ago), revision ${good.revision ?? '?'}, ${good.keys ?? '?'} keys, ${formatBytes(good.size)}\n`;
  }
  for (const bad of newest.rejected) text += `newer snapshot that FAILS verification: ${bad.path}: ${bad.problems}\n`;
  if (lastAttempt) text += `last attempt: ${lastAttempt.result} at ${lastAttempt.end}${lastAttempt.error ? `: ${lastAttempt.error}` : ''}\n`;
  for (const reason of verdict.problems) text += `UNHEALTHY: ${reason}\n`;
  for (const warning of verdict.warnings) text += `WARNING: ${warning}\n`;
  if (inputs.drill) text += `${inputs.drill.text}\n`;
  text += `${stale ? 'STALE' : 'ok'}: ${backupVerdict}\n`;
  if (drillStale) text += `STALE DRILL: no drill has proven a snapshot restorable within --max-drill-age\n`;
  return { exitCode, verdict, stale, json, text };
}
