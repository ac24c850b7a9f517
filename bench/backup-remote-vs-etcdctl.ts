// Benchmark: a backup plus its remote copy of a ~1 GiB snapshot, against `etcdctl snapshot save`
// followed by an upload of the same file with the AWS SDK alone (lib-storage), alternating in one run,
// to a real S3 server on loopback (s3rver in its own process). The orchestrate side is one process:
// `orchestrate backup` (the compiled CLI) with backup_remote, which snapshots, verifies, then streams the
// copy (encrypted or not), verifies it on the server and records it. Goals: within 1.15x of the pair,
// under 1.3x with encryption on; every process's peak RSS under 150 MB.
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { clientUrl } from '../src/lab/etcdctl.js';
import { labDown, labUp, type LabInfo } from '../src/lab/index.js';
import { startS3Server, type S3Server, S3RVER_KEY_ID, S3RVER_SECRET } from '../test/helpers/s3-server.js';
import { fill as fillLab } from './backup-vs-etcdctl.js';
import { median, seconds, timed, type BenchRow, type Timed } from './measure.js';

export interface RemoteBenchOptions {
  rounds?: number;
  megabytes?: number;
  net?: string;
  log?: (line: string) => void;
}

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const mb = (kb: number | undefined) => `${((kb ?? Number.NaN) / 1024).toFixed(0)} MB`;

interface PairRun {
  total: number;
  first: Timed;
  /** The SDK upload after etcdctl; none for orchestrate, whose one process does both. */
  second?: Timed;
  /** orchestrate's remote copy, from its record: how long it took and how it was verified. */
  detail?: { copyMs?: number; verifiedBy?: string };
}

interface BackupJson {
  record?: { result?: string; remote?: { result?: string; durationMs?: number; verifiedBy?: string; error?: string } };
}

/** The lab's inventory with backup_remote (and, when `recipient` is given, backup_encryption) added. */
async function remoteInventory(lab: LabInfo, endpoint: string, name: string, recipient?: string): Promise<string> {
  const doc = parse(await readFile(lab.inventoryFile, 'utf8')) as { all: { vars?: Record<string, unknown> } };
  doc.all.vars = {
    ...doc.all.vars,
    backup_remote: { endpoint, bucket: 'bench', prefix: name, ...(recipient ? {} : { allow_unencrypted: true }) },
    ...(recipient ? { backup_encryption: { recipients: [recipient] } } : {}),
  };
  const file = join(dirname(lab.inventoryFile), `${name}.yml`);
  await writeFile(file, stringify(doc));
  return file;
}

async function ageRecipient(dir: string): Promise<string> {
  const identity = join(dir, 'bench-identity.txt');
  await timed('age-keygen', ['-o', identity]);
  return (await timed('age-keygen', ['-y', identity])).stdout.trim();
}

function must(result: Timed, what: string): Timed {
  if (result.code !== 0) throw new Error(`${what} failed: ${result.stderr.slice(-2000)}`);
  return result;
}

