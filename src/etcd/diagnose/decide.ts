// The way out of a cluster that lost its quorum, chosen by the least data lost, in this order:
//   start     enough members are intact (or running) for a quorum: start them as they are, then replace the
//             broken ones. Nothing committed is lost (every committed entry is on a majority, and the
//             members started include one that has it).
//   rebuild   no quorum can form: restore every member, each with its own identity, from a copy of the db
//             of the member whose db has applied the most (highest consistent index). Lost: what no intact
//             db had applied yet (entries in WALs beyond that index).
//   snapshot  no sound db anywhere: the newest verified snapshot. Lost: everything written after it.
// A pure function of what diagnosis found, so every case is a row in a table test.
import { quorumSize } from '../cluster/health.js';
import { judgeMember, clusterContextOf, type JudgedMember, type MemberDiagnosis } from './member-state.js';

export type RecoveryPath = 'start' | 'rebuild' | 'snapshot';

export interface SnapshotCandidate {
  path: string;
  revision: number;
  /** ISO time it was taken. */
  takenAt: string;
}

export type FromOverride = { kind: 'member'; host: string } | { kind: 'snapshot' };

export interface RecoveryInput {
  /** In inventory order. */
  members: readonly MemberDiagnosis[];
  snapshot?: SnapshotCandidate;
  from?: FromOverride;
}

/** What one way out would cost, or why it is not possible. */
export interface RecoveryOption {
  path: RecoveryPath;
  possible: boolean;
  /** Why not (when not possible), or what it does. */
  note: string;
  /** Revisions that would be lost (at least; the WALs may hold more that no db applied). */
  lostRevisions?: number;
  /** Raft entries beyond what the source applied (an upper bound on the writes lost). */
  lostEntries?: number;
  /** Wall time of the writes lost, in ms (from file times and the snapshot's time). */
  lostMs?: number;
  /** rebuild: the member whose db is copied; snapshot: the file. */
  source?: string;
}

export type RecoveryChoice =
  | { kind: 'nothing'; reason: string }
  | { kind: 'refuse'; reason: string; fix: string }
  | { kind: 'start'; reason: string; start: string[]; replace: string[]; leave: { host: string; why: string }[] }
  | { kind: 'rebuild'; reason: string; source: string }
  | { kind: 'snapshot'; reason: string; snapshot: SnapshotCandidate };

export interface RecoveryDecision {
  members: JudgedMember[];
  quorum: number;
  /** The freshest revision any member holds (db or live answer). */
  freshestRevision: number;
  options: RecoveryOption[];
  choice: RecoveryChoice;
}

const AVAILABLE = new Set(['healthy', 'no-quorum', 'intact']);
const label = (m: JudgedMember): string => `${m.diagnosis.name} (${m.diagnosis.host})`;
const list = (members: readonly JudgedMember[]): string => members.map(label).join(', ');

function revisionOf(m: JudgedMember): number {
  const live = m.diagnosis.observation?.ok ? (m.diagnosis.observation.revision ?? 0) : 0;
  return Math.max(live, m.usableDb ? (m.diagnosis.db?.revision ?? 0) : 0);
}

/** The best db to rebuild from: the most applied entries, then the newest revision, then an intact WAL. */
export function freshestDb(members: readonly JudgedMember[]): JudgedMember | undefined {
  const usable = members.filter((m) => m.usableDb);
  const score = (m: JudgedMember): [number, number, number] => [
    m.diagnosis.db?.consistentIndex ?? 0,
    m.diagnosis.db?.revision ?? 0,
    m.state === 'intact' ? 1 : 0,
  ];
  return usable.reduce<JudgedMember | undefined>((best, m) => {
    if (!best) return m;
    const [a, b] = [score(m), score(best)];
    // Compare the scores in order: the first that differs decides.
    const differs = a.findIndex((value, i) => value !== b[i]);
    return differs >= 0 && (a[differs] ?? 0) > (b[differs] ?? 0) ? m : best;
  }, undefined);
}

type ThreeOptions = [start: RecoveryOption, rebuild: RecoveryOption, snapshot: RecoveryOption];

function options(members: readonly JudgedMember[], quorum: number, freshest: number, snapshot?: SnapshotCandidate): ThreeOptions {
  const available = members.filter((m) => AVAILABLE.has(m.state));
  const lastWrite = Math.max(0, ...members.map((m) => m.diagnosis.lastWrite ?? 0)) * 1000;
  const highestIndex = Math.max(0, ...members.map((m) => Math.max(m.diagnosis.wal?.commitIndex ?? 0, m.diagnosis.db?.consistentIndex ?? 0)));
  const start: RecoveryOption =
    available.length >= quorum
      ? {
          path: 'start',
          possible: true,
          note: `${available.length} of ${members.length} members can run as they are (quorum ${quorum})`,
          lostRevisions: 0,
          lostEntries: 0,
          lostMs: 0,
        }
      : {
          path: 'start',
          possible: false,
          note: `only ${available.length} of ${members.length} members can run as they are; a quorum needs ${quorum}`,
        };
  const best = freshestDb(members);
  const rebuild: RecoveryOption = best
    ? {
        path: 'rebuild',
        possible: true,
        source: best.diagnosis.host,
        note: `from the db of ${label(best)} (revision ${best.diagnosis.db?.revision ?? 0}, applied index ${best.diagnosis.db?.consistentIndex ?? 0})`,
        lostRevisions: Math.max(0, freshest - (best.diagnosis.db?.revision ?? 0)),
        lostEntries: Math.max(0, highestIndex - (best.diagnosis.db?.consistentIndex ?? 0)),
        ...(lastWrite && best.diagnosis.db?.mtime ? { lostMs: Math.max(0, lastWrite - best.diagnosis.db.mtime * 1000) } : {}),
      }
    : { path: 'rebuild', possible: false, note: 'no member has a sound db' };
  const snap: RecoveryOption = snapshot
    ? {
        path: 'snapshot',
        possible: true,
        source: snapshot.path,
        note: `the newest verified snapshot (revision ${snapshot.revision}, taken ${snapshot.takenAt})`,
        lostRevisions: Math.max(0, freshest - snapshot.revision),
        ...(lastWrite ? { lostMs: Math.max(0, lastWrite - new Date(snapshot.takenAt).getTime()) } : {}),
      }
    : { path: 'snapshot', possible: false, note: 'no verified snapshot in backup_dir' };
  return [start, rebuild, snap];
}

