// What `orchestrate status` prints and exits with, from what it gathered: a pure function, so the
// text, the JSON and the exit code are tested without a cluster. Unhealthy (7) wins over stale (6);
// both are reported.
import { shownName, type ClusterSurvey } from '../etcd/cluster/observe.js';
import type { CatalogRecord } from '../etcd/backup/catalog.js';
import { judgeCluster, parseMemberErrors, type ClusterVerdict, type MemberState } from '../etcd/cluster/verdict.js';
import { formatAge, formatBytes, formatTable } from '../etcd/backup/format.js';
import type { SnapshotRow } from '../etcd/backup/snapshot-inventory.js';
import type { DrillFreshness } from '../drill/drill-freshness.js';
import { printable } from '../config/format-problems.js';
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
  /** With backup_remote: the newest verified remote copy, and the judgement asked for with --max-remote-age. */
  remote?: RemoteStatusInput;
}

export interface RemoteStatusInput {
  /** `s3://bucket/<prefix>snapshots/`. */
  where: string;
  /** `url`: `s3://bucket/key` of the copy, when known. */
  newest?: { takenAt: string; url?: string };
  /** Where the age came from: the remote catalog, or the local attempt log when the remote cannot be reached. */
  source: 'remote' | 'attempt log';
  warnings: string[];
  lastAttempt?: { result: 'ok' | 'failed'; end: string; error?: string };
  /** Given with --max-remote-age: the copy may be this old, else stale (exit 6). */
  maxAgeMs?: number;
  maxAgeText?: string;
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
  const remote = inputs.remote ? remoteStatus(inputs.remote, now) : undefined;
  const drillStale = inputs.drill?.stale === true;
  const exitCode = unhealthy ? ExitCode.unhealthy : stale || drillStale || remote?.stale ? ExitCode.stale : ExitCode.ok;
  const leaders = survey.members.filter((m) => m.ok && m.isLeader).map(shown);

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
    drill: inputs.drill ? drillJson(inputs.drill) : null,
    ...(remote ? { remote: remote.json } : {}),
    exitCode,
  };

  const lines: string[] = [];
  const clusterIds = [...new Set(survey.members.flatMap((m) => (m.ok && m.clusterId ? [m.clusterId] : [])))];
  const idText = clusterIds.length === 1 ? ` (id ${clusterIds[0]})` : clusterIds.length > 1 ? ` (ids ${clusterIds.join(', ')})` : '';
  const leaderText = leaders.length > 1 ? `leaders ${leaders.join(', ')}` : `leader ${leaders[0] ?? 'none'}`;
  lines.push(`cluster ${inputs.cluster}${idText}: ${verdict.quorum.healthy}/${survey.members.length} members healthy, ${leaderText}`);
  lines.push(quorumLine(verdict));
  const rows = memberRows(survey, verdict);
  let text = `${lines.join('\n')}\n${formatTable(['MEMBER', 'ENDPOINT', 'HEALTH', 'ROLE', 'REVISION', 'DB SIZE', 'VERSION', 'ANSWER'], rows)}`;
  const renamed = survey.members.filter((m) => m.memberName !== undefined);
  if (renamed.length > 0)
    text += `member names as the cluster lists them; the inventory's: ${renamed.map((m) => `${shown(m)} = ${m.name}`).join(', ')}\n`;
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
  if (remote) text += remote.text;
  // Names, versions, alarms and errors come from the cluster: no escape sequence reaches the terminal.
  return { exitCode, verdict, stale: stale || remote?.stale === true, json, text: printable(text, { keepNewlines: true }) };
}

/** The remote copy's age next to the local one; judged only when --max-remote-age was given. */
function remoteStatus(input: RemoteStatusInput, now: number): { stale: boolean; text: string; json: Record<string, unknown> } {
  const newest = input.newest;
  const ageMs = newest ? Math.max(0, now - Date.parse(newest.takenAt)) : undefined;
  const judged = input.maxAgeMs !== undefined;
  const stale = judged && (ageMs === undefined || ageMs > (input.maxAgeMs ?? 0));
  const limit = input.maxAgeText ?? '';
  const verdict =
    ageMs === undefined
      ? `no verified remote copy in ${input.where}`
      : `the newest verified remote copy is ${formatAge(ageMs)} old${judged ? (stale ? `, more than --max-remote-age ${limit}` : ` (max ${limit})`) : ''}`;
  const from = input.source === 'remote' ? 'the remote catalog' : 'the local attempt log: the remote could not be reached';
  let text = '';
  for (const warning of input.warnings) text += `WARNING: ${warning}\n`;
  if (newest && ageMs !== undefined) {
    text += `newest verified remote copy: ${newest.url ?? input.where}\n  taken ${newest.takenAt} (${formatAge(ageMs)} ago, from ${from})\n`;
  }
  const last = input.lastAttempt;
  if (last) text += `last remote copy attempt: ${last.result} at ${last.end}${last.error ? `: ${last.error}` : ''}\n`;
  text += judged ? `${stale ? 'STALE' : 'ok'}: ${verdict}\n` : `remote: ${verdict} (not judged: give --max-remote-age to alert on it)\n`;
  const json = {
    place: input.where,
    newestVerifiedCopy: newest && ageMs !== undefined ? { ...newest, ageSeconds: Math.round(ageMs / 1000) } : null,
    source: input.source,
    warnings: input.warnings,
    lastAttempt: last ?? null,
    maxAgeSeconds: input.maxAgeMs !== undefined ? input.maxAgeMs / 1000 : null,
    stale,
    verdict,
  };
  return { stale, text, json };
}

/** The `drill` object of `--json`: the last proven snapshot, the last attempt and the freshness verdict. */
function drillJson(drill: DrillFreshness): Record<string, unknown> {
  return {
    lastProvenSnapshot: drill.lastSuccess?.snapshot ?? null,
    lastSuccess: drill.lastSuccess?.end ?? null,
    lastAttempt: drill.lastAttempt ? { end: drill.lastAttempt.end, result: drill.lastAttempt.result } : null,
    ageSeconds: drill.ageMs === undefined ? null : Math.round(drill.ageMs / 1000),
    maxAgeSeconds: drill.maxAgeMs === undefined ? null : drill.maxAgeMs / 1000,
    stale: drill.stale,
    text: drill.text,
  };
}

/** A member's name as the cluster lists it, on one line: a newline in it could fake a line of the report. */
const shown = (m: Parameters<typeof shownName>[0]): string => printable(shownName(m));

/** One table row per member: name, endpoint, health (with alarms), role, revision, size, version, answer. */
function memberRows(survey: ClusterSurvey, verdict: ClusterVerdict): string[][] {
  return survey.members.map((m, i) => {
    const state = verdict.members[i] ?? { name: m.name, state: 'down' as const };
    const alarms = parseMemberErrors(m.alarms).alarms;
    return [
      shown(m),
      m.endpoint,
      `${stateLabels[state.state]}${alarms.length ? `, alarm ${alarms.join(',')}` : ''}`,
      m.ok ? (m.isLearner ? 'learner' : m.isLeader ? 'leader' : 'follower') : '-',
      m.revision !== undefined ? String(m.revision) : '-',
      formatBytes(m.dbSize),
      m.version ?? '-',
      m.ok ? `${m.durationMs} ms${state.state !== 'healthy' && state.detail ? `, ${state.detail}` : ''}` : (m.error ?? ''),
    ];
  });
}
