// `npm run bench -- engine-scale`: the engine-vs-ansible playbook (20 `shell` tasks) on 3, 50, 100 and 200
// hosts: one lab of 3 members and 200 kube_node-only hosts, each count run on the first N node hosts.
// ansible-playbook (forks 50, pipelining) and `orchestrate run` (its defaults) alternate at each count.
// Per count: total time of each, ratio, orchestrate's connect time and per-task time (ORCHESTRATE_TIMING),
// its peak RSS and CPU time, and how busy the machine's 2 cores were. Not in the default `npm run bench`.
//   ENGINE_SCALE_HOSTS=3,50  other counts;  ENGINE_SCALE_ROUNDS=3  orchestrate rounds per count.
// ansible-playbook takes about 0.1-0.6 s of CPU per task per host on this 2-core machine, so 20 tasks on 200
// hosts would take it 20-40 minutes. Above ENGINE_SCALE_ANSIBLE_FULL_MAX hosts (default 3) it runs a 1-task and
// a 3-task playbook instead, and its 20-task time is extrapolated linearly: t1 + 19 * (t3 - t1) / 2 (what
// one more task costs on all hosts). The 3-host count runs all three, so the table shows how close the
// model comes to a measured 20-task run.
import { median, timed, type BenchRow, type Timed } from './measure.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { labDown, labUp, type LabInfo } from '../src/lab/index.js';
import { ansibleConfig, countAll, shellPlaybook } from './engine-vs-ansible.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'bin', 'orchestrate');
const tasks = 20;

function counts(): number[] {
  const text = process.env.ENGINE_SCALE_HOSTS ?? '3,50,100,200';
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.some((n) => !Number.isInteger(n) || n < 1 || n > 200)) throw new Error(`ENGINE_SCALE_HOSTS must be counts from 1 to 200, got "${text}"`);
  return values;
}

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}

/** Busy and total jiffies of all cores since boot (/proc/stat): the share of the machine a run kept busy. */
function cpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

/** The `timing:` lines of ORCHESTRATE_TIMING=1, as milliseconds since the engine started, by label. */
function timings(stderr: string): Map<string, number> {
  const marks = new Map<string, number>();
  for (const match of stderr.matchAll(/^timing: \+(\d+) ms (.+)$/gm))
    marks.set(match[2]!.replace(/^\d+ connections open$/, 'connections open'), Number(match[1]));
  return marks;
}

/** An inventory of the lab's vars and a group `targets` of its first `count` node hosts. */
function targetsInventory(lab: LabInfo, count: number, file: string): void {
  const labInventory = parse(readFileSync(lab.inventoryFile, 'utf8')) as { all: { vars: Record<string, unknown> } };
  const hosts = Object.fromEntries(lab.nodes.slice(0, count).map((node) => [node.inventoryName, {}]));
  writeFileSync(file, stringify({ all: { vars: labInventory.all.vars, children: { targets: { hosts } } } }));
}

interface CountResult {
  hosts: number;
  ansible: number[];
  /** ansible's 1-task and 3-task runs and the 20-task time they predict (undefined when not run). */
  model?: { one: number; three: number; estimate: number; busy: number };
  orchestrate: Timed[];
  connectMs: number[];
  tasksMs: number[];
  machineBusy: { ansible: number; orchestrate: number };
  maxStartupsLines: number;
}

async function measured(run: () => Promise<Timed>): Promise<{ result: Timed; busy: number }> {
  const before = cpuTicks();
  const result = await run();
  const after = cpuTicks();
  return { result, busy: (after.busy - before.busy) / Math.max(1, after.total - before.total) };
}

