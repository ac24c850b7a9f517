// What e2e tests read and change in a lab's etcd, through Debian's etcdctl (never through the code under test).
import { etcdctlInLab, type LabInfo } from './lab.js';

/** Every key and value of the cluster. */
export async function keyValues(lab: LabInfo): Promise<Map<string, string>> {
  const result = await etcdctlInLab(lab, ['get', '', '--prefix', '-w', 'json']);
  if (result.code !== 0) throw new Error(`etcdctl get failed: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as { kvs?: { key: string; value?: string }[] };
  return new Map((parsed.kvs ?? []).map((kv) => [Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value ?? '', 'base64').toString()]));
}

export async function putKey(lab: LabInfo, key: string, value: string): Promise<void> {
  const result = await etcdctlInLab(lab, ['put', key, value]);
  if (result.code !== 0) throw new Error(`etcdctl put failed: ${result.stderr}`);
}

/** Delete every pod and add a rogue key: the data loss a restore must undo. */
export async function damage(lab: LabInfo, rogue: string): Promise<void> {
  const deleted = await etcdctlInLab(lab, ['del', '/registry/pods/', '--prefix']);
  if (deleted.code !== 0) throw new Error(`etcdctl del failed: ${deleted.stderr}`);
  await putKey(lab, rogue, 'must not survive the restore');
}

export interface MemberStatus {
  address: string;
  memberId: string;
  leader: string;
  clusterId: string;
}

/** What every member says about itself, asked one member at a time (ids in hex). */
export async function memberStatuses(lab: LabInfo): Promise<MemberStatus[]> {
  const rows: MemberStatus[] = [];
  for (const host of lab.hosts) {
    const result = await etcdctlInLab(lab, ['endpoint', 'status', '-w', 'json'], [host.address]);
    if (result.code !== 0) throw new Error(`endpoint status ${host.address} failed: ${result.stderr}`);
    // etcdctl prints ids as JSON numbers beyond 2^53: read them as text.
    const [row] = JSON.parse(result.stdout.replace(/:\s*(\d{15,})/g, ':"$1"')) as {
      Status: { header: { member_id: number | string; cluster_id: number | string }; leader: number | string };
    }[];
    const hex = (value: number | string) => BigInt(value).toString(16);
    rows.push({
      address: host.address,
      memberId: hex(row!.Status.header.member_id),
      leader: hex(row!.Status.leader),
      clusterId: hex(row!.Status.header.cluster_id),
    });
  }
  return rows;
}

/** Wait (bounded, 60 s) until `members` endpoints report healthy. */
export async function waitHealthy(lab: LabInfo, members = lab.hosts.length): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const result = await etcdctlInLab(lab, ['endpoint', 'health']);
    if (result.code === 0 && (result.stdout + result.stderr).split('is healthy').length - 1 === members) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the lab cluster did not become healthy');
}
