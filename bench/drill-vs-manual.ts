// Benchmark: `orchestrate drill` of a few-hundred-MB snapshot (3 members) against doing the same by hand
// with etcdctl/etcdutl and etcd: restore three data dirs, start three members, wait until healthy, count
// the keys, kill, remove. Alternating rounds in one run; medians, the ratio, the drill's own timings and
// its peak RSS. With ETCD35_BIN=<folder with etcd 3.5 binaries> the drill also runs with etcdutl 3.5
// (--bump-revision --mark-compacted).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillKubernetesLike, startLocalEtcd } from './local-etcd.js';
import { median, seconds, timed, type BenchRow } from './measure.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The manual drill an operator would script: what `orchestrate drill` replaces. */
function manualScript(snapshot: string, work: string, tool: string): string {
  const names = ['m1', 'm2', 'm3'];
  const port = (i: number, peer: boolean) => 23790 + i * 2 + (peer ? 1 : 0);
  const cluster = names.map((n, i) => `${n}=http://127.0.0.1:${port(i, true)}`).join(',');
  const restore = names
    .map(
      (n, i) =>
        `ETCDCTL_API=3 ${tool} snapshot restore ${snapshot} --name ${n} --initial-cluster ${cluster} --initial-cluster-token manual --initial-advertise-peer-urls http://127.0.0.1:${port(i, true)} --data-dir ${work}/${n} >/dev/null 2>&1 &`,
    )
    .join('\n');
  const start = names
    .map(
      (n, i) =>
        `etcd --name ${n} --data-dir ${work}/${n} --listen-client-urls http://127.0.0.1:${port(i, false)} --advertise-client-urls http://127.0.0.1:${port(i, false)} --listen-peer-urls http://127.0.0.1:${port(i, true)} --initial-advertise-peer-urls http://127.0.0.1:${port(i, true)} --initial-cluster ${cluster} --initial-cluster-token manual --log-level error >/dev/null 2>&1 & echo $! >> ${work}/pids`,
    )
    .join('\n');
  const endpoints = names.map((_, i) => `http://127.0.0.1:${port(i, false)}`).join(',');
  return `#!/bin/sh
set -e
${restore}
wait
${start}
i=0
until ETCDCTL_API=3 etcdctl --endpoints=${endpoints} --dial-timeout=1s endpoint health >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done
ETCDCTL_API=3 etcdctl --endpoints=${endpoints.split(',')[0]} get "" --from-key --keys-only | grep -c . >/dev/null
kill -9 $(cat ${work}/pids)
wait 2>/dev/null || true
rm -rf ${work}/m1 ${work}/m2 ${work}/m3 ${work}/pids
`;
}

export async function runDrillBench(
  options: { rounds?: number; keys?: number; valueBytes?: number; log?: (line: string) => void } = {},
): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rounds = options.rounds ?? 3;
  const keys = options.keys ?? 100_000;
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-bench-drill-'));
  const etcd = await startLocalEtcd('127.0.144.1');
  try {
    log(`filling a local etcd with ${keys} keys of ${options.valueBytes ?? 2000} bytes`);
    await fillKubernetesLike(etcd, keys, options.valueBytes ?? 2000, log);
    const snapshot = join(work, 'snapshot.db');
    await etcd.etcdctl(['snapshot', 'save', snapshot]);
    await etcd.stop();
    const size = statSync(snapshot).size;
    log(`snapshot ${(size / 1048576).toFixed(0)} MiB`);
    const inventory = join(work, 'inventory.yml');
    writeFileSync(
      inventory,
      'all:\n  vars:\n    drill_expect: [{ prefix: /registry/pods/, min: 1000 }]\n  children:\n    etcd:\n      hosts:\n        10.9.0.1: {}\n        10.9.0.2: {}\n        10.9.0.3: {}\n',
    );
    const script = join(work, 'manual.sh');
    writeFileSync(script, manualScript(snapshot, join(work, 'manual'), 'etcdctl'), { mode: 0o700 });
    const drillArgs = ['drill', inventory, '--snapshot', snapshot, '--json', '--work-dir', work];
    const drills: number[] = [];
    const manuals: number[] = [];
    let last:
      | {
          timings: { timeToQuorumMs?: number; timeToLastCheckMs?: number; stages: { stage: string; ms: number }[] };
          peakRssMiB?: number;
          ok: boolean;
        }
      | undefined;
    let peak = 0;
    for (let round = 0; round < rounds; round++) {
      const drill = await timed(join(root, 'bin', 'orchestrate'), drillArgs);
      if (drill.code !== 0) throw new Error(`drill failed: ${drill.stdout.slice(-1500)}${drill.stderr.slice(-1500)}`);
      last = JSON.parse(drill.stdout) as typeof last;
      drills.push(drill.ms);
      peak = Math.max(peak, last?.peakRssMiB ?? 0);
      rmSync(join(work, 'manual'), { recursive: true, force: true });
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(work, 'manual'));
      const manual = await timed('/bin/sh', [script]);
      if (manual.code !== 0) throw new Error(`manual drill failed: ${manual.stderr.slice(-1500)}`);
      manuals.push(manual.ms);
      log(`  round ${round + 1}: drill ${seconds(drill.ms)}, by hand ${seconds(manual.ms)}`);
    }
    const rows: BenchRow[] = [
      { name: 'snapshot', value: `${(size / 1048576).toFixed(0)} MiB, ${keys} keys` },
      { name: 'orchestrate drill (3 members, all checks)', value: `${seconds(median(drills))} median of ${rounds}` },
      { name: 'by hand: etcdctl restore x3, etcd x3, health, count', value: `${seconds(median(manuals))} median of ${rounds}` },
      { name: 'ratio drill / by hand', value: `${(median(drills) / median(manuals)).toFixed(2)}x` },
      {
        name: 'drill: time to quorum / to the last check',
        value: `${seconds(last?.timings.timeToQuorumMs ?? 0)} / ${seconds(last?.timings.timeToLastCheckMs ?? 0)}`,
      },
      { name: 'drill: stages (last round)', value: (last?.timings.stages ?? []).map((s) => `${s.stage} ${seconds(s.ms)}`).join(', ') },
      { name: 'drill: peak RSS of orchestrate (not the members)', value: `${peak} MiB` },
    ];
    const etcd35 = process.env.ETCD35_BIN;
    if (etcd35) {
      const with35 = await timed(join(root, 'bin', 'orchestrate'), drillArgs, {
        env: { ...process.env, PATH: `${etcd35}:${process.env.PATH ?? ''}` },
      });
      if (with35.code !== 0) throw new Error(`drill with etcd 3.5 failed: ${with35.stdout.slice(-1500)}`);
      rows.push({ name: 'orchestrate drill with etcdutl 3.5 (--bump-revision)', value: seconds(with35.ms) });
    }
    return rows;
  } finally {
    await etcd.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
