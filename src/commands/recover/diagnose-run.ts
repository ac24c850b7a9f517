// Diagnosis of every member at once: playbooks/recover-diagnose.yml (read-only, over SSH, every member in
// parallel; a member whose SSH does not answer is reported, not fatal) while the etcd client asks each member
// for its status and member list, and the backup catalog names the newest verified snapshot. Without a
// client certificate here (etcd_access: ssh), etcdctl asks each member on the member once the playbook has
// read which certificate its configuration names.
import { etcdAccess, requireEtcd } from '../../config/etcd-vars.js';
import type { EtcdMember, Inventory } from '../../config/types.js';
import type { ConnectionOptions } from '../../engine/connections.js';
import type { MemberObservation, ObserveCluster } from '../../etcd/cluster/observe.js';
import type { SnapshotCandidate } from '../../etcd/diagnose/decide.js';
import type { MemberDiagnosis } from '../../etcd/diagnose/member-state.js';
import { newestVerifiedSnapshot } from '../../etcd/restore/snapshot-source.js';
import { clusterObserver, observeClusterKey } from '../../modules/etcd-access.js';
import type { MemberDiskFacts } from '../../modules/recover/etcd-diagnose.js';
import { packagePath } from '../../package-root.js';
import { Procedure } from '../procedure.js';

export const recoverDiagnosePlaybookPath = packagePath('playbooks', 'recover-diagnose.yml');

export interface Diagnosis {
  members: MemberDiagnosis[];
  snapshot?: SnapshotCandidate;
  /** Why no snapshot is offered (none, or none verifies). */
  snapshotNote?: string;
  ms: number;
  /** Round trips and bytes read on the members, all together. */
  reads: number;
  bytes: number;
}

function memberDiagnosis(
  member: EtcdMember,
  observation: MemberObservation,
  disk: (MemberDiskFacts & { dataDirPath?: string }) | undefined,
  failure: string | undefined,
  unreachable: string | undefined,
): MemberDiagnosis {
  const diagnosis: MemberDiagnosis = {
    host: member.host,
    name: member.name,
    readErrors: [...(disk?.readErrors ?? [])],
    observation,
    certificates: disk?.certificates ?? [],
  };
  if (unreachable) diagnosis.unreachable = unreachable;
  else if (failure && !disk) diagnosis.readErrors.push(failure);
  if (!disk) return diagnosis;
  diagnosis.serviceActive = disk.serviceActive;
  if (disk.dataDirPath) diagnosis.dataDirPath = disk.dataDirPath;
  diagnosis.dataDir = disk.dataDir;
  diagnosis.memberDir = disk.memberDir;
  if (disk.db) diagnosis.db = disk.db;
  if (disk.wal) diagnosis.wal = disk.wal;
  if (disk.newestSnap) diagnosis.newestSnap = disk.newestSnap;
  if (disk.lastWrite !== undefined) diagnosis.lastWrite = disk.lastWrite;
  return diagnosis;
}

export async function diagnoseCluster(inventory: Inventory, connect: ConnectionOptions, observe?: ObserveCluster): Promise<Diagnosis> {
  const started = Date.now();
  const members = requireEtcd(inventory);
  type Found = { snapshot?: SnapshotCandidate; note?: string };
  const snapshotLookup = newestVerifiedSnapshot(inventory).then(
    (s): Found => ({ snapshot: { path: s.path, revision: s.revision, takenAt: s.takenAt } }),
    (error: unknown): Found => ({ note: error instanceof Error ? error.message : String(error) }),
  );
  const procedure = await Procedure.open(
    { inventory, playbookFile: recoverDiagnosePlaybookPath, extraVars: {}, connection: connect, allowUnreachable: true },
    true,
  );
  if (observe) procedure.session.state.set(observeClusterKey, observe);
  const observeMembers = () => clusterObserver(procedure.session.state, inventory)(members, { timeoutMs: 2_000, memberList: true });
  let reads = 0;
  let bytes = 0;
  try {
    // Over SSH the member's certificate is the one its configuration names, which the playbook reads first.
    const overSsh = etcdAccess(inventory) === 'ssh';
    const observing = overSsh ? undefined : observeMembers();
    const run = await procedure.pass({ dryRun: true });
    const phase = run.phases.find((p) => p.id === 'diagnose');
    const observations = await (observing ?? observeMembers());
    const diagnoses = members.map((member, i) => {
      const observation = observations[i] ?? {
        name: member.name,
        host: member.host,
        endpoint: member.clientUrl,
        ok: false,
        durationMs: 0,
        error: 'not observed',
      };
      // The phase reads the member's configuration first, then its disks: the task that registered `disk`.
      const outcome = phase?.results.get(member.host)?.find((r) => r.result.result.disk !== undefined)?.result;
      const found = outcome?.status === 'ok' || outcome?.status === 'changed' ? (outcome.result.disk as MemberDiskFacts | undefined) : undefined;
      const dataDirPath = outcome?.result.data_dir;
      const disk = found && typeof dataDirPath === 'string' ? { ...found, dataDirPath } : found;
      reads += disk?.reads ?? 0;
      bytes += disk?.bytes ?? 0;
      return memberDiagnosis(member, observation, disk, phase?.failures.get(member.host), procedure.unreachable.get(member.host));
    });
    const found = await snapshotLookup;
    return {
      members: diagnoses,
      ...(found.snapshot ? { snapshot: found.snapshot } : {}),
      ...(found.note ? { snapshotNote: found.note } : {}),
      ms: Date.now() - started,
      reads,
      bytes,
    };
  } finally {
    await procedure.close();
  }
}
