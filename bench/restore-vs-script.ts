// Benchmark: `orchestrate restore` against a bare script doing only the minimal steps in parallel over SSH
// (copy, stop, restore with identity, swap, start, wait for health), on a 3-member lab filled to a few
// hundred MB, alternating, in the same run. Prints the medians, the ratio (goal <= 1.3x) and the RTO
// breakdown per phase of both. The kubeadm variant runs both on static pods: the script is the manual
// runbook (manifests moved aside, crictl waits, etcdutl with the revision bump, manifests back).
// Size, members and rounds: RESTORE_BENCH_MIB, RESTORE_BENCH_MEMBERS, RESTORE_BENCH_ROUNDS (or the options;
// `restore-2g` is 2 GiB, 3 members, one round). Each round also measures the physical floor: `dd` of the
// snapshot's size to each member's data dir filesystem (fsync, all members at once) plus the script's etcd
// start and wait for health; and orchestrate's peak RSS (GNU time).
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
  /** etcd members, 1 to 7. Default 3. */
  members?: number;
  net?: string;
  /** kubeasz (systemd units, etcd 3.4; default) or kubeadm (static pods, etcd 3.5). */
  topology?: 'kubeasz' | 'kubeadm';
  log?: (line: string) => void;
}

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** ssh/scp options for a lab host as root: the lab's key and known hosts, no prompts. */
export function labSshOptions(lab: LabInfo): string[] {
  return ['-i', lab.keyFile, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'LogLevel=ERROR'];
}

