// Reading the registered results of earlier backup tasks (plain values after templating) back into
// typed shapes. A skipped or failed task gives `undefined` plus its message.
import type { EtcdMember, Inventory } from '../../config/types.js';
import { etcdMembers } from '../../config/etcd-vars.js';
import type { ClusterSurvey, TakenSnapshot } from '../../backup/backup-flow.js';

export type Registered = Record<string, unknown>;

export function asRegistered(value: unknown): Registered | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Registered) : undefined;
}

/** `failed: true` or `skipped: true` with the message, or the value itself. */
export function outcomeOf(value: unknown): { state: 'ok'; value: Registered } | { state: 'failed' | 'skipped' | 'missing'; msg?: string } {
  const registered = asRegistered(value);
  if (!registered) return { state: 'missing' };
  if (registered.skipped === true) return { state: 'skipped' };
  if (registered.failed === true) return { state: 'failed', msg: typeof registered.msg === 'string' ? registered.msg : 'failed' };
  return { state: 'ok', value: registered };
}

export function surveyOf(value: Registered): ClusterSurvey | undefined {
  const members = value.members;
  const candidates = value.candidates;
  if (!Array.isArray(members) || !Array.isArray(candidates)) return undefined;
  return {
    members: members as ClusterSurvey['members'],
    candidates: candidates as ClusterSurvey['candidates'],
    ...(typeof value.cluster_id === 'string' ? { clusterId: value.cluster_id } : {}),
    ...(typeof value.version === 'string' ? { version: value.version } : {}),
    ...(typeof value.leader === 'string' ? { leader: value.leader } : {}),
  };
}

/** The result fields etcd.snapshot and etcd.snapshot-on-member both return. */
export function takenResult(taken: TakenSnapshot): Registered {
  return {
    partial_path: taken.partialPath,
    bytes: taken.bytes,
    sha256: taken.sha256,
    ...(taken.digests ? { data_sha256: taken.digests.dataSha256.toString('hex'), tail: taken.digests.tail.toString('hex') } : {}),
    member: taken.member,
    host: taken.host,
    method: taken.method,
    taken_at: taken.takenAt,
    duration_ms: taken.durationMs,
  };
}

export function takenOf(value: Registered): TakenSnapshot | undefined {
  const str = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : undefined);
  const partialPath = str('partial_path');
  const takenAt = str('taken_at');
  const member = str('member');
  if (!partialPath || !takenAt || !member || typeof value.bytes !== 'number') return undefined;
  const dataSha = str('data_sha256');
  const tail = str('tail');
  return {
    partialPath,
    bytes: value.bytes,
    sha256: str('sha256') ?? '',
    ...(dataSha && tail
      ? { digests: { dataSha256: Buffer.from(dataSha, 'hex'), tail: Buffer.from(tail, 'hex'), sha256: str('sha256') ?? '', bytes: value.bytes } }
      : {}),
    member,
    host: str('host') ?? '',
    method: value.method === 'etcdctl' ? 'etcdctl' : 'client',
    takenAt,
    durationMs: typeof value.duration_ms === 'number' ? value.duration_ms : 0,
  };
}

/** Members named in `names` (strings or `{ name }` objects), in that order; unknown names are reported. */
export function membersByName(inventory: Inventory, names: readonly unknown[]): { members: EtcdMember[]; unknown: string[] } {
  const all = etcdMembers(inventory);
  const members: EtcdMember[] = [];
  const unknown: string[] = [];
  for (const item of names) {
    const name = typeof item === 'string' ? item : (asRegistered(item)?.name as string | undefined);
    const member = all.find((m) => m.name === name || m.host === name);
    if (member) members.push(member);
    else unknown.push(String(name));
  }
  return { members, unknown };
}
