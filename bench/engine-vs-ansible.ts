// The same Ansible-syntax playbook (20 `shell` tasks, 3 hosts) run with Debian's ansible-playbook
// (pipelining on, host keys checked) and with `orchestrate run`, alternating, several rounds each; then
// again with every host reached through a jump host (the same ProxyJump for both tools).
import { median, timed, type BenchRow } from './measure.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { labDown, labUp, type LabInfo } from '../src/lab/index.js';
import { startSshd, type SshdFixture } from '../test/helpers/sshd.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'bin', 'orchestrate');

export interface EngineVsAnsibleOptions {
  rounds?: number;
  /** Rounds of the jump host variant. Default 3. */
  bastionRounds?: number;
  tasks?: number;
  net?: string;
  log?: (line: string) => void;
}

export function countAll(text: string, pattern: RegExp): number {
  return (text.match(pattern) ?? []).length;
}

export function shellPlaybook(tasks: number, hosts = 'etcd'): string {
  const lines = [`- hosts: ${hosts}`, '  gather_facts: false', '  tasks:'];
  for (let i = 1; i <= tasks; i++) lines.push(`    - name: task ${i}`, `      shell: echo task ${i} on {{ inventory_hostname }}`);
  return `${lines.join('\n')}\n`;
}

export function ansibleConfig(lab: Pick<LabInfo, 'knownHostsFile'>, dir: string, sshArgs = '', controlDir = 'cp'): string {
  return [
    '[defaults]',
    'host_key_checking = True',
    'gathering = explicit',
    'retry_files_enabled = False',
    'interpreter_python = auto_silent',
    'forks = 50',
    `local_tmp = ${join(dir, 'ansible-local')}`,
    '',
    '[ssh_connection]',
    'pipelining = True',
    // Ansible's own defaults (ControlMaster/ControlPersist) kept, plus the lab's known_hosts.
    `ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${lab.knownHostsFile} -o StrictHostKeyChecking=yes${sshArgs}`,
    `control_path_dir = ${join(dir, controlDir)}`,
    '',
  ].join('\n');
}

