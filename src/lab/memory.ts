// Memory of each lab host: the sum over its processes (everything in its mount namespace, plus static pod
// containers that have one of their own) of the proportional set size, PSS, which shares each shared page
// (libraries, the sshd and etcd binaries every host maps) among the processes that map it; so the hosts'
// figures add up to what the lab really costs. RSS is given too (what `ps` shows; it counts shared pages
// once per process).
import { readFile } from 'node:fs/promises';
import { containerProcesses } from './lab-down.js';
import type { LabState } from './lab-state.js';
import { processesInMountNamespaces } from './processes.js';

export interface HostMemory {
  pssKiB: number;
  rssKiB: number;
  processes: number;
}

async function rollup(pid: number): Promise<{ pss: number; rss: number } | undefined> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { pss: field('Pss'), rss: field('Rss') };
}

/** PSS and RSS per host address (a host that is not running has no entry). */
export async function labHostMemory(state: LabState): Promise<Map<string, HostMemory>> {
  const namespaces = new Set(state.hosts.map((host) => host.mountNamespace).filter((ns): ns is string => ns !== undefined));
  const byNamespace = await processesInMountNamespaces(namespaces);
  const result = new Map<string, HostMemory>();
  for (const host of state.hosts) {
    const pids = new Set(host.mountNamespace ? (byNamespace.get(host.mountNamespace) ?? []) : []);
    for (const container of await containerProcesses(host)) pids.add(container.pid);
    if (pids.size === 0) continue;
    const usage = (await Promise.all([...pids].map(rollup))).filter((entry) => entry !== undefined);
    result.set(host.address, {
      pssKiB: usage.reduce((sum, entry) => sum + entry.pss, 0),
      rssKiB: usage.reduce((sum, entry) => sum + entry.rss, 0),
      processes: usage.length,
    });
  }
  return result;
}
