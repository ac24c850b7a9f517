// Benchmark: the restore preview's data diff on a 1 GiB / 1 M-key snapshot against a live etcd changed
// since (30,000 keys removed, added or rewritten), against the by-hand alternative: restore the snapshot
// into a throwaway etcd, list every key of both with `etcdctl get --keys-only`, sort and compare. Time and
// peak RSS of both, and what each found, in the same terms (they must agree). The filled snapshot is kept
// in a cache folder between runs (filling 1 M keys takes minutes); the live etcd is restored from it.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedKubernetesSnapshot, fillKubernetesLike, startLocalEtcd, type LocalEtcd } from './local-etcd.js';
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

/**
 * The same diff by hand: restore the snapshot into a throwaway etcd, list both sides with `etcdctl get
 * --keys-only -w fields` (keys printed quoted, so binary keys and newlines stay on one line; create and
 * mod revision beside each key), sort and compare with `comm`, all under LC_ALL=C (byte order). Keys
 * only in the snapshot come back, keys only live are removed, keys on both sides whose revisions differ
 * change: `comm` over "key create mod" lines sees those too. etcdctl's default 5 s command timeout would
 * end a 1 M-key get early (it did: both lists came out empty), and a pipeline hides that failure, so each
 * listing goes to a file first under `set -e`.
 */
function byHandScript(snapshot: string, work: string, live: string): string {
  const list = (endpoint: string, out: string) =>
    `ETCDCTL_API=3 etcdctl --endpoints=${endpoint} --command-timeout=600s get "" --from-key --keys-only -w fields > ${out}.fields
awk '/^"Key" : /{k=substr($0,9)} /^"CreateRevision" : /{c=$3} /^"ModRevision" : /{print k"\\t"c"\\t"$3}' ${out}.fields | sort > ${out}.revs
cut -f1 ${out}.revs | sort > ${out}.keys
rm ${out}.fields`;
  return `#!/bin/sh
set -e
export LC_ALL=C
cd ${work}
ETCDCTL_API=3 etcdctl snapshot restore ${snapshot} --name x --initial-cluster x=http://127.0.0.1:23899 --initial-advertise-peer-urls http://127.0.0.1:23899 --data-dir ${work}/x >/dev/null 2>&1
etcd --name x --data-dir ${work}/x --listen-client-urls http://127.0.0.1:23898 --advertise-client-urls http://127.0.0.1:23898 --listen-peer-urls http://127.0.0.1:23899 --initial-advertise-peer-urls http://127.0.0.1:23899 --initial-cluster x=http://127.0.0.1:23899 --quota-backend-bytes 8589934592 --log-level error >/dev/null 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT
i=0; until ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:23898 endpoint health >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 3000 ] || exit 1; sleep 0.1; done
${list('http://127.0.0.1:23898', 'snap')}
${list(live, 'live')}
kill -9 $pid
echo "snapshot $(wc -l < snap.keys)"
echo "live $(wc -l < live.keys)"
echo "comeBack $(comm -23 snap.keys live.keys | wc -l)"
echo "disappear $(comm -13 snap.keys live.keys | wc -l)"
echo "notSameInSnapshot $(comm -23 snap.revs live.revs | wc -l)"
rm -rf ${work}/x snap.* live.*
`;
}

/** The by-hand counts in the diff's terms: a snapshot line with no equal live line is a come-back or a change. */
function byHandCounts(stdout: string): { comeBack: number; disappear: number; change: number; same: number } {
  const value = (name: string): number => {
    const match = new RegExp(`^${name} +(\\d+)$`, 'm').exec(stdout);
    if (!match) throw new Error(`the by-hand script printed no ${name}: ${stdout.slice(-500)}`);
    return Number(match[1]);
  };
  const comeBack = value('comeBack');
  const change = value('notSameInSnapshot') - comeBack;
  return { comeBack, disappear: value('disappear'), change, same: value('snapshot') - comeBack - change };
}

