// Benchmark: each way out of `orchestrate recover` on a 3-member lab (kubeasz units, etcd 3.4, a few tens of
// MiB), after a power cut (every etcd killed with SIGKILL through `lab power-cut`), with keys written after
// the newest backup: the diagnosis, start as is (every data dir intact), the rebuild from the freshest
// member (two WALs damaged), the snapshot path (every db destroyed). For each: wall time and the data lost
// in revisions (the cluster's revision at the cut minus its revision after). Side by side, in the same run,
// the manual alternatives: starting etcd by hand (start as is), and the runbook of the power-cut story (data
// dirs moved aside, `etcdctl snapshot restore` of the newest backup on every member, start): what it loses.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientUrl, etcdctl } from '../src/lab/etcdctl.js';
import { labDown, labPowerCut, labUp, runInHost, type LabInfo } from '../src/lab/index.js';
import { median, seconds, timed, type BenchRow } from './measure.js';
import { fill, orchestrateCommand, restoreFlags, scriptTools } from './restore-vs-script.js';

export interface RecoverBenchOptions {
  rounds?: number;
  megabytes?: number;
  net?: string;
  log?: (line: string) => void;
}

type Path = 'start' | 'rebuild' | 'snapshot';

interface Sample {
  ms: number;
  lost: number;
  diagnosisMs?: number;
}

async function revision(lab: LabInfo): Promise<number> {
  const files = { caFile: lab.pki.caFile, certFile: lab.pki.clientCertFile, keyFile: lab.pki.clientKeyFile };
  const status = await etcdctl(
    files,
    lab.hosts.map((h) => clientUrl(h.address)),
    ['endpoint', 'status', '-w', 'json'],
  );
  if (status.code !== 0) throw new Error(`endpoint status: ${status.stderr}`);
  return Math.max(...(JSON.parse(status.stdout) as { Status: { header: { revision: number } } }[]).map((r) => r.Status.header.revision));
}

async function putKeys(lab: LabInfo, prefix: string, count: number): Promise<string[]> {
  const files = { caFile: lab.pki.caFile, certFile: lab.pki.clientCertFile, keyFile: lab.pki.clientKeyFile };
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `${prefix}${String(i).padStart(3, '0')}`;
    const put = await etcdctl(files, [clientUrl(lab.hosts[0]!.address)], ['put', key, `order ${i}`]);
    if (put.code !== 0) throw new Error(`put ${key}: ${put.stderr}`);
    keys.push(key);
  }
  return keys;
}

/** One byte flipped inside the WAL record of `key`: its crc fails, etcd refuses the WAL (as test/helpers/recover.ts does). */
async function flipWal(host: LabInfo['hosts'][number], key: string): Promise<void> {
  const script = [
    'f=$(ls /var/lib/etcd/member/wal/*.wal | tail -1)',
    'at=$(grep -boa -- "$1" "$f" | tail -1 | cut -d: -f1)',
    '[ -n "$at" ] || exit 1',
    'printf "\\377" | dd of="$f" bs=1 seek=$((at + 2)) conv=notrunc 2>/dev/null',
  ].join('\n');
  const result = await runInHost(host.pid, ['sh', '-c', script, 'sh', key]);
  if (result.code !== 0) throw new Error(`flip the WAL of ${host.address}: ${result.stderr}`);
}

async function breakDb(host: LabInfo['hosts'][number]): Promise<void> {
  const result = await runInHost(host.pid, ['sh', '-c', 'dd if=/dev/zero of=/var/lib/etcd/member/snap/db bs=4096 count=2 conv=notrunc 2>/dev/null']);
  if (result.code !== 0) throw new Error(`break the db of ${host.address}: ${result.stderr}`);
}

/** The newest snapshot file `orchestrate backup` wrote under the lab's backups folder. */
function newestSnapshot(dir: string): string {
  const files: { path: string; mtime: number }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      // rescue/ holds the rebuild's raw db copies, not snapshots.
      if (e.isDirectory() && e.name !== 'rescue') walk(path);
      else if (/\.db$/.test(e.name)) files.push({ path, mtime: statSync(path).mtimeMs });
    }
  };
  walk(dir);
  const newest = files.sort((a, b) => b.mtime - a.mtime)[0];
  if (!newest) throw new Error(`no snapshot under ${dir}`);
  return newest.path;
}

/** Start etcd on every member by hand, in parallel, and wait for health: the manual "start as is". */
function manualStartScript(lab: LabInfo, work: string): string {
  const { each, waitHealth, closeAll } = scriptTools(lab, '/dev/null', work);
  return `#!/bin/sh\nset -e\n${each(() => 'systemctl start etcd')}\n${waitHealth}\n${closeAll}\n`;
}

/** The power-cut story's runbook: data dirs aside (the story deleted them), the newest backup restored on every member, start. */
function manualSnapshotScript(lab: LabInfo, snapshot: string, work: string, round: number): string {
  const { each, copy, waitHealth, closeAll } = scriptTools(lab, snapshot, work);
  const aside = `/var/lib/etcd.bench-runbook-${round}`;
  return `#!/bin/sh
set -e
${copy}
${each(() => 'systemctl stop etcd || true')}
${each((h) => `mv /var/lib/etcd ${aside} && ETCDCTL_API=3 etcdctl snapshot restore /var/lib/etcd.script.db ${restoreFlags(lab, h, 'etcd-cluster-0')} --data-dir /var/lib/etcd >/dev/null 2>&1`)}
${each(() => 'systemctl start etcd')}
${waitHealth}
${closeAll}
`;
}

