// `npm run bench -- restore-nodes`: does a restore's API-down time grow with the number of kube_node hosts?
// One kubeasz lab of 3 members and 100 node hosts, one snapshot, restored alternately with an inventory
// whose kube_node group is the 3 members only, with all 100 nodes (default --forks, 50), and with all 100
// nodes at --forks 10. From the restore's own JSON events: wall time, API down (the report's RTO), the
// kube_node stop and start phases, and how many hosts were in those phases at once (the peak overlap of
// their steps' intervals; never above --forks). Not in the default `npm run bench`.
//   RESTORE_NODES_COUNT=100  node hosts;  RESTORE_NODES_ROUNDS=2  rounds of each variant.
import { median, seconds, timed, type BenchRow } from './measure.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { clientUrl, etcdctl } from '../src/lab/etcdctl.js';
import { labDown, labUp, type LabInfo } from '../src/lab/index.js';
import { orchestrateCommand } from './restore-vs-script.js';

interface Variant {
  label: string;
  inventory: string;
  forks?: number;
}

interface RestoreRun {
  wallMs: number;
  apiDownMs: number;
  peakRssKb: number;
  phaseMs: Map<string, number>;
  /** Most hosts inside the phase's steps at one moment. */
  peakHosts: Map<string, number>;
}

interface JsonLine {
  type: string;
  phase?: string;
  host?: string;
  ms?: number;
  at?: string;
  rto?: { wallMs: number; apiDowntimeMs?: number };
}

/** The largest number of [at - ms, at] intervals open at one instant. */
export function peakOverlap(intervals: { at: string; ms: number }[]): number {
  const edges = intervals.flatMap(({ at, ms }) => {
    const end = Date.parse(at);
    return [
      { t: end - ms, d: 1 },
      { t: end, d: -1 },
    ];
  });
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let peak = 0;
  for (const edge of edges) peak = Math.max(peak, (open += edge.d));
  return peak;
}

function readRun(stdout: string, wallMs: number, peakRssKb: number): RestoreRun {
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as JsonLine);
  const report = lines.findLast((line) => line.type === 'report');
  const run: RestoreRun = { wallMs, apiDownMs: report?.rto?.apiDowntimeMs ?? Number.NaN, peakRssKb, phaseMs: new Map(), peakHosts: new Map() };
  for (const line of lines) if (line.type === 'phase-end' && line.phase) run.phaseMs.set(line.phase, line.ms ?? 0);
  for (const phase of ['stop-kube-node', 'start-kube-node']) {
    const steps = lines.filter((line) => line.type === 'step' && line.phase === phase && line.at && line.ms !== undefined);
    run.peakHosts.set(phase, peakOverlap(steps.map((step) => ({ at: step.at!, ms: step.ms! }))));
  }
  return run;
}

function inventoryWithNodes(lab: LabInfo, nodes: number, file: string): void {
  const inventory = parse(readFileSync(lab.inventoryFile, 'utf8')) as { all: { children: { kube_node: { hosts: Record<string, unknown> } } } };
  const keep = new Set([...lab.hosts, ...lab.nodes.slice(0, nodes)].map((host) => host.inventoryName));
  const kubeNode = inventory.all.children.kube_node;
  kubeNode.hosts = Object.fromEntries(Object.entries(kubeNode.hosts).filter(([name]) => keep.has(name)));
  writeFileSync(file, stringify(inventory));
}

function rowsOf(variant: Variant, runs: RestoreRun[]): BenchRow[] {
  const phase = (id: string) => median(runs.map((run) => run.phaseMs.get(id) ?? Number.NaN));
  const peak = (id: string) => Math.max(...runs.map((run) => run.peakHosts.get(id) ?? 0));
  return [
    {
      name: `${variant.label}: wall, API down`,
      value: `${seconds(median(runs.map((r) => r.wallMs)))}, API down ${seconds(median(runs.map((r) => r.apiDownMs)))} (${runs.length} rounds, medians)`,
    },
    {
      name: `${variant.label}: kube_node stop / start`,
      value: `${seconds(phase('stop-kube-node'))} / ${seconds(phase('start-kube-node'))}; at most ${peak('stop-kube-node')} / ${peak('start-kube-node')} hosts at once`,
    },
    {
      name: `${variant.label}: peak RSS`,
      value: `${(Math.max(...runs.map((r) => r.peakRssKb)) / 1024).toFixed(0)} MiB`,
    },
  ];
}

