// A 1,000-host inventory, INI and YAML, validated: orchestrate's reading in-process and through the CLI,
// side by side with Debian's `ansible-inventory --list` reading the same files; and a bad line among the
// 1,000 still reported at file:line:col.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../src/config/inventory.js';
import { ConfigError } from '../src/errors.js';
import { median, timed, type BenchRow } from './measure.js';

const HOSTS = 1000;
const root = fileURLToPath(new URL('..', import.meta.url));

/** kubeasz-like: 3 etcd members (a range), masters, 1,000 workers with host variables, [all:vars]. */
function iniInventory(): string {
  const lines = ['[etcd]', '10.10.0.[1:3]', '', '[kube_master]', '10.10.0.1', '10.10.0.2', '', '[kube_node]'];
  for (let i = 0; i < HOSTS - 3; i++)
    lines.push(`node${i} ansible_host=10.11.${Math.floor(i / 250)}.${i % 250} k8s_nodename='worker-${i}' rack=${i % 8}`);
  lines.push('', '[all:vars]', 'SECURE_PORT="6443"', 'bin_dir="/opt/kube/bin"', 'ansible_user=root', 'etcd_cluster_token="etcd-cluster-0"', '');
  return lines.join('\n');
}

function yamlInventory(): string {
  const lines = [
    'all:',
    '  vars:',
    '    SECURE_PORT: "6443"',
    '    bin_dir: /opt/kube/bin',
    '    ansible_user: root',
    '  children:',
    '    etcd:',
    '      hosts:',
  ];
  for (const i of [1, 2, 3]) lines.push(`        10.10.0.${i}:`);
  lines.push('    kube_master:', '      hosts:', '        10.10.0.1:', '        10.10.0.2:', '    kube_node:', '      hosts:');
  for (let i = 0; i < HOSTS - 3; i++) {
    lines.push(
      `        node${i}:`,
      `          ansible_host: 10.11.${Math.floor(i / 250)}.${i % 250}`,
      `          k8s_nodename: worker-${i}`,
      `          rack: ${i % 8}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function inProcess(file: string, rounds: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await loadInventory(file);
    times.push(performance.now() - started);
  }
  return median(times);
}

async function cliMedian(args: string[], rounds: number, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const run = await timed(args[0] as string, args.slice(1), { env, timeoutMs: 120_000 });
    if (run.code !== 0) throw new Error(`${args.join(' ')} exited ${run.code}: ${run.stderr.slice(0, 500)}`);
    times.push(run.ms);
  }
  return median(times);
}

export async function inventoryValidateBench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orchestrate-bench-inventory-'));
  try {
    const ini = join(dir, 'hosts');
    const yaml = join(dir, 'inventory.yml');
    const bad = join(dir, 'hosts-bad');
    writeFileSync(ini, iniInventory());
    writeFileSync(yaml, yamlInventory());
    const badLines = iniInventory().split('\n');
    badLines[700] = 'node692 ansible_port=twenty-two';
    writeFileSync(bad, badLines.join('\n'));

    const cli = join(root, 'bin', 'orchestrate');
    const ansibleEnv = { ...process.env, ANSIBLE_CONFIG: join(dir, 'none.cfg'), HOME: dir, ANSIBLE_LOCAL_TEMP: join(dir, 'tmp') };
    const rows: BenchRow[] = [];
    const iniMs = await inProcess(ini, 15);
    const yamlMs = await inProcess(yaml, 15);
    rows.push({ name: `in-process loadInventory, ${HOSTS} hosts, INI (median of 15)`, value: `${iniMs.toFixed(1)} ms` });
    rows.push({ name: `in-process loadInventory, ${HOSTS} hosts, YAML (median of 15)`, value: `${yamlMs.toFixed(1)} ms` });
    // Alternating rounds: the machine is shared, so both tools see the same load.
    const orchestrateIni: number[] = [];
    const ansibleIni: number[] = [];
    const orchestrateYaml: number[] = [];
    const ansibleYaml: number[] = [];
    for (let round = 0; round < 3; round++) {
      orchestrateIni.push(await cliMedian([cli, 'validate', ini], 1));
      ansibleIni.push(await cliMedian(['ansible-inventory', '-i', ini, '--list'], 1, ansibleEnv));
      orchestrateYaml.push(await cliMedian([cli, 'validate', yaml], 1));
      ansibleYaml.push(await cliMedian(['ansible-inventory', '-i', yaml, '--list'], 1, ansibleEnv));
    }
    const [oi, ai, oy, ay] = [orchestrateIni, ansibleIni, orchestrateYaml, ansibleYaml].map(median) as [number, number, number, number];
    rows.push({ name: 'orchestrate validate hosts (INI), whole process, median of 3', value: `${oi.toFixed(0)} ms` });
    rows.push({ name: 'ansible-inventory -i hosts --list (INI), median of 3', value: `${ai.toFixed(0)} ms (${(ai / oi).toFixed(1)}x orchestrate)` });
    rows.push({ name: 'orchestrate validate inventory.yml, whole process, median of 3', value: `${oy.toFixed(0)} ms` });
    rows.push({
      name: 'ansible-inventory -i inventory.yml --list, median of 3',
      value: `${ay.toFixed(0)} ms (${(ay / oy).toFixed(1)}x orchestrate)`,
    });
    let located = 'not reported';
    try {
      await loadInventory(bad);
    } catch (error) {
      if (error instanceof ConfigError)
        located = error.problems.map((p) => `${p.loc?.file.replace(dir, '.')}:${p.loc?.line}:${p.loc?.col} ${p.message}`).join('; ');
    }
    rows.push({ name: 'one bad line among 1,000 hosts', value: located });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
