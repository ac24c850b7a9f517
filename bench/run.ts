// Benchmarks: `node --import=tsx bench/run.ts [name...]` (all when no name), printed as a table.
// Add a benchmark with one line in `benches`.
import type { BenchRow } from './measure.js';

interface Bench {
  summary: string;
  /** Long runs (labs of 200 hosts, 2 GiB snapshots): only when named, never in a bare `npm run bench`. */
  onlyByName?: boolean;
  run: () => Promise<BenchRow[]>;
}

const benches: Record<string, Bench> = {
  'engine-vs-ansible': {
    summary: '20 shell tasks on 3 lab hosts: ansible-playbook vs orchestrate run',
    run: async () => (await import('./engine-vs-ansible.js')).engineVsAnsible(),
  },
  'engine-scale': {
    summary: 'the same 20 tasks on 3, 50, 100 and 200 lab hosts (ENGINE_SCALE_HOSTS): time, connect, per task, peak RSS',
    onlyByName: true,
    run: async () => (await import('./engine-scale.js')).engineScale(),
  },
  'backup-vs-etcdctl': {
    summary: 'backup of a ~1 GB member: orchestrate backup vs etcdctl snapshot save, time and peak memory',
    run: async () => (await import('./backup-vs-etcdctl.js')).runBackupBench(),
  },
  'backup-remote-vs-etcdctl': {
    summary: 'backup + remote copy of ~1 GiB (plain and age) vs etcdctl snapshot save + an SDK upload, time and peak memory',
    run: async () => (await import('./backup-remote-vs-etcdctl.js')).runRemoteBench(),
  },
  'inventory-validate': {
    summary: 'a 1,000-host inventory (INI and YAML) validated: orchestrate vs ansible-inventory --list',
    run: async () => (await import('./inventory-validate.js')).inventoryValidateBench(),
  },
  'restore-vs-script': {
    summary: '3-member restore of a few hundred MB (RESTORE_BENCH_MIB, _MEMBERS, _ROUNDS): orchestrate restore vs a bare parallel script',
    run: async () => (await import('./restore-vs-script.js')).runRestoreBench(),
  },
  'restore-2g': {
    summary: 'restore-vs-script with a ~2 GiB snapshot, one round (RESTORE_BENCH_MEMBERS=5 for 5 members), with the dd floor',
    onlyByName: true,
    run: async () => (await import('./restore-vs-script.js')).runRestoreBench({ megabytes: 2100, rounds: 1 }),
  },
  'copy-vs-scp': {
    summary: 'a ~2 GiB snapshot to 3 members at once, alone: orchestrate (ssh client, sha256 checked) vs scp vs orchestrate over sftp',
    onlyByName: true,
    run: async () => (await import('./copy-vs-scp.js')).runCopyBench(),
  },
  'restore-nodes': {
    summary: 'restore with 0 vs 100 kube_node hosts (and --forks 10): API down, kubelet stop/start in parallel',
    onlyByName: true,
    run: async () => (await import('./restore-nodes.js')).runRestoreNodesBench(),
  },
  'restore-vs-script-kubeadm': {
    summary: 'the same on kubeadm static pods (etcd 3.5): orchestrate restore vs the manual runbook as a parallel script',
    run: async () => (await import('./restore-vs-script.js')).runRestoreBench({ topology: 'kubeadm' }),
  },
  'recover-paths': {
    summary:
      'each way out of orchestrate recover after a power cut (3 members): time and revisions lost, vs starting etcd by hand and the snapshot runbook',
    run: async () => (await import('./recover-paths.js')).runRecoverPathsBench(),
  },
  'drill-vs-manual': {
    summary: 'drill of a few-hundred-MB snapshot (3 members): orchestrate drill vs etcdctl restore + etcd by hand',
    run: async () => (await import('./drill-vs-manual.js')).runDrillBench(),
  },
  'diff-vs-etcdctl': {
    summary: 'restore preview data diff of a 1 GiB / 1 M-key snapshot vs a live etcd: time and peak memory, vs etcdctl get --keys-only by hand',
    run: async () => (await import('./diff-vs-etcdctl.js')).runDiffBench(),
  },
};

function table(title: string, rows: BenchRow[]): string {
  const width = Math.max(...rows.map((row) => row.name.length));
  return [`\n${title}`, ...rows.map((row) => `  ${row.name.padEnd(width)}  ${row.value}`)].join('\n');
}

async function main(names: string[]): Promise<number> {
  if (names.includes('--help') || names.includes('-h')) {
    process.stdout.write(
      `usage: node --import=tsx bench/run.ts [name...]\n\n${Object.entries(benches)
        .map(([n, b]) => `  ${n}  ${b.summary}${b.onlyByName ? ' (only when named)' : ''}`)
        .join('\n')}\n`,
    );
    return 0;
  }
  const selected = names.length > 0 ? names : Object.keys(benches).filter((name) => !benches[name]!.onlyByName);
  const unknown = selected.filter((name) => !(name in benches));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark: ${unknown.join(', ')} (known: ${Object.keys(benches).join(', ')})\n`);
    return 2;
  }
  let failed = false;
  for (const name of selected) {
    try {
      const rows = await benches[name]!.run();
      process.stdout.write(`${table(name, rows)}\n`);
    } catch (error) {
      failed = true;
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