export async function runRestoreNodesBench(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<BenchRow[]> {
  const nodes = Number(process.env.RESTORE_NODES_COUNT ?? 100);
  const rounds = Number(process.env.RESTORE_NODES_ROUNDS ?? 2);
  const { program, cli } = orchestrateCommand();
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-restore-nodes-'));
  const labDir = join(work, 'lab');
  let lab: LabInfo | undefined;
  try {
    log(`bringing up 3 members + ${nodes} node hosts on 127.0.181`);
    lab = await labUp({ dir: labDir, net: '127.0.181', members: 3, nodes });
    log(`lab up in ${seconds(lab.startupMs)}`);
    const files = { caFile: lab.pki.caFile, certFile: lab.pki.clientCertFile, keyFile: lab.pki.clientKeyFile };
    const snapshot = join(labDir, 'backups', 'bench.db');
    mkdirSync(dirname(snapshot), { recursive: true, mode: 0o700 });
    const saved = await etcdctl(files, [clientUrl(lab.hosts[0]!.address)], ['snapshot', 'save', snapshot], { timeoutMs: 120_000 });
    if (saved.code !== 0) throw new Error(`snapshot save failed: ${saved.stderr}`);
    // Both inventories in the lab's folder: one journal and run lock folder (.orchestrate) for both.
    const none = join(labDir, 'inventory-no-nodes.yml');
    inventoryWithNodes(lab, 0, none);
    const variants: Variant[] = [
      { label: '0 nodes', inventory: none },
      { label: `${nodes} nodes`, inventory: lab.inventoryFile },
      { label: `${nodes} nodes, --forks 10`, inventory: lab.inventoryFile, forks: 10 },
    ];
    const runs = new Map<string, RestoreRun[]>(variants.map((v) => [v.label, []]));
    const env = { ...process.env, CI: '1' };
    for (let round = 1; round <= rounds; round++) {
      for (const variant of variants) {
        rmSync(join(labDir, '.orchestrate'), { recursive: true, force: true });
        const args = [
          ...cli,
          'restore',
          variant.inventory,
          '--snapshot',
          snapshot,
          '--yes',
          '--json',
          ...(variant.forks ? ['--forks', String(variant.forks)] : []),
        ];
        const o = await timed(program, args, { env, peakRss: true, timeoutMs: 15 * 60_000 });
        if (o.code !== 0)
          throw new Error(`restore (${variant.label}) failed (exit ${String(o.code)}):\n${o.stdout.slice(-3000)}\n${o.stderr.slice(-2000)}`);
        const run = readRun(o.stdout, o.ms, o.peakRssKb ?? Number.NaN);
        runs.get(variant.label)!.push(run);
        log(
          `round ${round}/${rounds}, ${variant.label}: ${seconds(run.wallMs)}, API down ${seconds(run.apiDownMs)}, kube_node stop ${seconds(run.phaseMs.get('stop-kube-node') ?? 0)} (${run.peakHosts.get('stop-kube-node')} at once)`,
        );
      }
    }
    return [
      {
        name: 'snapshot',
        value: `${(readFileSync(snapshot).length / 1024).toFixed(0)} KiB (the lab's seed data), 3 members, kubeasz, ${rounds} rounds, alternating`,
      },
      ...variants.flatMap((variant) => rowsOf(variant, runs.get(variant.label)!)),
    ];
  } finally {
    if (lab) log('taking the lab down');
    await labDown({ dir: labDir }).catch((error: unknown) => log(`lab down failed: ${(error as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
}
