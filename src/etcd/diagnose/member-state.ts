// One member's diagnosis put together (what its disks say, what it answers, its certificates) and judged:
// the state the recovery decision works from.
import type { MemberObservation } from '../cluster/observe.js';
import type { DbFacts } from './db.js';
import type { WalFacts } from './wal.js';

export interface CertificateCheck {
  file: string;
  /** What the file is to etcd (--cert-file, --peer-cert-file, etcd_ca_file...). */
  role: string;
  subject?: string;
  notBefore?: string;
  notAfter?: string;
  daysLeft?: number;
  /** Expired, not yet valid, unreadable: etcd or its peers will refuse it. */
  problem?: string;
}

/** What was read on a member (over SSH) and asked of it (through the etcd client). */
export interface MemberDiagnosis {
  host: string;
  name: string;
  /** The SSH connection failed (nothing could be read). */
  unreachable?: string;
  /** Reading failed part-way (a command failed): what is known is kept. */
  readErrors: string[];
  /** Its answer to a status call (deploy host, etcd client, short deadline). */
  observation?: MemberObservation;
  serviceActive?: boolean;
  /** The data dir as the member's configuration names it (where the db was read). */
  dataDirPath?: string;
  dataDir?: boolean;
  memberDir?: boolean;
  db?: DbFacts;
  wal?: WalFacts;
  /** The newest raft snapshot file (member/snap/*.snap) by name. */
  newestSnap?: { name: string; index: number; term: number };
  certificates: CertificateCheck[];
  /** Seconds since the epoch of the newest write seen on disk (a WAL segment or the db). */
  lastWrite?: number;
}

/**
 * healthy: answers, sees a leader. no-quorum: answers, sees none (its peers are down). intact: not running,
 * its db and WAL verify and agree, certificates valid: it can be started as it is. certificate: its
 * certificate is expired or not yet valid (its data is not the problem). damaged: the db or the WAL does not
 * verify, or they disagree, or the data belongs to another cluster or to a removed member. empty: no data.
 * unreachable: SSH failed. unknown: reading failed.
 */
export type MemberState = 'healthy' | 'no-quorum' | 'intact' | 'certificate' | 'damaged' | 'empty' | 'unreachable' | 'unknown';

export interface JudgedMember {
  diagnosis: MemberDiagnosis;
  state: MemberState;
  /** Why, in a few words, for the table. */
  detail: string;
  /** Its db can be the source of a rebuild (sound, whatever the WAL). */
  usableDb: boolean;
}

/** Context that only the whole cluster gives: the cluster id most members' data belongs to, the live member list. */
export interface ClusterContext {
  clusterId?: string;
  /** Member ids the live cluster lists (when some member answers with a leader). */
  liveMemberIds?: Set<string>;
}

export function clusterContextOf(members: readonly MemberDiagnosis[]): ClusterContext {
  const votes = new Map<string, number>();
  for (const m of members) {
    const id = m.observation?.ok ? m.observation.clusterId : m.wal?.clusterId;
    if (id && id !== '0') votes.set(id, (votes.get(id) ?? 0) + 1);
  }
  const clusterId = [...votes].sort((a, b) => b[1] - a[1])[0]?.[0];
  const live = members.find((m) => m.observation?.ok && m.observation.leaderId !== '0' && m.observation.members);
  return {
    ...(clusterId ? { clusterId } : {}),
    ...(live?.observation?.members ? { liveMemberIds: new Set(live.observation.members.map((x) => x.id)) } : {}),
  };
}

function dataProblem(m: MemberDiagnosis, cluster: ClusterContext): string | undefined {
  const { db, wal } = m;
  if (!db) return 'no db (member/snap/db)';
  if (!db.ok) return `db: ${db.problems.join('; ')}`;
  if (!wal || wal.state === 'missing') return wal?.problem ?? 'no WAL';
  if (wal.state === 'truncated' || wal.state === 'corrupt') return `WAL ${wal.state}: ${wal.problem ?? ''}`.trim();
  if (db.consistentIndex > Math.max(wal.lastIndex, wal.snapshotIndex)) {
    return `the db has applied entry ${db.consistentIndex} but the WAL ends at ${wal.lastIndex}: entries are missing from the WAL`;
  }
  if (cluster.clusterId && wal.clusterId && wal.clusterId !== cluster.clusterId)
    return `its data belongs to cluster ${wal.clusterId}, the others' to ${cluster.clusterId}`;
  if (cluster.liveMemberIds && wal.nodeId && !cluster.liveMemberIds.has(wal.nodeId)) {
    return `its data is member ${wal.nodeId}, which the running cluster no longer lists (removed or replaced)`;
  }
  return undefined;
}

export function judgeMember(m: MemberDiagnosis, cluster: ClusterContext): JudgedMember {
  const usableDb = m.db?.ok === true;
  const judged = (state: MemberState, detail: string): JudgedMember => ({ diagnosis: m, state, detail, usableDb });
  const obs = m.observation;
  if (obs?.ok && !obs.isLearner) {
    if (obs.leaderId && obs.leaderId !== '0') return judged('healthy', `answers, leader ${obs.isLeader ? 'itself' : obs.leaderId}`);
    return judged('no-quorum', 'answers but sees no leader');
  }
  if (m.unreachable) return judged('unreachable', `SSH: ${m.unreachable}`);
  if (m.readErrors.length > 0 && !m.db && !m.wal) return judged('unknown', m.readErrors.join('; '));
  const certificates = m.certificates.filter((c) => c.problem);
  if (m.dataDir === false || m.memberDir === false || (!m.db && !m.wal?.files.length)) {
    return judged('empty', m.dataDir === false ? 'no data dir' : 'no member/ data in the data dir');
  }
  const problem = dataProblem(m, cluster);
  if (problem) return judged('damaged', problem);
  if (certificates.length > 0) return judged('certificate', certificates.map((c) => `${c.file}: ${c.problem ?? ''}`).join('; '));
  const torn = m.wal?.state === 'torn-tail' ? ' (torn last record: etcd cuts it off on start)' : '';
  return judged('intact', `${m.serviceActive ? 'running but not answering' : 'stopped'}, db and WAL verify${torn}`);
}