/** RESTORE_BENCH_FLAGS: more `orchestrate restore` flags (e.g. `--no-diff`), split on spaces. */
function extraRestoreFlags(): string[] {
  return (process.env.RESTORE_BENCH_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
}

/** Fill the cluster with incompressible values through etcdctl txn (1 MiB per key, under etcd's request limit). */
export async function fill(lab: LabInfo, megabytes: number, log: (line: string) => void): Promise<void> {
  const files = { caFile: lab.pki.caFile, certFile: lab.pki.clientCertFile, keyFile: lab.pki.clientKeyFile };
  const endpoint = [clientUrl(lab.hosts[0]!.address)];
  const { randomBytes } = await import('node:crypto');
  const perKey = 700 * 1024; // base64 grows it to ~0.93 MiB
  let next = 0;
  // Four etcdctl processes at a time: a 2 GiB fill one put after the other takes longer than the restores.
  const worker = async (): Promise<void> => {
    for (let i = next++; i < megabytes; i = next++) {
      const value = randomBytes(perKey).toString('base64');
      const result = await etcdctl(files, endpoint, ['put', `/registry/bench/blob-${String(i).padStart(5, '0')}`], {
        input: value,
        timeoutMs: 60_000,
      });
      if (result.code !== 0) throw new Error(`filling the lab failed at key ${i}: ${result.stderr}`);
      if (i % 100 === 99) log(`  filled ${i + 1} MiB`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

export interface ScriptTools {
  /** Run one command on every member in parallel. */
  each: (command: (host: LabInfo['hosts'][number]) => string) => string;
  copy: string;
  waitHealth: string;
  closeAll: string;
}

/** ssh and scp with connection sharing, as a careful operator's script would use them. */
export function scriptTools(lab: LabInfo, snapshot: string, work: string): ScriptTools {
  const options = `-i ${shellQuote(lab.keyFile)} -o BatchMode=yes -o UserKnownHostsFile=${shellQuote(lab.knownHostsFile)} -o ControlMaster=auto -o ControlPath=${shellQuote(join(work, 'cm-%h'))} -o ControlPersist=120 -o LogLevel=ERROR`;
  const ssh = `ssh ${options}`;
  const endpoints = lab.hosts.map((h) => h.clientUrl).join(',');
  const tls = shellJoin([`--cacert=${lab.pki.caFile}`, `--cert=${lab.pki.clientCertFile}`, `--key=${lab.pki.clientKeyFile}`]);
  return {
    each: (command) => `${lab.hosts.map((h) => `${ssh} root@${h.address} ${shellQuote(command(h))} &`).join('\n')}\nwait`,
    copy: `${lab.hosts.map((h) => `scp -q ${options} ${shellQuote(snapshot)} root@${h.address}:/var/lib/etcd.script.db &`).join('\n')}\nwait`,
    waitHealth: `i=0
until ETCDCTL_API=3 etcdctl --endpoints=${endpoints} ${tls} --dial-timeout=1s endpoint health >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 300 ] || { echo "not healthy" >&2; exit 1; }; sleep 0.2
done`,
    closeAll: lab.hosts.map((h) => `${ssh} -O exit root@${h.address} 2>/dev/null || true`).join('\n'),
  };
}

export const restoreFlags = (lab: LabInfo, host: LabInfo['hosts'][number], token: string): string =>
  shellJoin([
    '--name',
    host.name,
    '--initial-cluster',
    lab.hosts.map((h) => `${h.name}=${h.peerUrl}`).join(','),
    '--initial-cluster-token',
    token,
    '--initial-advertise-peer-urls',
    host.peerUrl,
  ]);

/** The bare script on systemd units: every step in parallel over plain ssh, no checks beyond health. */
function bareScript(lab: LabInfo, snapshot: string, work: string): string {
  const { each, copy, waitHealth, closeAll } = scriptTools(lab, snapshot, work);
  return `#!/bin/sh
set -e
mark() { echo "PHASE $1 $(date +%s%3N)"; }
mark copy
${copy}
mark stop
${each(() => 'systemctl stop kube-proxy kubelet')}
${each(() => 'systemctl stop kube-scheduler kube-controller-manager kube-apiserver')}
mark api-down
${each(() => 'systemctl stop etcd')}
mark restore
${each((h) => `rm -rf /var/lib/etcd.script-new && ETCDCTL_API=3 etcdctl snapshot restore /var/lib/etcd.script.db ${restoreFlags(lab, h, 'etcd-cluster-0')} --data-dir /var/lib/etcd.script-new >/dev/null 2>&1`)}
mark swap
${each(() => 'rm -rf /var/lib/etcd.script-old && mv /var/lib/etcd /var/lib/etcd.script-old && mv /var/lib/etcd.script-new /var/lib/etcd')}
mark start
${each(() => 'systemctl start etcd')}
mark wait-health
${waitHealth}
mark start-kube
${each(() => 'systemctl start kube-apiserver kube-controller-manager kube-scheduler')}
mark api-up
${each(() => 'systemctl start kubelet kube-proxy')}
mark end
${closeAll}
`;
}

/** Until crictl lists none (gone: 1) or all (running: 0) of the named containers, 90 s at most. */
const waitContainers = (names: string, want: 'gone' | 'running'): string =>
  `i=0; until n=$(crictl ps -q --state running --name '^(${names})$' | wc -l); [ ${want === 'gone' ? '"$n" -eq 0' : `"$n" -ge ${names.split('|').length}`} ]; do i=$((i+1)); [ $i -lt 450 ] || exit 1; sleep 0.2; done`;

/**
 * The manual kubeadm runbook, minimal: control plane manifests aside, wait until crictl shows the
 * containers gone, etcd's manifest aside, etcdutl restore with the bump, swap, etcd's manifest back,
 * wait for health, the others back, wait until they run. kubelet stays up.
 */
function bareKubeadmScript(lab: LabInfo, snapshot: string, work: string): string {
  const { each, copy, waitHealth, closeAll } = scriptTools(lab, snapshot, work);
  const control = 'kube-apiserver|kube-controller-manager|kube-scheduler';
  const manifests = '/etc/kubernetes/manifests';
  const aside = '/etc/kubernetes/script-aside';
  return `#!/bin/sh
set -e
mark() { echo "PHASE $1 $(date +%s%3N)"; }
mark copy
${copy}
mark stop
mark api-down
${each(() => `mkdir -p ${aside} && for m in kube-apiserver kube-controller-manager kube-scheduler; do mv ${manifests}/$m.yaml ${aside}/; done && ${waitContainers(control, 'gone')}`)}
${each(() => `mv ${manifests}/etcd.yaml ${aside}/ && ${waitContainers('etcd', 'gone')}`)}
mark restore
${each((h) => `rm -rf /var/lib/etcd.script-new && etcdutl snapshot restore /var/lib/etcd.script.db ${restoreFlags(lab, h, 'etcd-cluster')} --data-dir /var/lib/etcd.script-new --bump-revision 1000000000 --mark-compacted >/dev/null 2>&1`)}
mark swap
${each(() => 'rm -rf /var/lib/etcd.script-old && mv /var/lib/etcd /var/lib/etcd.script-old && mv /var/lib/etcd.script-new /var/lib/etcd')}
mark start
${each(() => `mv ${aside}/etcd.yaml ${manifests}/`)}
mark wait-health
${waitHealth}
mark start-kube
${each(() => `mv ${aside}/*.yaml ${manifests}/ && ${waitContainers(control, 'running')}`)}
mark api-up
mark end
${closeAll}
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

function envNumber(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, got "${text}"`);
  return value;
}

/** bin/orchestrate when dist/ is built, else the CLI from source through tsx. */
export function orchestrateCommand(): { useDist: boolean; program: string; cli: string[] } {
  const useDist = existsSync(join(root, 'dist', 'orchestrate.cjs'));
  if (useDist) return { useDist, program: join(root, 'bin', 'orchestrate'), cli: [] };
  const main = `const { main } = await import(${JSON.stringify(join(root, 'src', 'cli', 'main.ts'))}); process.exitCode = await main(process.argv.slice(1));`;
  return {
    useDist,
    program: process.execPath,
    cli: ['--import', join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs'), '--input-type=module', '-e', main],
  };
}

export async function runRestoreBench(options: RestoreBenchOptions = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? envNumber('RESTORE_BENCH_ROUNDS') ?? 3;
  const megabytes = options.megabytes ?? envNumber('RESTORE_BENCH_MIB') ?? 300;
  const members = options.members ?? envNumber('RESTORE_BENCH_MEMBERS') ?? 3;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const topology = options.topology ?? 'kubeasz';
  const { useDist, program, cli } = orchestrateCommand();
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-restore-bench-'));
  const labDir = join(work, 'lab');
  let lab: LabInfo | undefined;
  try {
    const net = options.net ?? (topology === 'kubeadm' ? '127.0.118' : '127.0.107');
    log(`bringing up a ${members}-member ${topology} lab on ${net}`);
    lab = await labUp({ dir: labDir, net, members, ...(topology === 'kubeadm' ? { topology, etcd: '3.5' as const } : {}) });
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
    writeFileSync(scriptFile, (topology === 'kubeadm' ? bareKubeadmScript : bareScript)(lab, snapshot, work), { mode: 0o700 });
    const cleanup = `rm -rf /var/lib/etcd.before-restore-* /var/lib/etcd.script-old /var/lib/etcd.script.db /etc/kubernetes/script-aside /etc/kubernetes/orchestrate-aside-*`;
    const ssh = (address: string, command: string) => timed('ssh', [...labSshOptions(lab!), `root@${address}`, command]);
    // Each run starts with nothing left to write back: the previous run's gigabytes of dirty pages would
    // otherwise slow whichever copy comes next (the lab hosts share this machine's page cache).
    const tidy = async () => {
      await Promise.all(lab!.hosts.map((h) => ssh(h.address, cleanup)));
      rmSync(join(labDir, '.orchestrate'), { recursive: true, force: true });
      await timed('sync', []);
    };

    const orchestrate: number[] = [];
    const orchestrateApi: number[] = [];
    const script: number[] = [];
    const scriptApi: number[] = [];
    const orchestratePhases = new Map<string, number[]>();
    const barePhases = new Map<string, number[]>();
    const ddMs: number[] = [];
    const peakRssKb: number[] = [];
    const env = { ...process.env, CI: '1' };
    // The floor's write: the snapshot's size to each member's data dir filesystem, all members at once, fsync'd.
    const blocks = Math.ceil(size / (4 * 1048576));
    const ddAll = async (): Promise<number> => {
      const started = performance.now();
      const runs = await Promise.all(
        lab!.hosts.map((h) =>
          ssh(
            h.address,
            `dd if=/dev/zero of=/var/lib/etcd.floor bs=4M count=${blocks} conv=fsync status=none; rc=$?; rm -f /var/lib/etcd.floor; exit $rc`,
          ),
        ),
      );
      if (runs.some((r) => r.code !== 0)) throw new Error(`dd failed: ${runs.map((r) => r.stderr).join('')}`);
      return performance.now() - started;
    };
    for (let round = 1; round <= rounds; round++) {
      await tidy();
      const s = await timed('sh', [scriptFile], { env });
      if (s.code !== 0) throw new Error(`the bare script failed (exit ${String(s.code)}): ${s.stderr.slice(-2000)}`);
      const sp = scriptPhases(s.stdout);
      for (const p of sp.phases) barePhases.set(p.id, [...(barePhases.get(p.id) ?? []), p.ms]);
      script.push(s.ms);
      scriptApi.push(sp.apiDownMs);
      ddMs.push(await ddAll());

      await tidy();
      const o = await timed(program, [...cli, 'restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json', ...extraRestoreFlags()], {
        env,
        peakRss: true,
      });
      peakRssKb.push(o.peakRssKb ?? Number.NaN);
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
    const phase = (phases: Map<string, number[]>, id: string): number => median(phases.get(id) ?? [Number.NaN]);
    const etcdStart = phase(barePhases, 'start') + phase(barePhases, 'wait-health');
    const floor = median(ddMs) + etcdStart;
    return [
      {
        name: 'database',
        value: `${(size / 1048576).toFixed(0)} MiB snapshot, ${members} members, ${topology}, ${rounds} rounds each, alternating (${useDist ? 'dist/' : 'from source via tsx'})`,
      },
      { name: 'bare script median (wall)', value: `${seconds(s)} (API down ${seconds(median(scriptApi))})` },
      { name: 'orchestrate restore median (wall)', value: `${seconds(o)} (API down ${seconds(median(orchestrateApi))})` },
      { name: 'ratio orchestrate / script', value: `${(o / s).toFixed(2)}x (goal <= 1.3x; <= 1.2x at 2 GiB)` },
      {
        name: 'copy to the members vs scp',
        value: `orchestrate ${seconds(phase(orchestratePhases, 'copy-snapshot'))} (sha256 checked on each member) vs scp ${seconds(phase(barePhases, 'copy'))}, same file, same run`,
      },
      {
        name: 'physical floor',
        value: `${seconds(floor)}: dd of ${(size / 1048576).toFixed(0)} MiB on every member at once ${seconds(median(ddMs))} + etcd start to healthy ${seconds(etcdStart)} (the script's)`,
      },
      { name: 'orchestrate peak RSS', value: `${(Math.max(...peakRssKb) / 1024).toFixed(0)} MiB` },
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