export async function runRecoverPathsBench(options: RecoverBenchOptions = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 2;
  const megabytes = options.megabytes ?? 20;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { useDist, program, cli } = orchestrateCommand();
  const env = { ...process.env, CI: '1' };
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-recover-bench-'));
  const labDir = join(work, 'lab');
  let lab: LabInfo | undefined;
  try {
    const net = options.net ?? '127.0.148';
    log(`bringing up a 3-member lab on ${net}, filling it with ${megabytes} MiB`);
    lab = await labUp({ dir: labDir, net, members: 3 });
    await fill(lab, megabytes, log);
    const samples: Record<Path | 'manual-start' | 'manual-snapshot', Sample[]> = {
      start: [],
      rebuild: [],
      snapshot: [],
      'manual-start': [],
      'manual-snapshot': [],
    };
    const diagnosisDry: number[] = [];
    const cli2 = (args: string[]) => timed(program, [...cli, ...args], { env, timeoutMs: 600_000 });
    const recover = async (path: Path): Promise<Sample> => {
      const run = await cli2(['recover', lab!.inventoryFile, '--yes', '--json']);
      const line = run.stdout
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"type":"report"'));
      const report = line ? (JSON.parse(line) as { choice?: { kind: string }; diagnosis?: { ms: number } }) : undefined;
      if (run.code !== 0 || report?.choice?.kind !== path)
        throw new Error(
          `recover (${path}) exit ${String(run.code)}, chose ${report?.choice?.kind ?? '?'}:\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-1500)}`,
        );
      return { ms: run.ms, lost: 0, ...(report.diagnosis ? { diagnosisMs: report.diagnosis.ms } : {}) };
    };
    for (let round = 1; round <= rounds; round++) {
      const dry = await cli2(['recover', lab.inventoryFile, '--dry-run', '--json']);
      if (dry.code !== 0) throw new Error(`recover --dry-run: ${dry.stderr.slice(-1500)}`);
      diagnosisDry.push(dry.ms);

      // The revision at the cut is read before it (the cluster answers then): the power cut's own key is +1.
      const before = async () => (await revision(lab!)) + 1;
      for (const path of ['start', 'manual-start', 'rebuild', 'snapshot', 'manual-snapshot'] as const) {
        const backup = await cli2(['backup', lab.inventoryFile]);
        if (backup.code !== 0) throw new Error(`backup: ${backup.stderr.slice(-1500)}`);
        const keys = await putKeys(lab, `/bench/${round}-${path}/`, 20);
        if (path === 'rebuild') await new Promise((resolve) => setTimeout(resolve, 1500));
        const atCut = await before();
        await labPowerCut({ dir: labDir });
        let sample: Sample;
        if (path === 'manual-start' || path === 'manual-snapshot') {
          const file = join(work, `${path}.sh`);
          const text =
            path === 'manual-start' ? manualStartScript(lab, work) : manualSnapshotScript(lab, newestSnapshot(join(labDir, 'backups')), work, round);
          writeFileSync(file, text, { mode: 0o700 });
          const run = await timed('sh', [file], { env });
          if (run.code !== 0) throw new Error(`${path} script: ${run.stderr.slice(-1500)}`);
          sample = { ms: run.ms, lost: 0 };
        } else {
          if (path === 'rebuild') for (const host of lab.hosts.slice(1)) await flipWal(host, keys[10] ?? '');
          if (path === 'snapshot') for (const host of lab.hosts) await breakDb(host);
          sample = await recover(path);
        }
        sample.lost = Math.max(0, atCut - (await revision(lab)));
        samples[path].push(sample);
        log(`round ${round}/${rounds} ${path}: ${seconds(sample.ms)}, lost ${sample.lost} revision(s)`);
      }
    }
    const row = (name: string, list: Sample[], note = '') => ({
      name,
      value: `${seconds(median(list.map((s) => s.ms)))}, loses ${median(list.map((s) => s.lost))} revision(s)${note}`,
    });
    const ratio = (a: Sample[], b: Sample[]) => (median(a.map((s) => s.ms)) / median(b.map((s) => s.ms))).toFixed(2);
    const diagnoses = [...samples.start, ...samples.rebuild, ...samples.snapshot].flatMap((s) =>
      s.diagnosisMs === undefined ? [] : [s.diagnosisMs],
    );
    return [
      {
        name: 'lab',
        value: `3 members, kubeasz units, etcd 3.4, ${megabytes} MiB, 20 keys after a fresh backup per case, ${rounds} rounds (${useDist ? 'dist/' : 'from source via tsx'})`,
      },
      { name: 'diagnosis (inside recover)', value: `${seconds(median(diagnoses))} median (read-only, every member in parallel)` },
      { name: 'recover --dry-run (whole command)', value: `${seconds(median(diagnosisDry))} median, healthy cluster` },
      row('1. start as is: recover', samples.start),
      row(
        '   by hand: systemctl start etcd on each',
        samples['manual-start'],
        ` (recover / by hand ${ratio(samples.start, samples['manual-start'])}x)`,
      ),
      row('2. rebuild from a member: recover', samples.rebuild, ' (2 of 3 WALs damaged)'),
      row('3. newest snapshot: recover', samples.snapshot, ' (every db destroyed)'),
      row('   runbook: data aside, snapshot restore, start', samples['manual-snapshot'], ' (every data dir intact: it loses them anyway)'),
    ];
  } finally {
    if (lab) log('taking the lab down');
    await labDown({ dir: labDir }).catch((error: unknown) => log(`lab down failed: ${(error as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
}