function startChoice(members: readonly JudgedMember[], reason: string): RecoveryChoice {
  const leave = members
    .filter((m) => m.state === 'certificate' || m.state === 'unreachable' || m.state === 'unknown')
    .map((m) => ({
      host: m.diagnosis.host,
      why: m.state === 'certificate' ? `certificate: ${m.detail} - renew it; its data is kept as it is` : m.detail,
    }));
  return {
    kind: 'start',
    reason,
    start: members.filter((m) => m.state === 'intact' || m.state === 'no-quorum').map((m) => m.diagnosis.host),
    replace: members.filter((m) => m.state === 'damaged' || m.state === 'empty').map((m) => m.diagnosis.host),
    leave,
  };
}

function override(from: FromOverride, members: readonly JudgedMember[], opts: RecoveryOption[], snapshot?: SnapshotCandidate): RecoveryChoice {
  if (from.kind === 'snapshot') {
    if (!snapshot)
      return {
        kind: 'refuse',
        reason: '--from snapshot: there is no verified snapshot in backup_dir',
        fix: 'take one with orchestrate backup, or restore a file of your choice with orchestrate restore --snapshot FILE',
      };
    return { kind: 'snapshot', reason: '--from snapshot', snapshot };
  }
  const member = members.find((m) => m.diagnosis.host === from.host || m.diagnosis.name === from.host);
  if (!member) return { kind: 'refuse', reason: `--from ${from.host}: no such member in the inventory`, fix: `name one of ${list(members)}` };
  if (!member.usableDb)
    return {
      kind: 'refuse',
      reason: `--from ${from.host}: its db is not sound (${member.detail})`,
      fix: 'pick a member whose db verifies, or --from snapshot',
    };
  const rebuild = opts.find((o) => o.path === 'rebuild');
  const lost = rebuild?.source === member.diagnosis.host ? '' : ' (not the freshest db: see the table for what it loses)';
  return { kind: 'rebuild', reason: `--from ${label(member)}${lost}`, source: member.diagnosis.host };
}

export function decideRecovery(input: RecoveryInput): RecoveryDecision {
  const cluster = clusterContextOf(input.members);
  const members = input.members.map((m) => judgeMember(m, cluster));
  const quorum = quorumSize(members.length);
  const freshestRevision = Math.max(0, ...members.map(revisionOf), input.snapshot?.revision ?? 0);
  const opts = options(members, quorum, freshestRevision, input.snapshot);
  const [start, rebuild, snap] = opts;
  const decision = (choice: RecoveryChoice): RecoveryDecision => ({ members, quorum, freshestRevision, options: opts, choice });
  if (input.from) return decision(override(input.from, members, opts, input.snapshot));
  const of = (...states: string[]) => members.filter((m) => states.includes(m.state));
  if (of('healthy').length === members.length) return decision({ kind: 'nothing', reason: `all ${members.length} members are healthy` });
  if (start.possible) {
    const healthy = of('healthy').length >= quorum;
    return decision(
      startChoice(members, healthy ? `the cluster has its quorum; ${start.note}: nothing is lost` : `${start.note}: starting them loses nothing`),
    );
  }
  const blocked = of('certificate');
  if (of('healthy', 'no-quorum', 'intact').length + blocked.length >= quorum) {
    return decision({
      kind: 'refuse',
      reason: `the data of ${list([...of('healthy', 'no-quorum', 'intact'), ...blocked])} is intact, enough for a quorum, but certificates stop ${list(blocked)}: ${blocked.map((m) => m.detail).join('; ')}`,
      fix: 'renew those certificates, then run recover again: it starts the members as they are; a restore would lose data for nothing',
    });
  }
  const unseen = of('unreachable', 'unknown');
  if (unseen.length > 0) {
    return decision({
      kind: 'refuse',
      reason: `no quorum can form, and ${list(unseen)} could not be read (${unseen.map((m) => m.detail).join('; ')}): it may hold the freshest data, and a rebuild replaces every member's data`,
      fix: 'bring it back (or take it out of the inventory), then run recover again',
    });
  }
  if (
    rebuild.possible &&
    rebuild.source !== undefined &&
    !(snap.possible && (input.snapshot?.revision ?? 0) > (members.find((m) => m.diagnosis.host === rebuild.source)?.diagnosis.db?.revision ?? 0))
  ) {
    return decision({
      kind: 'rebuild',
      reason: `no quorum can form (${start.note}); the freshest db is ${rebuild.note}`,
      source: rebuild.source,
    });
  }
  if (snap.possible && input.snapshot) {
    return decision({
      kind: 'snapshot',
      reason: `no quorum can form and ${rebuild.possible ? 'the snapshot is newer than any db' : 'no member has a sound db'}`,
      snapshot: input.snapshot,
    });
  }
  return decision({
    kind: 'refuse',
    reason: 'no quorum can form, no member has a sound db and there is no verified snapshot',
    fix: 'look at the members by hand; nothing was changed',
  });
}
