// Records the report's fixtures from real restores on a 3-member lab (root; run under the lab lock):
//
//   flock /tmp/orchestrate-lab.lock node --import=tsx test/e2e/report-fixtures-record.ts
//
// Writes test/fixtures/report/<case>.journal.json and <case>.events.jsonl for three runs: a restore that
// completed, one that failed and rolled back (etcd cannot start on one member), and one interrupted with
// Ctrl-C (SIGINT) as the kube_master services stop (then run again to leave the lab whole).
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { journalPath } from '../../src/etcd/restore/journal.js';
import { repoRoot, runCliFromSource, type CliResult } from '../helpers/cli.js';
import { damage, waitHealthy } from '../helpers/lab-data.js';
import { sshToLabHost, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

const out = join(repoRoot, 'test', 'fixtures', 'report');

function restore(lab: LabInfo, snapshot: string, extra: string[], onLine?: (line: string, pid: number) => void): Promise<CliResult> {
  return runCliFromSource(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json', ...extra], {
    env: { CI: '1' },
    timeoutMs: 120_000,
    onSpawn: (child) => {
      let pending = '';
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onLine?.(line, child.pid!);
      });
    },
  });
}

async function save(lab: LabInfo, name: string, result: CliResult): Promise<void> {
  await copyFile(journalPath(lab.dir, 'etcd-cluster-0'), join(out, `${name}.journal.json`));
  await writeFile(join(out, `${name}.events.jsonl`), result.stdout);
  process.stdout.write(`${name}: exit ${result.code}\n`);
}

async function main(): Promise<void> {
  await mkdir(out, { recursive: true });
  const lab = await startLab({ dir: tempLabDir(), net: '127.0.143', members: 3 });
  try {
    await waitHealthy(lab);
    const backup = await runCliFromSource(['backup', lab.inventoryFile, '--json'], { env: { CI: '1' }, timeoutMs: 60_000 });
    const snapshot = (JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as { record: { file: string } }).record.file;

    await damage(lab, '/registry/rogue/fixture');
    await save(lab, 'completed', await restore(lab, snapshot, []));

    const broken = lab.hosts[0]!.address;
    await sshToLabHost(lab, broken, "sed -i 's#^ExecStart=/usr/bin/etcd #ExecStart=/usr/bin/etcd --no-such-flag #' /etc/systemd/system/etcd.service");
    await save(lab, 'rolled-back', await restore(lab, snapshot, ['--etcd-timeout', '15']));
    await sshToLabHost(lab, broken, "sed -i 's#--no-such-flag ##' /etc/systemd/system/etcd.service && systemctl start etcd");
    await waitHealthy(lab);

    let sent = false;
    const interrupted = await restore(lab, snapshot, [], (line, pid) => {
      if (!sent && line.includes('"type":"phase-start"') && line.includes('"phase":"stop-kube-master"')) {
        sent = true;
        process.kill(pid, 'SIGINT');
      }
    });
    await save(lab, 'interrupted', interrupted);
    const resumed = await runCliFromSource(['restore', lab.inventoryFile, '--yes'], { env: { CI: '1' }, timeoutMs: 120_000 });
    process.stdout.write(`resumed: exit ${resumed.code}\n`);
  } finally {
    await stopLab(lab.dir);
  }
}

await main();