export async function runRemoteBench(options: RemoteBenchOptions = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 2;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!existsSync(join(root, 'dist', 'remote', 'remote-backups.js'))) await timed('npm', ['run', '--silent', 'build']);
  const dir = join(mkdtempSync(join(tmpdir(), 'orchestrate-bench-remote-')), 'lab');
  await labDown({ dir });
  const lab = await labUp({ dir, net: options.net ?? '127.0.105', members: 1 });
  let server: S3Server | undefined;
  try {
    server = await startS3Server({ buckets: ['bench'], dir: join(dirname(dir), 's3') });
    const env = { ...process.env, AWS_ACCESS_KEY_ID: S3RVER_KEY_ID, AWS_SECRET_ACCESS_KEY: S3RVER_SECRET };
    const plainInventory = await remoteInventory(lab, server.endpoint, 'plain');
    const sealedInventory = await remoteInventory(lab, server.endpoint, 'sealed', await ageRecipient(dirname(dir)));
    const backupsDir = join(dir, 'backups');
    const snapshotFile = join(dir, 'etcdctl-snapshot.db');
    const cli = join(root, 'bin', 'orchestrate');
    const clear = async () => {
      for (const name of await readdir(backupsDir).catch(() => [] as string[])) await rm(join(backupsDir, name), { force: true });
      await rm(snapshotFile, { force: true });
      // The objects go, the bucket stays (s3rver creates configured buckets at start only).
      const bucket = join(server!.dir, 'bench');
      for (const name of await readdir(bucket).catch(() => [] as string[]))
        if (!name.startsWith('.')) await rm(join(bucket, name), { recursive: true, force: true });
    };

    log('filling the lab to ~1 GiB');
    await fillLab(lab, options.megabytes ?? 1024, log);
    const host = lab.hosts[0]!.address;
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
        { env: { ...env, ETCDCTL_API: '3' }, peakRss: true },
      );

    const pairs: Record<'sdk' | 'plain' | 'sealed', PairRun[]> = { sdk: [], plain: [], sealed: [] };
    const runPair = async (which: 'sdk' | 'plain' | 'sealed'): Promise<PairRun> => {
      if (which === 'sdk') {
        const first = must(await etcdctl(), 'etcdctl snapshot save');
        const second = must(
          await timed(process.execPath, [join(root, 'bench', 'sdk-upload.mjs'), server!.endpoint, 'bench', 'sdk/etcdctl-snapshot.db', snapshotFile], {
            env,
            peakRss: true,
          }),
          'SDK upload',
        );
        return { total: first.ms + second.ms, first, second };
      }
      const inventory = which === 'plain' ? plainInventory : sealedInventory;
      const first = must(await timed(cli, ['backup', inventory, '--json'], { env, peakRss: true }), 'orchestrate backup');
      const remote = (JSON.parse(first.stdout.trim().split('\n').at(-1)!) as BackupJson).record?.remote;
      if (remote?.result !== 'ok') throw new Error(`orchestrate backup: no verified remote copy: ${remote?.error ?? first.stdout.slice(-2000)}`);
      return {
        total: first.ms,
        first,
        detail: {
          ...(remote.durationMs !== undefined ? { copyMs: remote.durationMs } : {}),
          ...(remote.verifiedBy ? { verifiedBy: remote.verifiedBy } : {}),
        },
      };
    };

    for (let round = 0; round < rounds; round++) {
      const order: ('sdk' | 'plain' | 'sealed')[] = round % 2 === 0 ? ['sdk', 'plain', 'sealed'] : ['sealed', 'plain', 'sdk'];
      for (const which of order) {
        await clear();
        const run = await runPair(which);
        pairs[which].push(run);
        const parts = run.second ? `${seconds(run.first.ms)} + ${seconds(run.second.ms)}` : seconds(run.first.ms);
        const rss = run.second ? `${mb(run.first.peakRssKb)} / ${mb(run.second.peakRssKb)}` : mb(run.first.peakRssKb);
        const copy = run.detail ? ` (of which the copy ${seconds(run.detail.copyMs ?? 0)}, verified by ${run.detail.verifiedBy ?? '?'})` : '';
        log(`  round ${round + 1}: ${which} ${parts}, peak RSS ${rss}${copy}`);
      }
    }
    await clear();
    return rows(pairs, rounds);
  } finally {
    await server?.destroy();
    await labDown({ dir });
    await rm(dirname(dir), { recursive: true, force: true }).catch(() => undefined);
  }
}

function rows(pairs: Record<'sdk' | 'plain' | 'sealed', PairRun[]>, rounds: number): BenchRow[] {
  const med = (runs: PairRun[], pick: (r: PairRun) => number) => median(runs.map(pick));
  const base = med(pairs.sdk, (r) => r.total);
  const peak = (runs: PairRun[], pick: (r: PairRun) => Timed | undefined) => mb(Math.max(...runs.map((r) => pick(r)?.peakRssKb ?? Number.NaN)));
  const describe = (runs: PairRun[]) =>
    runs[0]?.second
      ? `${seconds(med(runs, (r) => r.total))} (${seconds(med(runs, (r) => r.first.ms))} + ${seconds(med(runs, (r) => r.second?.ms ?? 0))}), peak RSS ${peak(runs, (r) => r.first)} / ${peak(runs, (r) => r.second)}`
      : `${seconds(med(runs, (r) => r.total))} in one process, peak RSS ${peak(runs, (r) => r.first)}`;
  const verify = (runs: PairRun[]) => `${seconds(med(runs, (r) => r.detail?.copyMs ?? 0))}, verified by ${runs[0]?.detail?.verifiedBy ?? '?'}`;
  return [
    { name: 'rounds', value: `${rounds}, alternating the order; s3rver on loopback, 5 MiB parts, 2 in flight on both sides` },
    { name: 'etcdctl save + SDK upload (median)', value: describe(pairs.sdk) },
    { name: 'orchestrate backup + remote copy, plain', value: describe(pairs.plain) },
    { name: '  of which the copy', value: verify(pairs.plain) },
    { name: 'orchestrate backup + remote copy, age', value: describe(pairs.sealed) },
    { name: '  of which the copy', value: verify(pairs.sealed) },
    { name: 'ratio plain / pair', value: `${(med(pairs.plain, (r) => r.total) / base).toFixed(2)}x (goal <= 1.15x)` },
    { name: 'ratio age / pair', value: `${(med(pairs.sealed, (r) => r.total) / base).toFixed(2)}x (goal < 1.30x)` },
  ];
}
