// `orchestrate demo`: the whole story on a throwaway local lab, each step shown as the command an operator would type.
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { labOrderKey } from '../lab/lab-power-cut.js';
import { packagePath } from '../package-root.js';

const binary = packagePath('bin', 'orchestrate');

interface DemoStep {
  title: string;
  argv: string[];
  /** Exit codes that still count as the expected outcome (e.g. a refusal the demo shows on purpose). */
  expect?: number[];
}

function runStep(step: DemoStep): Promise<number> {
  process.stdout.write(`\n=== ${step.title}\n$ orchestrate ${step.argv.join(' ')}\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, step.argv, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? ExitCode.interrupted : ExitCode.internal)));
  });
}

/** A power cut after the last backup, and the least-loss way back: nothing written since the backup is lost. */
function powerCutAct(inventory: string, lab: string[]): DemoStep[] {
  return [
    { title: 'Power cut: an order is written after the last backup, then every etcd is killed with SIGKILL', argv: ['lab', 'power-cut', ...lab] },
    { title: 'Status: no member answers (exits 7)', argv: ['status', inventory, '--max-age', '6h'], expect: [ExitCode.unhealthy] },
    { title: 'Recover: diagnose every member read-only, then take the least-loss way out', argv: ['recover', inventory, '--yes'] },
    {
      title: 'The order written after the last backup is still there (a restore of the snapshot would have lost it)',
      argv: ['lab', 'get', labOrderKey, ...lab],
    },
  ];
}

export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string', default: '.lab-demo' },
      net: { type: 'string', default: '127.0.99' },
      members: { type: 'string', default: '3' },
      topology: { type: 'string' },
      etcd: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: orchestrate demo [--members N] [--topology kubeasz|kubeadm] [--etcd 3.4|3.5] [--dir DIR] [--net 127.0.99] [--keep]\n' +
        '  --topology kubeadm: etcd and the control plane as static pods under a kubelet, members named after the nodes (etcd 3.5 unless --etcd says)\n',
    );
    return ExitCode.ok;
  }
  if (!/^[1-7]$/.test(values.members)) throw new UsageError(`--members must be 1 to 7, got "${values.members}"`);
  const dir = resolve(values.dir);
  const inventory = join(dir, 'inventory.yml');
  // Outside the lab's folder, which `lab down` removes.
  const report = resolve('orchestrate-demo-report.html');
  const lab = ['--dir', dir];
  // kubeadm clusters run etcd 3.5 today; `lab up` checks both values.
  const shape = [
    ...(values.topology !== undefined ? ['--topology', values.topology] : []),
    ...(values.etcd !== undefined ? ['--etcd', values.etcd] : values.topology === 'kubeadm' ? ['--etcd', '3.5'] : []),
  ];
  const steps: DemoStep[] = [
    {
      title:
        values.topology === 'kubeadm'
          ? 'Bring up a kubeadm-shaped lab (sshd + a kubelet running etcd and the control plane as static pods, one host per loopback address)'
          : 'Bring up a lab of real hosts (sshd + etcd under TLS, one per loopback address)',
      argv: ['lab', 'up', '--members', values.members, '--net', values.net, ...shape, ...lab],
    },
    { title: 'Validate the generated inventory', argv: ['validate', inventory] },
    {
      title: 'Cluster status before the backup (exits 6 while no verified backup is fresh enough)',
      argv: ['status', inventory, '--max-age', '6h'],
      expect: [ExitCode.ok, ExitCode.stale],
    },
    { title: 'Take a verified backup', argv: ['backup', inventory] },
    { title: 'List the snapshots', argv: ['snapshots', 'list', inventory] },
    { title: 'Prove the backup restores: a drill in a throwaway cluster on this machine', argv: ['drill', inventory] },
    { title: 'Lose data: delete every pod and add a rogue key', argv: ['lab', 'damage', ...lab] },
    { title: 'Preview the restore (changes nothing)', argv: ['restore', inventory, '--dry-run'] },
    { title: 'Restore every member with its own identity', argv: ['restore', inventory, '--yes'] },
    { title: 'Status after the restore', argv: ['status', inventory, '--max-age', '6h'] },
    ...(values.topology === 'kubeadm' ? [] : powerCutAct(inventory, lab)),
    { title: 'Write the HTML report: the last run as a timeline, backups, drills, status', argv: ['report', inventory, '--out', report] },
  ];
  let code: number = ExitCode.ok;
  try {
    for (const step of steps) {
      const stepCode = await runStep(step);
      if (!(step.expect ?? [ExitCode.ok]).includes(stepCode)) {
        process.stderr.write(`\ndemo: "${step.title}" exited with ${stepCode}; stopping.\n`);
        code = stepCode;
        break;
      }
    }
  } finally {
    if (!values.keep) await runStep({ title: 'Take the lab down', argv: ['lab', 'down', ...lab] });
  }
  if (code === ExitCode.ok) process.stdout.write('\ndemo: complete.\n');
  return code;
}
