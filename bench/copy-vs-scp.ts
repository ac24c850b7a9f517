// Benchmark: the snapshot copy to every member alone, outside a restore. A 3-member lab filled to ~2 GiB
// (as restore-2g fills it), its snapshot sent to every member at once by orchestrate's transport (the ssh
// client route, sha256 checked on each member), by `scp` of the same file, and by orchestrate over sftp
// (ORCHESTRATE_BULK_COPY=sftp), alternating, a `sync` before each. Size and rounds: COPY_BENCH_MIB (2100),
// COPY_BENCH_ROUNDS (2), COPY_BENCH_MEMBERS (3).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientUrl, etcdctl } from '../src/lab/etcdctl.js';
import { labDown, labUp, type LabInfo } from '../src/lab/index.js';
import { sha256File } from '../src/transport/sha256.js';
import { SshTransport } from '../src/transport/ssh-transport.js';
import { median, seconds, timed, type BenchRow } from './measure.js';
import { fill, labSshOptions } from './restore-vs-script.js';

const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

/** orchestrate's upload to every member at once; `mode` is ORCHESTRATE_BULK_COPY for this run. */
async function transportCopy(lab: LabInfo, snapshot: string, sha256: string, mode: 'auto' | 'sftp'): Promise<number> {
  const before = process.env.ORCHESTRATE_BULK_COPY;
  process.env.ORCHESTRATE_BULK_COPY = mode;
  const transports = lab.hosts.map(
    (h) =>
      new SshTransport(
        { host: h.address, address: h.address, port: lab.sshPort, user: 'root', privateKeyFile: lab.keyFile, local: false, become: false },
        { knownHostsFile: lab.knownHostsFile, agentSocket: '', sshConfigFile: 'none' },
      ),
  );
  try {
    await Promise.all(transports.map((t) => t.connect()));
    const started = performance.now();
    await Promise.all(transports.map((t) => t.upload({ path: snapshot }, '/var/lib/etcd.copy-bench.db', { mode: 0o600, sha256 })));
    const ms = performance.now() - started;
    const routes = transports.map((t) => t.uploadRoutes);
    const expected = mode === 'sftp' ? { openssh: 0, sftp: 1 } : { openssh: 1, sftp: 0 };
    if (routes.some((r) => r.openssh !== expected.openssh || r.sftp !== expected.sftp))
      throw new Error(`unexpected routes: ${JSON.stringify(routes)}`);
    return ms;
  } finally {
    await Promise.all(transports.map((t) => t.close()));
    if (before === undefined) delete process.env.ORCHESTRATE_BULK_COPY;
    else process.env.ORCHESTRATE_BULK_COPY = before;
  }
}

export async function runCopyBench(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<BenchRow[]> {
  const megabytes = envNumber('COPY_BENCH_MIB', 2100);
  const rounds = envNumber('COPY_BENCH_ROUNDS', 2);
  const members = envNumber('COPY_BENCH_MEMBERS', 3);
  const work = mkdtempSync(join(tmpdir(), 'orchestrate-copy-bench-'));
  const labDir = join(work, 'lab');
  let lab: LabInfo | undefined;
  try {
    log(`bringing up a ${members}-member lab on 127.0.107, filling it with ${megabytes} MiB`);
    lab = await labUp({ dir: labDir, net: '127.0.107', members });
    await fill(lab, megabytes, log);
    const snapshot = join(work, 'bench.db');
    const files = { caFile: lab.pki.caFile, certFile: lab.pki.clientCertFile, keyFile: lab.pki.clientKeyFile };
    const saved = await etcdctl(files, [clientUrl(lab.hosts[0]!.address)], ['snapshot', 'save', snapshot], { timeoutMs: 300_000 });
    if (saved.code !== 0) throw new Error(`snapshot save failed: ${saved.stderr}`);
    const sha256 = await sha256File(snapshot);
    const size = Number(execFileSync('stat', ['-c', '%s', snapshot], { encoding: 'utf8' }).trim());
    const ssh = labSshOptions(lab);
    const tidy = async (): Promise<void> => {
      await Promise.all(lab!.hosts.map((h) => timed('ssh', [...ssh, `root@${h.address}`, 'rm -f /var/lib/etcd.copy-bench.db*'])));
      execFileSync('sync');
    };
    const scp = async (): Promise<number> => {
      const started = performance.now();
      const runs = await Promise.all(lab!.hosts.map((h) => timed('scp', ['-q', ...ssh, snapshot, `root@${h.address}:/var/lib/etcd.copy-bench.db`])));
      if (runs.some((r) => r.code !== 0)) throw new Error(`scp failed: ${runs.map((r) => r.stderr).join('')}`);
      return performance.now() - started;
    };
    const times = { ssh: [] as number[], scp: [] as number[], sftp: [] as number[] };
    for (let round = 1; round <= rounds; round++) {
      // Alternating order, so neither side always goes first.
      const order: (keyof typeof times)[] = round % 2 === 1 ? ['ssh', 'scp', 'sftp'] : ['sftp', 'scp', 'ssh'];
      for (const which of order) {
        await tidy();
        times[which].push(which === 'scp' ? await scp() : await transportCopy(lab, snapshot, sha256, which === 'ssh' ? 'auto' : 'sftp'));
      }
      log(
        `round ${round}/${rounds}: ssh client ${seconds(times.ssh.at(-1)!)}, scp ${seconds(times.scp.at(-1)!)}, sftp ${seconds(times.sftp.at(-1)!)}`,
      );
    }
    await tidy();
    const [ours, theirs, sftp] = [median(times.ssh), median(times.scp), median(times.sftp)];
    return [
      { name: 'snapshot', value: `${(size / 1048576).toFixed(0)} MiB to ${members} members at once, ${rounds} rounds, alternating` },
      { name: 'orchestrate (ssh client, sha256 checked)', value: `${seconds(ours)} median (${times.ssh.map(seconds).join(', ')})` },
      { name: 'scp', value: `${seconds(theirs)} median (${times.scp.map(seconds).join(', ')})` },
      { name: 'orchestrate over sftp (sha256 checked)', value: `${seconds(sftp)} median (${times.sftp.map(seconds).join(', ')})` },
      { name: 'ratio orchestrate / scp', value: `${(ours / theirs).toFixed(2)}x (goal <= 1.0x)` },
    ];
  } finally {
    if (lab) await labDown({ dir: labDir }).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