export async function engineVsAnsible(options: EngineVsAnsibleOptions = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 5;
  const tasks = options.tasks ?? 20;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-bench-'));
  const labDir = join(work, 'lab');
  let lab: LabInfo | undefined;
  try {
    log(`bringing up a 3-host lab on ${options.net ?? '127.0.110'}`);
    lab = await labUp({ dir: labDir, net: options.net ?? '127.0.110', members: 3 });
    const playbook = join(work, 'shell-tasks.yml');
    writeFileSync(playbook, shellPlaybook(tasks));
    const noTasks = join(work, 'no-tasks.yml');
    writeFileSync(noTasks, '- hosts: etcd\n  gather_facts: false\n  tasks:\n    - debug: { msg: start-up only }\n');
    const oneTask = join(work, 'one-task.yml');
    writeFileSync(oneTask, shellPlaybook(1));
    writeFileSync(join(work, 'ansible.cfg'), ansibleConfig(lab, work));
    const env = { ...process.env, CI: '1', ANSIBLE_CONFIG: join(work, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' };

    const runAnsible = () => timed('ansible-playbook', ['-i', lab!.inventoryFile, playbook], { env, timeoutMs: 300_000 });
    const runOrchestrate = () =>
      timed(bin, ['run', playbook, '-i', lab!.inventoryFile, '--known-hosts', lab!.knownHostsFile], { env, timeoutMs: 300_000 });
    const runStartup = () => timed(bin, ['run', noTasks, '-i', lab!.inventoryFile], { env, timeoutMs: 300_000 });
    const runOneTask = () =>
      timed(bin, ['run', oneTask, '-i', lab!.inventoryFile, '--known-hosts', lab!.knownHostsFile], { env, timeoutMs: 300_000 });

    const ansible: number[] = [];
    const orchestrate: number[] = [];
    const startup: number[] = [];
    const connected: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const a = await runAnsible();
      if (a.code !== 0 || countAll(a.stdout, new RegExp(`changed=${tasks}\\s`, 'g')) !== 3) {
        throw new Error(`ansible-playbook failed (exit ${String(a.code)}):\n${a.stdout.slice(-2000)}\n${a.stderr.slice(-2000)}`);
      }
      const o = await runOrchestrate();
      if (o.code !== 0 || countAll(o.stdout, new RegExp(`changed=${tasks}\\s`, 'g')) !== 3)
        throw new Error(`orchestrate failed (exit ${String(o.code)}):\n${o.stdout.slice(-2000)}\n${o.stderr.slice(-2000)}`);
      const s = await runStartup();
      if (s.code !== 0) throw new Error(`orchestrate (no tasks) failed: ${s.stderr}`);
      const c = await runOneTask();
      if (c.code !== 0) throw new Error(`orchestrate (one task) failed: ${c.stderr}`);
      connected.push(c.ms);
      ansible.push(a.ms);
      orchestrate.push(o.ms);
      startup.push(s.ms);
      log(
        `round ${round}/${rounds}: ansible-playbook ${(a.ms / 1000).toFixed(2)} s, orchestrate ${(o.ms / 1000).toFixed(3)} s (start-up alone ${(s.ms / 1000).toFixed(3)} s)`,
      );
    }
    const rows = directRows({ tasks, hosts: lab.hosts.length, rounds, ansible, orchestrate, startup, connected });
    const bastionRows = await bastionVariant({
      lab,
      work,
      playbook,
      tasks,
      rounds: options.bastionRounds ?? 3,
      directMedianMs: median(orchestrate),
      oneTask,
      directConnectedMs: median(connected),
      log,
    });
    return [...rows, ...bastionRows];
  } finally {
    if (lab) log('taking the lab down');
    await labDown({ dir: labDir }).catch((error: unknown) => log(`lab down failed: ${(error as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
}

interface DirectTimes {
  tasks: number;
  hosts: number;
  rounds: number;
  ansible: number[];
  orchestrate: number[];
  startup: number[];
  connected: number[];
}

/** The table of the direct runs (taken before the jump host variant, so the load average is theirs). */
function directRows(times: DirectTimes): BenchRow[] {
  const { tasks, hosts, rounds, ansible, orchestrate, startup, connected } = times;
  const a = median(ansible);
  const o = median(orchestrate);
  const s = median(startup);
  const c = median(connected);
  return [
    { name: 'playbook', value: `${tasks} shell tasks x ${hosts} hosts, ${rounds} rounds each, alternating` },
    { name: 'ansible-playbook median', value: `${(a / 1000).toFixed(2)} s` },
    { name: 'orchestrate run median', value: `${(o / 1000).toFixed(3)} s` },
    { name: 'ratio (ansible / orchestrate)', value: `${(a / o).toFixed(1)}x faster (goal >= 20x)` },
    {
      name: 'best rounds (less load noise)',
      value: `ansible ${(Math.min(...ansible) / 1000).toFixed(2)} s, orchestrate ${(Math.min(...orchestrate) / 1000).toFixed(3)} s, ratio ${(Math.min(...ansible) / Math.min(...orchestrate)).toFixed(1)}x`,
    },
    { name: 'load average (1 min) at the end', value: loadavg()[0]!.toFixed(2) },
    { name: 'orchestrate start-up (1 local task)', value: `${(s / 1000).toFixed(3)} s` },
    {
      name: 'orchestrate with connections (1 task)',
      value: `${(c / 1000).toFixed(3)} s (connecting to ${hosts} hosts and the first task: ${(c - s).toFixed(0)} ms)`,
    },
    {
      name: 'orchestrate per further task',
      value: `${((o - c) / (tasks - 1)).toFixed(1)} ms for all hosts, ${((o - c) / ((tasks - 1) * hosts)).toFixed(1)} ms per host`,
    },
    { name: 'ansible per task per host', value: `${(a / (tasks * hosts)).toFixed(1)} ms` },
  ];
}

interface BastionVariant {
  lab: LabInfo;
  work: string;
  playbook: string;
  tasks: number;
  rounds: number;
  directMedianMs: number;
  /** The one-task playbook, and its direct median: what connecting costs, apart from the tasks. */
  oneTask: string;
  directConnectedMs: number;
  log: (line: string) => void;
}

/** SSH logins the jump host accepted so far (one per connection to it). */
function logins(bastion: SshdFixture): number {
  return countAll(bastion.log(), /Accepted publickey for root/g);
}

/**
 * The same playbook with every host reached through one jump host (an sshd on 127.0.111.1): both tools read
 * `ansible_ssh_common_args: -o ProxyJump=root@JUMP:PORT` from the same inventory, and the jump host's own
 * settings (key, known_hosts) from one ssh_config file (`-F` for ansible's ssh, `--ssh-config` for orchestrate).
 */
async function bastionVariant(variant: BastionVariant): Promise<BenchRow[]> {
  const { lab, work, playbook, tasks, rounds, log } = variant;
  log('starting a jump host on 127.0.111.1');
  const bastion = await startSshd({ address: '127.0.111.1' });
  try {
    bastion.authorize(readFileSync(lab.publicKeyFile, 'utf8'));
    const knownHosts = join(work, 'known_hosts_with_jump_host');
    writeFileSync(knownHosts, `${readFileSync(lab.knownHostsFile, 'utf8').trimEnd()}\n${bastion.knownHostsLine}\n`);
    const sshConfig = join(work, 'ssh_config');
    const jumpSettings = [`  User root`, `  IdentityFile ${lab.keyFile}`, `  UserKnownHostsFile ${knownHosts}`, '  StrictHostKeyChecking yes'];
    writeFileSync(sshConfig, [`Host ${bastion.address}`, ...jumpSettings, ''].join('\n'), { mode: 0o600 });
    const inventory = parse(readFileSync(lab.inventoryFile, 'utf8')) as { all: { vars: Record<string, unknown> } };
    inventory.all.vars.ansible_ssh_common_args = `-o ProxyJump=root@${bastion.address}:${bastion.port}`;
    const inventoryFile = join(work, 'inventory-through-jump-host.yml');
    writeFileSync(inventoryFile, stringify(inventory, { aliasDuplicateObjects: false }));
    const labForAnsible = { ...lab, knownHostsFile: knownHosts };
    // Control sockets of their own: the direct runs' ControlPersist masters would otherwise carry these runs past the jump host.
    writeFileSync(join(work, 'ansible-jump.cfg'), ansibleConfig(labForAnsible, work, ` -F ${sshConfig}`, 'cp-jump'));
    const env = { ...process.env, CI: '1', ANSIBLE_CONFIG: join(work, 'ansible-jump.cfg'), ANSIBLE_NOCOLOR: '1' };
    const ansible: number[] = [];
    const orchestrate: number[] = [];
    const connected: number[] = [];
    const loginsTotal = { ansible: 0, orchestrate: 0 };
    for (let round = 1; round <= rounds; round++) {
      let before = logins(bastion);
      const a = await timed('ansible-playbook', ['-i', inventoryFile, playbook], { env, timeoutMs: 300_000 });
      if (a.code !== 0 || countAll(a.stdout, new RegExp(`changed=${tasks}\\s`, 'g')) !== 3) {
        throw new Error(
          `ansible-playbook through the jump host failed (exit ${String(a.code)}):\n${a.stdout.slice(-2000)}\n${a.stderr.slice(-2000)}`,
        );
      }
      loginsTotal.ansible += logins(bastion) - before;
      before = logins(bastion);
      const o = await timed(bin, ['run', playbook, '-i', inventoryFile, '--known-hosts', knownHosts, '--ssh-config', sshConfig], {
        env,
        timeoutMs: 300_000,
      });
      if (o.code !== 0 || countAll(o.stdout, new RegExp(`changed=${tasks}\\s`, 'g')) !== 3) {
        throw new Error(`orchestrate through the jump host failed (exit ${String(o.code)}):\n${o.stdout.slice(-2000)}\n${o.stderr.slice(-2000)}`);
      }
      loginsTotal.orchestrate += logins(bastion) - before;
      const c = await timed(bin, ['run', variant.oneTask, '-i', inventoryFile, '--known-hosts', knownHosts, '--ssh-config', sshConfig], {
        env,
        timeoutMs: 300_000,
      });
      if (c.code !== 0) throw new Error(`orchestrate (one task) through the jump host failed: ${c.stderr}`);
      connected.push(c.ms);
      ansible.push(a.ms);
      orchestrate.push(o.ms);
      log(`jump host round ${round}/${rounds}: ansible-playbook ${(a.ms / 1000).toFixed(2)} s, orchestrate ${(o.ms / 1000).toFixed(3)} s`);
    }
    if (loginsTotal.ansible === 0 || loginsTotal.orchestrate === 0)
      throw new Error(`the jump host saw no login (${JSON.stringify(loginsTotal)}): a run bypassed it`);
    const a = median(ansible);
    const o = median(orchestrate);
    const c = median(connected);
    return [
      { name: 'through a jump host', value: `same playbook, ProxyJump in ansible_ssh_common_args for both, ${rounds} rounds each, alternating` },
      { name: 'jump: ansible-playbook median', value: `${(a / 1000).toFixed(2)} s` },
      { name: 'jump: orchestrate run median', value: `${(o / 1000).toFixed(3)} s (${(o - variant.directMedianMs).toFixed(0)} ms more than direct)` },
      { name: 'jump: ratio (ansible / orchestrate)', value: `${(a / o).toFixed(1)}x faster` },
      {
        name: 'jump: orchestrate with connections (1 task)',
        value: `${(c / 1000).toFixed(3)} s (${(c - variant.directConnectedMs).toFixed(0)} ms more than direct: the jump host's handshake)`,
      },
      {
        name: 'jump: orchestrate per further task',
        value: `${((o - c) / (tasks - 1)).toFixed(1)} ms for all hosts (direct: ${((variant.directMedianMs - variant.directConnectedMs) / (tasks - 1)).toFixed(1)} ms)`,
      },
      {
        name: `jump: logins to the jump host in ${rounds} runs`,
        value: `orchestrate ${loginsTotal.orchestrate} (one per run, shared by the ${lab.hosts.length} hosts), ansible ${loginsTotal.ansible} (one per host; ControlPersist keeps them between runs)`,
      },
    ];
  } finally {
    await bastion.stop();
  }
}
