// Waiting for the lab's etcd members to form a healthy cluster, with a bound, and explaining it when they don't.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { clientUrl, etcdctl, type EtcdClientFiles } from './etcdctl.js';
import { LabError } from './lab-error.js';

export async function memberHealthy(files: EtcdClientFiles, address: string, timeoutMs = 3_000): Promise<boolean> {
  const result = await etcdctl(files, [clientUrl(address)], ['endpoint', 'health'], { timeoutMs });
  return result.code === 0 && /is healthy/.test(`${result.stdout}${result.stderr}`);
}

export interface MemberForHealth {
  address: string;
  upperDir: string;
}

/** The newest log of a member's etcd: its unit's (kubeasz) or its static pod container's (kubeadm). */
export async function etcdLogTail(upperDir: string, topology: 'kubeasz' | 'kubeadm', lines = 6): Promise<string> {
  let file = join(upperDir, 'var/log/lab-units/etcd.log');
  if (topology === 'kubeadm') {
    const podsDir = join(upperDir, 'var/log/pods');
    const pods = (await readdir(podsDir).catch(() => [] as string[])).filter((name) => name.startsWith('kube-system_etcd-'));
    const logs = (
      await Promise.all(pods.map(async (pod) => (await readdir(join(podsDir, pod, 'etcd')).catch(() => [] as string[])).map((name) => join(podsDir, pod, 'etcd', name))))
    ).flat();
    const dated = await Promise.all(logs.map(async (path) => ({ path, mtime: (await stat(path).catch(() => undefined))?.mtimeMs ?? 0 })));
    file = dated.sort((a, b) => b.mtime - a.mtime)[0]?.path ?? join(upperDir, 'var/log/lab-kubelet.log');
  }
  const log = await readFile(file, 'utf8').catch(() => '(no etcd log)');
  return log.trim().split('\n').slice(-lines).join('\n    ');
}

/** Polls `etcdctl endpoint health` on every member until all are healthy or `timeoutMs` passes. */
export async function waitForHealthyCluster(
  files: EtcdClientFiles,
  members: readonly MemberForHealth[],
  timeoutMs: number,
  topology: 'kubeasz' | 'kubeadm' = 'kubeasz',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const healthy = new Set<string>();
  while (healthy.size < members.length && Date.now() < deadline) {
    const pending = members.filter((member) => !healthy.has(member.address));
    const results = await Promise.all(pending.map(async (member) => ({ member, ok: await memberHealthy(files, member.address, 3_000) })));
    for (const { member, ok } of results) if (ok) healthy.add(member.address);
    if (healthy.size < members.length) await new Promise((resolveSleep) => setTimeout(resolveSleep, 150));
  }
  const unhealthy = members.filter((member) => !healthy.has(member.address));
  if (unhealthy.length === 0) return;
  const details = await Promise.all(
    unhealthy.map(async (member) => {
      return `${member.address}:\n    ${await etcdLogTail(member.upperDir, topology)}`;
    }),
  );
  throw new LabError(
    `etcd did not become healthy within ${timeoutMs} ms on ${unhealthy.map((member) => member.address).join(', ')}\n  ${details.join('\n  ')}`,
    'run `orchestrate lab up --keep-on-failure` to keep the hosts for a look at their logs',
    'lab.etcd-unhealthy',
  );
}
