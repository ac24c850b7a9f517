// Waiting for the lab's etcd members to form a healthy cluster, with a bound, and explaining it when they don't.
import { readFile } from 'node:fs/promises';
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

/** Polls `etcdctl endpoint health` on every member until all are healthy or `timeoutMs` passes. */
export async function waitForHealthyCluster(files: EtcdClientFiles, members: readonly MemberForHealth[], timeoutMs: number): Promise<void> {
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
      const log = await readFile(join(member.upperDir, 'var/log/lab-units/etcd.log'), 'utf8').catch(() => '(no etcd log)');
      return `${member.address}:\n    ${log.trim().split('\n').slice(-6).join('\n    ')}`;
    }),
  );
  throw new LabError(
    `etcd did not become healthy within ${timeoutMs} ms on ${unhealthy.map((member) => member.address).join(', ')}\n  ${details.join('\n  ')}`,
    'run `orchestrate lab up --keep-on-failure` to keep the hosts for a look at their logs',
    'lab.etcd-unhealthy',
  );
}
