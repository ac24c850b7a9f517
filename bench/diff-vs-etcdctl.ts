// Benchmark: the restore preview's data diff on a 1 GiB / 1 M-key snapshot against a live etcd changed
// since (30,000 keys removed, added or rewritten), against the by-hand alternative: restore the snapshot
// into a throwaway etcd, list every key of both with `etcdctl get --keys-only`, sort and compare. Time and
// peak RSS of both; the diff's memory budget keeps the deploy host's memory flat (sorted runs on disk).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillKubernetesLike, startLocalEtcd } from './local-etcd.js';
import { seconds, timed, type BenchRow } from './measure.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Runs the diff in a child process (for its own peak RSS) and prints its JSON. */
const DIFF_RUNNER = `
const [module, snapshot, endpoint, workDir] = process.argv.slice(2);
const { diffSnapshotAgainstCluster } = await import(module);
const member = { host: 'bench', name: 'bench', address: '127.0.144.2', peerUrl: 'http://127.0.144.2:2380', clientUrl: endpoint, dataDir: '/x', token: 't', service: 'etcd' };
const result = await diffSnapshotAgainstCluster(snapshot, [member], { workDir, timeoutMs: 30000 });
if (!result.ok) { console.error(result.reason); process.exit(1); }
console.log(JSON.stringify({ totals: result.diff.totals, runs: result.diff.spilledRuns, ms: result.diff.durationMs, groups: result.diff.groups.length }));
`;

function byHandScript(snapshot: string, work: string, live: string): string {
  return `#!/bin/sh
set -e
cd ${work}
ETCDCTL_API=3 etcdctl snapshot restore ${snapshot} --name x --initial-cluster x=http://127.0.0.1:23899 --initial-advertise-peer-urls http://127.0.0.1:23899 --data-dir ${work}/x >/dev/null 2>&1
etcd --name x --data-dir ${work}/x --listen-client-urls http://127.0.0.1:23898 --advertise-client-urls http://127.0.0.1:23898 --listen-peer-urls http://127.0.0.1:23899 --initial-advertise-peer-urls http://127.0.0.1:23899 --initial-cluster x=http://127.0.0.1:23899 --quota-backend-bytes 8589934592 --log-level error >/dev/null 2>&1 &
pid=$!
i=0; until ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:23898 endpoint health >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done
ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:23898 get "" --from-key --keys-only | grep -v '^$' | LC_ALL=C sort > snap.keys
ETCDCTL_API=3 etcdctl --endpoints=${live} get "" --from-key --keys-only | grep -v '^$' | LC_ALL=C sort > live.keys
kill -9 $pid
LC_ALL=C comm -3 snap.keys live.keys | wc -l
rm -rf ${work}/x snap.keys live.keys
`;
}

export async function runDiffBench(options: { keys?: number; valueBytes?: number; log?: (line: string) => void } = {}): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const keys = options.keys ?? 1_000_000;
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-bench-diff-'));
  const etcd = await startLocalEtcd('127.0.144.2');
  try {
    log(`filling a local etcd with ${keys} keys of ${options.valueBytes ?? 1000} bytes (takes a while)`);
    await fillKubernetesLike(etcd, keys, options.valueBytes ?? 1000, log);
    const snapshot = join(work, 'snapshot.db');
    await etcd.etcdctl(['snapshot', 'save', snapshot], 1_200_000);
    log(`snapshot ${(statSync(snapshot).size / 1048576).toFixed(0)} MiB; changing 30,000 keys`);
    await etcd.etcdctl(['del', '--prefix', '/registry/pods/ns-1/']);
    await fillKubernetesLike({ ...etcd }, 10_000, 200, () => undefined); // rewrites 10,000 existing keys
    const { Etcd3 } = await import('etcd3');
    const client = new Etcd3({ hosts: etcd.endpoint });
    for (let i = 0; i < 10_000; i += 100)
      await Promise.all(Array.from({ length: 100 }, (_, j) => client.put(`/registry/rogue/new-${i + j}`).value('x')));
    client.close();

    const runner = join(work, 'diff-runner.mjs');
    writeFileSync(runner, DIFF_RUNNER);
    const diff = await timed(
      process.execPath,
      ['--import', 'tsx', runner, join(root, 'src', 'drill', 'restore-diff.ts'), snapshot, etcd.endpoint, work],
      {
        peakRss: true,
        timeoutMs: 600_000,
      },
    );
    if (diff.code !== 0) throw new Error(`diff failed: ${diff.stderr.slice(-1500)}`);
    const result = JSON.parse(diff.stdout.trim().split('\n').at(-1)!) as { totals: Record<string, number>; runs: number; ms: number };
    const script = join(work, 'by-hand.sh');
    writeFileSync(script, byHandScript(snapshot, work, etcd.endpoint), { mode: 0o700 });
    const byHand = await timed('/bin/sh', [script], { peakRss: true, timeoutMs: 1_200_000 });
    if (byHand.code !== 0) throw new Error(`by-hand diff failed: ${byHand.stderr.slice(-1500)}`);
    return [
      { name: 'snapshot', value: `${(statSync(snapshot).size / 1048576).toFixed(0)} MiB, ${keys} keys` },
      {
        name: 'data diff (bbolt reader + keys-only pages)',
        value: `${seconds(diff.ms)} wall (${seconds(result.ms)} in the diff), peak RSS ${((diff.peakRssKb ?? 0) / 1024).toFixed(0)} MB, ${result.runs} sorted runs on disk`,
      },
      {
        name: 'diff found',
        value: `${result.totals.comeBack} come back, ${result.totals.disappear} removed, ${result.totals.change} changed, ${result.totals.same} same`,
      },
      {
        name: 'by hand: restore, etcd, etcdctl get --keys-only x2, sort, comm',
        value: `${seconds(byHand.ms)}, peak RSS of the biggest step ${((byHand.peakRssKb ?? 0) / 1024).toFixed(0)} MB, ${byHand.stdout.trim()} differing keys (no changes seen)`,
      },
      { name: 'ratio diff / by hand', value: `${(diff.ms / byHand.ms).toFixed(2)}x` },
    ];
  } finally {
    await etcd.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
