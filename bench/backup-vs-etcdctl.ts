// Benchmark: `orchestrate backup` (the compiled CLI: stream + verify + record + metrics) against
// `etcdctl snapshot save` from the same member, alternating in the same run, on a lab member filled to
// about 1 GB. Wall time and peak RSS of each process (GNU time). Goals: orchestrate at most 1.1x
// etcdctl's time; its peak memory flat (under 150 MB) whatever the snapshot size, so a backup of the
// empty lab is measured too.
import { median, seconds, timed, type BenchRow, type Timed } from './measure.js';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientUrl } from '../src/lab/etcdctl.js';
import { labDown, labUp, type LabInfo } from '../src/lab/index.js';

export interface BackupBenchOptions {
  /** Rounds of each, alternating which goes first. Default 3. */
  rounds?: number;
  /** Size to fill the database to. Default 1024 MiB. */
  megabytes?: number;
  /** Lab members (the snapshot comes from one). Default 1: filling 3 replicas triples the set-up time. */
  members?: number;
  net?: string;
  /** The CLI to measure. Default bin/orchestrate of this checkout (built into dist/ if missing). */
  cli?: string;
  log?: (line: string) => void;
}

const root = dirname(dirname(fileURLToPath(import.meta.url)));

const mb = (kb: number | undefined) => `${((kb ?? Number.NaN) / 1024).toFixed(0)} MB`;

/** Fill through one etcd3 client: 1 MiB incompressible values, 4 in flight (bounded). Also used by backup-remote-vs-etcdctl.ts. */
export async function fill(lab: LabInfo, megabytes: number, log: (line: string) => void): Promise<void> {
  const { Etcd3 } = await import('etcd3');
  const { randomBytes } = await import('node:crypto');
  const client = new Etcd3({
    hosts: clientUrl(lab.hosts[0]!.address),
    credentials: {
      rootCertificate: await readFile(lab.pki.caFile),
      certChain: await readFile(lab.pki.clientCertFile),
      privateKey: await readFile(lab.pki.clientKeyFile),
    },
    defaultCallOptions: () => ({ deadline: Date.now() + 60_000 }),
  });
  try {
    for (let i = 0; i < megabytes; i += 4) {
      await Promise.all(
        [0, 1, 2, 3]
          .filter((j) => i + j < megabytes)
          .map((j) =>
            client
              .put(`/registry/bench/blob-${String(i + j).padStart(5, '0')}`)
              .value(randomBytes(1024 * 1024))
              .exec(),
          ),
      );
      if (i % 128 === 124) log(`  filled ${i + 4} MiB`);
    }
  } finally {
    client.close();
  }
}

async function ensureBuilt(log: (line: string) => void): Promise<string> {
  const cli = join(root, 'bin', 'orchestrate');
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    log('building dist/ (npm run build)');
    await timed('npm', ['run', '--silent', 'build']);
  }
  if (!existsSync(join(root, 'dist', 'commands', 'backup.js'))) throw new Error('dist/ has no commands/backup.js: run `npm run build` first');
  return cli;
}

export async function runBackupBench(options: BackupBenchOptions = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 3;
  const megabytes = options.megabytes ?? 1024;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cli = options.cli ?? (await ensureBuilt(log));
  const dir = join(mkdtempSync(join(tmpdir(), 'orchestrate-bench-backup-')), 'lab');
  await labDown({ dir });
  const lab = await labUp({ dir, net: options.net ?? '127.0.104', members: options.members ?? 1 });
  try {
    const backupsDir = join(dir, 'backups');
    const snapshotFile = join(dir, 'etcdctl-snapshot.db');
    // The CLI as users run it (its shebang decides node's flags).
    const orchestrate = () => timed(cli, ['backup', lab.inventoryFile, '--json'], { peakRss: true });
    const clearBackups = async () => {
      for (const name of await readdir(backupsDir).catch(() => [] as string[])) await rm(join(backupsDir, name), { force: true });
      await rm(snapshotFile, { force: true });
    };

    log('backup of the empty lab (memory baseline)');
    const empty = await orchestrate();
    if (empty.code !== 0) throw new Error(`orchestrate backup failed on the empty lab: ${empty.stderr.slice(-2000)}`);
    await clearBackups();

    log(`filling the lab to ${megabytes} MiB`);
    await fill(lab, megabytes, log);
    const firstRun = JSON.parse((await orchestrate()).stdout) as { record?: { host?: string; size?: number } };
    const host = firstRun.record?.host ?? lab.hosts[0]!.address;
    const size = firstRun.record?.size ?? 0;
    await clearBackups();

    const etcdctl = () =>
      timed(
        'etcdctl',
        [
          '--endpoints',
          clientUrl(host),
          '--cacert',
          lab.pki.caFile,
          '--cert',
          lab.pki.clientCertFile,
          '--key',
          lab.pki.clientKeyFile,
          '--command-timeout=600s',
          'snapshot',
          'save',
          snapshotFile,
        ],
        { env: { ...process.env, ETCDCTL_API: '3' }, peakRss: true },
      );
    const ours: Timed[] = [];
    const theirs: Timed[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['etcdctl', 'orchestrate'] : ['orchestrate', 'etcdctl'];
      for (const which of order) {
        const result = which === 'etcdctl' ? await etcdctl() : await orchestrate();
        if (result.code !== 0) throw new Error(`${which} failed: ${result.stderr.slice(-2000)}`);
        (which === 'etcdctl' ? theirs : ours).push(result);
        log(`  round ${round + 1}: ${which} ${seconds(result.ms)}, peak RSS ${mb(result.peakRssKb)}`);
        await clearBackups();
      }
    }
    const ratio = median(ours.map((r) => r.ms)) / median(theirs.map((r) => r.ms));
    return [
      { name: 'snapshot size', value: `${(size / 1024 / 1024).toFixed(0)} MiB from member ${host}, ${rounds} rounds alternating` },
      {
        name: 'etcdctl snapshot save (median)',
        value: `${seconds(median(theirs.map((r) => r.ms)))}, peak RSS ${mb(median(theirs.map((r) => r.peakRssKb ?? Number.NaN)))}`,
      },
      {
        name: 'orchestrate backup (median)',
        value: `${seconds(median(ours.map((r) => r.ms)))}, peak RSS ${mb(median(ours.map((r) => r.peakRssKb ?? Number.NaN)))} (incl. verify, catalog, metrics, process start)`,
      },
      { name: 'ratio orchestrate / etcdctl', value: `${ratio.toFixed(2)}x (goal <= 1.10x)` },
      {
        name: 'orchestrate peak RSS, empty vs full',
        value: `${mb(empty.peakRssKb)} vs ${mb(Math.max(...ours.map((r) => r.peakRssKb ?? Number.NaN)))} (goal: flat, < 150 MB)`,
      },
      {
        name: 'all runs (s)',
        value: `etcdctl ${theirs.map((r) => (r.ms / 1000).toFixed(1)).join(' ')}; orchestrate ${ours.map((r) => (r.ms / 1000).toFixed(1)).join(' ')}`,
      },
    ];
  } finally {
    await labDown({ dir });
    await rm(dirname(dir), { recursive: true, force: true }).catch(() => undefined);
  }
}
