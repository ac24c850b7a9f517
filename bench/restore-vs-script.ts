// Benchmark: `orchestrate restore` against a bare script doing only the minimal steps in parallel over SSH
// (copy, stop, restore with identity, swap, start, wait for health), on a 3-member lab filled to a few
// hundred MB, alternating, in the same run. Prints the medians, the ratio (goal <= 1.3x) and the RTO
// breakdown per phase of both.
import { median, seconds, timed, type BenchRow } from './measure.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdctl, clientUrl } from '../src/lab/etcdctl.js';
import { labDown, labUp, type LabInfo } from '../src/lab/index.js';
import { shellJoin, shellQuote } from '../src/shell/quote.js';

export interface RestoreBenchOptions {
  /** Rounds of each, alternating. Default 3. */
  rounds?: number;
  /** Database size to fill to. Default 300 MiB. */
  megabytes?: number;
  net?: string;
  log?: (line: string) => void;
}

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Fill the cluster with incompressible values through etcdctl txn (1 MiB per key, under etcd's request limit). */
async function fill(lab: LabInfo, megabytes: number, log: (line: string) => void): Promise<void> {
  const files = { caFile: lab.pki.caFile, certFile: lab.pki.clientCertFile, keyFile: lab.pki.clientKeyFile };
  const endpoint = [clientUrl(lab.hosts[0]!.address)];
  const { randomBytes } = await import('node:crypto');
  const perKey = 700 * 1024; // base64 grows it to ~0.93 MiB
  for (let i = 0; i < megabytes; i++) {
    const value = randomBytes(perKey).toString('base64');
    const result = await etcdctl(files, endpoint, ['put', `/registry/bench/blob-${String(i).padStart(5, '0')}`], { input: value, timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`filling the lab failed at key ${i}: ${result.stderr}`);
    if (i % 50 === 49) log(`  filled ${i + 1} MiB`);
  }
}

/** The bare script: every step in parallel over plain ssh (with connection sharing), no checks beyond health. */
function bareScript(lab: LabInfo, snapshot: string, work: string): string {
  const ssh = `ssh -i ${shellQuote(lab.keyFile)} -o BatchMode=yes -o UserKnownHostsFile=${shellQuote(lab.knownHostsFile)} -o ControlMaster=auto -o ControlPath=${shellQuote(join(work, 'cm-%h'))} -o ControlPersist=120 -o LogLevel=ERROR`;
  const scp = `scp -q -i ${shellQuote(lab.keyFile)} -o BatchMode=yes -o UserKnownHostsFile=${shellQuote(lab.knownHostsFile)} -o ControlMaster=auto -o ControlPath=${shellQuote(join(work, 'cm-%h'))} -o ControlPersist=120 -o LogLevel=ERROR`;
  const cluster = lab.hosts.map((h) => `${h.name}=${h.peerUrl}`).join(',');
  const each = (command: (host: LabInfo['hosts'][number]) => string) =>
    `${lab.hosts.map((h) => `${ssh} root@${h.address} ${shellQuote(command(h))} &`).join('\n')}\nwait`;
  const endpoints = lab.hosts.map((h) => h.clientUrl).join(',');
  const tls = shellJoin([`--cacert=${lab.pki.caFile}`, `--cert=${lab.pki.clientCertFile}`, `--key=${lab.pki.clientKeyFile}`]);
  return `#!/bin/sh
set -e
mark() { echo "PHASE $1 $(date +%s%3N)"; }
mark copy
${lab.hosts.map((h) => `${scp} ${shellQuote(snapshot)} root@${h.address}:/var/lib/etcd.script.db &`).join('\n')}
wait
mark stop
${each(() => 'systemctl stop kube-proxy kubelet')}
${each(() => 'systemctl stop kube-scheduler kube-controller-manager kube-apiserver')}
mark api-down
${each(() => 'systemctl stop etcd')}
mark restore
${each((h) => `rm -rf /var/lib/etcd.script-new && ETCDCTL_API=3 etcdctl snapshot restore /var/lib/etcd.script.db ${shellJoin(['--name', h.name, '--initial-cluster', cluster, '--initial-cluster-token', 'etcd-cluster-0', '--initial-advertise-peer-urls', h.peerUrl])} --data-dir /var/lib/etcd.script-new >/dev/null 2>&1`)}
mark swap
${each(() => 'rm -rf /var/lib/etcd.script-old && mv /var/lib/etcd /var/lib/etcd.script-old && mv /var/lib/etcd.script-new /var/lib/etcd')}
mark start
${each(() => 'systemctl start etcd')}
mark wait-health
i=0
until ETCDCTL_API=3 etcdctl --endpoints=${endpoints} ${tls} --dial-timeout=1s endpoint health >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 300 ] || { echo "not healthy" >&2; exit 1; }; sleep 0.2
done
mark start-kube
${each(() => 'systemctl start kube-apiserver kube-controller-manager kube-scheduler')}
mark api-up
${each(() => 'systemctl start kubelet kube-proxy')}
mark end
${lab.hosts.map((h) => `${ssh} -O exit root@${h.address} 2>/dev/null || true`).join('\n')}
`;
}

interface ScriptPhases {
  phases: { id: string; ms: number }[];
  apiDownMs: number;
}

function scriptPhases(stdout: string): ScriptPhases {
  const marks = stdout
    .split('\n')
    .filter((line) => line.startsWith('PHASE '))
    .map((line) => {
      const [, id = '', at = '0'] = line.split(' ');
      return { id, at: Number(at) };
    });
  const phases: { id: string; ms: number }[] = [];
  const timeline = marks.filter((m) => m.id !== 'api-down' && m.id !== 'api-up');
  for (let i = 0; i + 1 < timeline.length; i++) phases.push({ id: timeline[i]!.id, ms: timeline[i + 1]!.at - timeline[i]!.at });
  const at = (id: string) => marks.find((m) => m.id === id)?.at ?? 0;
  // The API is down from the first kube-apiserver stop (inside "stop") to its start; counted from the master stop.
  return { phases, apiDownMs: at('api-up') - at('api-down') };
}

export async function runRestoreBench(options: RestoreBenchOptions = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? 3;
  const megabytes = options.megabytes ?? 300;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const useDist = existsSync(join(root, 'dist', 'commands', 'restore.js'));
  const [program, ...cli] = useDist
    ? [join(root, 'bin', 'orchestrate')]
    : [
        process.execPath,
        '--import',
        join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs'),
        '--input-type=module',
        '-e',
        `const { main } = await import(${JSON.stringify(join(root, 'src', 'cli', 'main.ts'))}); process.exitCode = await main(process.argv.slice(1));`,
      ];
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-restore-bench-'));
  const labDir = join(work, 'lab');
  let lab: LabInfo | undefined;
  try {
    log(`bringing up a 3-member lab on ${options.net ?? '127.0.107'}`);
    lab = await labUp({ dir: labDir, net: options.net ?? '127.0.107', members: 3 });
    log(`filling it with ${megabytes} MiB`);
    await fill(lab, megabytes, log);
    const files = { caFile: lab.pki.caFile, certFile: lab.pki.clientCertFile, keyFile: lab.pki.clientKeyFile };
    const snapshot = join(labDir, 'backups', 'bench.db');
    rmSync(dirname(snapshot), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dirname(snapshot), { recursive: true, mode: 0o700 });
    const saved = await etcdctl(files, [clientUrl(lab.hosts[0]!.address)], ['snapshot', 'save', snapshot], { timeoutMs: 300_000 });
    if (saved.code !== 0) throw new Error(`snapshot save failed: ${saved.stderr}`);
    const size = readFileSync(snapshot).length;
    const scriptFile = join(work, 'bare-restore.sh');
    writeFileSync(scriptFile, bareScript(lab, snapshot, work), { mode: 0o700 });
    const cleanup = `rm -rf /var/lib/etcd.before-restore-* /var/lib/etcd.script-old /var/lib/etcd.script.db`;
    const ssh = (address: string, command: string) =>
      timed('ssh', [
        '-i',
        lab!.keyFile,
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${lab!.knownHostsFile}`,
        '-o',
        'LogLevel=ERROR',
        `root@${address}`,
        command,
      ]);
    const tidy = async () => {
      await Promise.all(lab!.hosts.map((h) => ssh(h.address, cleanup)));
      rmSync(join(labDir, '.orchestrate'), { recursive: true, force: true });
    };

    const orchestrate: number[] = [];
    const orchestrateApi: number[] = [];
    const script: number[] = [];
    const scriptApi: number[] = [];
    const orchestratePhases = new Map<string, number[]>();
    const barePhases = new Map<string, number[]>();
    const env = { ...process.env, CI: '1' };
    for (let round = 1; round <= rounds; round++) {
      await tidy();
      const s = await timed('sh', [scriptFile], { env });
      if (s.code !== 0) throw new Error(`the bare script failed (exit ${String(s.code)}): ${s.stderr.slice(-2000)}`);
      const sp = scriptPhases(s.stdout);
      for (const p of sp.phases) barePhases.set(p.id, [...(barePhases.get(p.id) ?? []), p.ms]);
      script.push(s.ms);
      scriptApi.push(sp.apiDownMs);

      await tidy();
      const o = await timed(program!, [...cli, 'restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json'], { env });
      const reportLine = o.stdout
        .trim()
        .split('\n')
        .reverse()
        .find((line) => line.startsWith('{"type":"report"'));
      if (o.code !== 0 || !reportLine)
        throw new Error(`orchestrate restore failed (exit ${String(o.code)}):\n${o.stdout.slice(-3000)}\n${o.stderr.slice(-2000)}`);
      const report = JSON.parse(reportLine) as { rto: { wallMs: number; apiDowntimeMs?: number; phases: { id: string; ms: number }[] } };
      for (const p of report.rto.phases) orchestratePhases.set(p.id, [...(orchestratePhases.get(p.id) ?? []), p.ms]);
      orchestrate.push(o.ms);
      orchestrateApi.push(report.rto.apiDowntimeMs ?? 0);
      log(
        `round ${round}/${rounds}: bare script ${seconds(s.ms)} (API down ${seconds(sp.apiDownMs)}), orchestrate ${seconds(o.ms)} (API down ${seconds(report.rto.apiDowntimeMs ?? 0)})`,
      );
    }
    await tidy();
    const o = median(orchestrate);
    const s = median(script);
    return [
      {
        name: 'database',
        value: `${(size / 1048576).toFixed(0)} MiB snapshot, 3 members, ${rounds} rounds each, alternating (${useDist ? 'dist/' : 'from source via tsx'})`,
      },
      { name: 'bare script median (wall)', value: `${seconds(s)} (API down ${seconds(median(scriptApi))})` },
      { name: 'orchestrate restore median (wall)', value: `${seconds(o)} (API down ${seconds(median(orchestrateApi))})` },
      { name: 'ratio orchestrate / script', value: `${(o / s).toFixed(2)}x (goal <= 1.3x)` },
      ...[...barePhases].map(([id, values]) => ({ name: `  script ${id}`, value: seconds(median(values)) })),
      ...[...orchestratePhases].map(([id, values]) => ({ name: `  orchestrate ${id}`, value: seconds(median(values)) })),
      {
        name: '  orchestrate outside the phases',
        value: `${seconds(o - [...orchestratePhases.values()].reduce((sum, v) => sum + median(v), 0))} (process start-up and exit, confirmation, report)`,
      },
    ];
  } finally {
    if (lab) log('taking the lab down');
    await labDown({ dir: labDir }).catch((error: unknown) => log(`lab down failed: ${(error as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
}

// Run on its own: `node --import=tsx bench/restore-vs-script.ts` (bench/run.ts calls runRestoreBench()).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await runRestoreBench();
  const width = Math.max(...rows.map((row) => row.name.length));
  process.stdout.write(`\nrestore-vs-script\n${rows.map((row) => `  ${row.name.padEnd(width)}  ${row.value}`).join('\n')}\n`);
}