/** What happened to the cluster since the snapshot: 30,000 keys removed, rewritten or added. */
export async function changeLiveCluster(etcd: Pick<LocalEtcd, 'endpoint' | 'etcdctl'>): Promise<void> {
  await etcd.etcdctl(['del', '--prefix', '/registry/pods/ns-1/']);
  await fillKubernetesLike(etcd, 10_000, 200, () => undefined); // rewrites 10,000 existing keys
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts: etcd.endpoint });
  try {
    for (let i = 0; i < 10_000; i += 100)
      await Promise.all(Array.from({ length: 100 }, (_, j) => client.put(`/registry/rogue/new-${i + j}`).value('x')));
  } finally {
    client.close();
  }
}

export async function runDiffBench(options: { keys?: number; valueBytes?: number; log?: (line: string) => void } = {}): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const keys = options.keys ?? 1_000_000;
  const snapshot = await cachedKubernetesSnapshot('127.0.144.2', keys, options.valueBytes ?? 1000, log);
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-bench-diff-'));
  log(`snapshot ${(statSync(snapshot).size / 1048576).toFixed(0)} MiB; restoring it into the live etcd and changing 30,000 keys`);
  const etcd = await startLocalEtcd('127.0.144.2', { restoreFrom: snapshot });
  try {
    await changeLiveCluster(etcd);
    const runner = join(work, 'diff-runner.mjs');
    writeFileSync(runner, DIFF_RUNNER);
    const diff = await timed(
      process.execPath,
      ['--import', 'tsx', runner, join(root, 'src', 'drill', 'restore-diff.ts'), snapshot, etcd.endpoint, work],
      { peakRss: true, timeoutMs: 600_000 },
    );
    if (diff.code !== 0) throw new Error(`diff failed: ${diff.stderr.slice(-1500)}`);
    const result = JSON.parse(diff.stdout.trim().split('\n').at(-1)!) as { totals: Totals; runs: number; ms: number };
    const script = join(work, 'by-hand.sh');
    writeFileSync(script, byHandScript(snapshot, work, etcd.endpoint), { mode: 0o700 });
    const byHand = await timed('/bin/sh', [script], { peakRss: true, timeoutMs: 1_200_000 });
    if (byHand.code !== 0) throw new Error(`by-hand diff failed: ${byHand.stderr.slice(-1500)}`);
    const counts = byHandCounts(byHand.stdout);
    const agree = (Object.keys(counts) as (keyof Totals)[]).every((field) => counts[field] === result.totals[field]);
    return [
      { name: 'snapshot', value: `${(statSync(snapshot).size / 1048576).toFixed(0)} MiB, ${keys} keys` },
      {
        name: 'data diff (bbolt reader + keys-only pages)',
        value: `${seconds(diff.ms)} wall (${seconds(result.ms)} in the diff), peak RSS ${((diff.peakRssKb ?? 0) / 1024).toFixed(0)} MB, ${result.runs} sorted runs on disk`,
      },
      { name: '  found', value: totalsText(result.totals) },
      {
        name: 'by hand: restore, etcd, etcdctl get --keys-only x2, sort, comm',
        value: `${seconds(byHand.ms)}, peak RSS of the biggest step ${((byHand.peakRssKb ?? 0) / 1024).toFixed(0)} MB`,
      },
      { name: '  found', value: totalsText(counts) },
      { name: 'the two agree', value: agree ? 'yes' : 'NO: see the counts above' },
      { name: 'ratio diff / by hand', value: `${(diff.ms / byHand.ms).toFixed(2)}x` },
    ];
  } finally {
    await etcd.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

interface Totals {
  comeBack: number;
  disappear: number;
  change: number;
  same: number;
}

const totalsText = (t: Totals): string => `${t.comeBack} come back, ${t.disappear} removed, ${t.change} changed, ${t.same} same`;
