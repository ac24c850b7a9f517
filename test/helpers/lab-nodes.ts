// Checks shared by the node-host suites (test/e2e/lab-nodes.test.ts with 10 nodes, test/scale with 200).
import { expect } from 'chai';
import { labProcesses, labStatus, readLabState, type LabHostStatus, type LabState } from '../../src/lab/index.js';
import { isAlive, processesInMountNamespaces } from '../../src/lab/processes.js';
import { stopLab, type LabInfo } from './lab.js';

/** Every node is up with sshd, kubelet and kube-proxy and nothing else; returns the status report's nodes. */
export async function expectNodesServing(lab: LabInfo): Promise<LabHostStatus[]> {
  const report = await labStatus({ dir: lab.dir });
  const nodes = report.hosts.filter((host) => host.role === 'node');
  expect(nodes).to.have.length(lab.nodes.length);
  for (const node of nodes) {
    expect(node.running && node.sshd, node.address).to.equal(true);
    expect(node.services, node.address).to.deep.equal({ kubelet: 'active', 'kube-proxy': 'active' });
    // sshd, and a shell and its sleep per stand-in: what a node runs is fixed, so its memory is bounded.
    expect(node.memory?.processes, node.address).to.equal(5);
  }
  return nodes;
}

export function memorySummary(nodes: readonly LabHostStatus[]): string {
  const pss = nodes.map((node) => (node.memory?.pssKiB ?? 0) / 1024);
  const rss = nodes.map((node) => (node.memory?.rssKiB ?? 0) / 1024);
  const average = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  return `${nodes.length} node hosts: PSS ${average(pss).toFixed(2)} MiB average (max ${Math.max(...pss).toFixed(2)}), RSS ${average(rss).toFixed(2)} MiB average`;
}

/** lab down stops every process of the lab (by pid) and leaves no process in any host's namespace. */
export async function expectCleanDown(lab: LabInfo): Promise<{ stopped: number; ms: number }> {
  const state = (await readLabState(lab.stateFile)) as LabState;
  const pids = await labProcesses(state);
  const began = Date.now();
  const report = await stopLab(lab.dir);
  const ms = Date.now() - began;
  expect(report.found).to.equal(true);
  const alive = (await Promise.all(pids.map(async (pid) => ((await isAlive(pid)) ? pid : undefined)))).filter((pid) => pid !== undefined);
  expect(alive).to.deep.equal([]);
  expect((await processesInMountNamespaces(new Set(state.hosts.map((host) => host.mountNamespace ?? '')))).size).to.equal(0);
  return { stopped: pids.length, ms };
}