function check(what: string, run: Timed, hosts: number): void {
  if (run.code !== 0 || countAll(run.stdout, new RegExp(`changed=${tasks}\\s`, 'g')) !== hosts) {
    throw new Error(`${what} on ${hosts} hosts failed (exit ${String(run.code)}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  }
}

async function runCount(lab: LabInfo, work: string, hosts: number, log: (line: string) => void): Promise<CountResult> {
  const inventory = join(work, `targets-${hosts}.yml`);
  targetsInventory(lab, hosts, inventory);
  const playbook = join(work, 'shell-tasks.yml');
  const env = { ...process.env, CI: '1', ANSIBLE_CONFIG: join(work, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' };
  const rounds = positive('ENGINE_SCALE_ROUNDS', 3);
  const ansibleRounds = hosts <= positive('ENGINE_SCALE_ANSIBLE_FULL_MAX', 3) ? rounds : 0;
  const result: CountResult = {
    hosts,
    ansible: [],
    orchestrate: [],
    connectMs: [],
    tasksMs: [],
    machineBusy: { ansible: 0, orchestrate: 0 },
    maxStartupsLines: 0,
  };
  const busy = { ansible: [] as number[], orchestrate: [] as number[] };
  for (let round = 1; round <= Math.max(rounds, ansibleRounds); round++) {
    if (round <= ansibleRounds) {
      const a = await measured(() => timed('ansible-playbook', ['-i', inventory, playbook], { env, timeoutMs: 60 * 60_000 }));
      check('ansible-playbook', a.result, hosts);
      result.ansible.push(a.result.ms);
      busy.ansible.push(a.busy);
      log(`  ${hosts} hosts, ansible-playbook round ${round}: ${(a.result.ms / 1000).toFixed(2)} s (cores ${(a.busy * 100).toFixed(0)}% busy)`);
    }
    if (round <= rounds) {
      const args = ['run', playbook, '-i', inventory, '--known-hosts', lab.knownHostsFile];
      const o = await measured(() => timed(bin, args, { env: { ...env, ORCHESTRATE_TIMING: '1' }, timeoutMs: 10 * 60_000, peakRss: true }));
      check('orchestrate run', o.result, hosts);
      const marks = timings(o.result.stderr);
      result.orchestrate.push(o.result);
      result.connectMs.push((marks.get('connections open') ?? Number.NaN) - (marks.get('pre-check done') ?? Number.NaN));
      result.tasksMs.push((marks.get('tasks done') ?? Number.NaN) - (marks.get('connections open') ?? Number.NaN));
      busy.orchestrate.push(o.busy);
      log(
        `  ${hosts} hosts, orchestrate round ${round}: ${(o.result.ms / 1000).toFixed(3)} s, connect ${result.connectMs.at(-1)!.toFixed(0)} ms, peak RSS ${((o.result.peakRssKb ?? 0) / 1024).toFixed(0)} MiB`,
      );
    }
  }
  result.model = await ansibleModel(work, inventory, hosts, env, log);
  result.machineBusy = { ansible: median(busy.ansible.length ? busy.ansible : [result.model.busy]), orchestrate: median(busy.orchestrate) };
  // sshd logs "beginning MaxStartups throttling" / "drop connection" when unauthenticated connections pile up.
  result.maxStartupsLines = lab.nodes
    .slice(0, hosts)
    .map((node) => join(lab.logsDir, `${node.address}-sshd.log`))
    .filter((file) => existsSync(file))
    .reduce((sum, file) => sum + countAll(readFileSync(file, 'utf8'), /MaxStartups|drop connection/g), 0);
  return result;
}

/** ansible-playbook with 1 and then 3 tasks, one run each: the 20-task time by a straight line through both. */
async function ansibleModel(
  work: string,
  inventory: string,
  hosts: number,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<{ one: number; three: number; estimate: number; busy: number }> {
  const times: number[] = [];
  let busy = 0;
  for (const count of [1, 3]) {
    const playbook = join(work, `shell-tasks-${count}.yml`);
    writeFileSync(playbook, shellPlaybook(count, 'targets'));
    const a = await measured(() => timed('ansible-playbook', ['-i', inventory, playbook], { env, timeoutMs: 60 * 60_000 }));
    if (a.result.code !== 0 || countAll(a.result.stdout, new RegExp(`changed=${count}\\s`, 'g')) !== hosts)
      throw new Error(`ansible-playbook (${count} tasks) on ${hosts} hosts failed:\n${a.result.stdout.slice(-2000)}`);
    times.push(a.result.ms);
    busy = a.busy;
    log(`  ${hosts} hosts, ansible-playbook with ${count} task(s): ${(a.result.ms / 1000).toFixed(2)} s (cores ${(a.busy * 100).toFixed(0)}% busy)`);
  }
  const [one, three] = times as [number, number];
  return { one, three, estimate: one + ((tasks - 1) * (three - one)) / 2, busy };
}

function rowsOf(r: CountResult): BenchRow[] {
  const measuredAnsible = r.ansible.length > 0;
  const a = measuredAnsible ? median(r.ansible) : r.model!.estimate;
  const o = median(r.orchestrate.map((run) => run.ms));
  const peak = Math.max(...r.orchestrate.map((run) => run.peakRssKb ?? Number.NaN)) / 1024;
  const cpu = median(r.orchestrate.map((run) => run.cpuMs ?? Number.NaN));
  const connect = median(r.connectMs);
  const perTask = median(r.tasksMs) / tasks;
  const n = r.hosts;
  return [
    {
      name: `${n} hosts: ansible / orchestrate`,
      value: `${(a / 1000).toFixed(2)} s (${measuredAnsible ? `measured, ${r.ansible.length} round(s)` : 'extrapolated'}) vs ${(o / 1000).toFixed(3)} s = ${(a / o).toFixed(1)}x (goal at 200: >= 30x)`,
    },
    {
      name: `${n} hosts: ansible 1 and 3 tasks`,
      value: r.model
        ? `${(r.model.one / 1000).toFixed(2)} s and ${(r.model.three / 1000).toFixed(2)} s, so 20 tasks ~ ${(r.model.estimate / 1000).toFixed(1)} s${measuredAnsible ? ` (measured ${(median(r.ansible) / 1000).toFixed(1)} s)` : ''}`
        : 'not run',
    },
    {
      name: `${n} hosts: orchestrate connect`,
      value: `${connect.toFixed(0)} ms for ${n} hosts (${(connect / n).toFixed(1)} ms per host, 50 at a time)`,
    },
    {
      name: `${n} hosts: orchestrate per task`,
      value: `${perTask.toFixed(1)} ms for all hosts (${((perTask / n) * 1000).toFixed(0)} µs per host); ansible ${(a / tasks / 1000).toFixed(2)} s`,
    },
    {
      name: `${n} hosts: orchestrate peak RSS, CPU`,
      value: `${peak.toFixed(0)} MiB (goal < 300 MB), ${(cpu / 1000).toFixed(2)} s CPU in ${(o / 1000).toFixed(2)} s`,
    },
    {
      name: `${n} hosts: cores busy (both, sshd too)`,
      value: `during ansible ${(r.machineBusy.ansible * 100).toFixed(0)}%, during orchestrate ${(r.machineBusy.orchestrate * 100).toFixed(0)}%; sshd MaxStartups lines: ${r.maxStartupsLines}`,
    },
  ];
}

export async function engineScale(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<BenchRow[]> {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const sizes = counts();
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-engine-scale-'));
  const labDir = join(work, 'lab');
  let lab: LabInfo | undefined;
  try {
    const nodes = Math.max(...sizes);
    log(`bringing up 3 members + ${nodes} node hosts on 127.0.180`);
    lab = await labUp({ dir: labDir, net: '127.0.180', members: 3, nodes });
    log(`lab up in ${(lab.startupMs / 1000).toFixed(1)} s`);
    writeFileSync(join(work, 'shell-tasks.yml'), shellPlaybook(tasks, 'targets'));
    writeFileSync(join(work, 'ansible.cfg'), ansibleConfig(lab, work));
    const rows: BenchRow[] = [
      { name: 'playbook', value: `${tasks} shell tasks on N kube_node lab hosts; ansible forks 50 + pipelining, orchestrate defaults (forks 50)` },
    ];
    for (const hosts of sizes) rows.push(...rowsOf(await runCount(lab, work, hosts, log)));
    return rows;
  } finally {
    if (lab) log('taking the lab down');
    await labDown({ dir: labDir }).catch((error: unknown) => log(`lab down failed: ${(error as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
}
