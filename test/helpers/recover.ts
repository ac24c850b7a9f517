// What the recover suites do to a lab: cut the power (every etcd killed with SIGKILL, data left as it is),
// damage a member's WAL or db on its own disk, give a member an expired certificate, and run the CLI.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runProgram } from '../../src/lab/run-program.js';
import { runCliFromSource, type CliResult } from './cli.js';
import { keyValues, memberStatuses, putKey, waitHealthy } from './lab-data.js';
import { etcdctlInLab, sshToLabHost, startLab, stopLab, waitFor, type LabHostInfo, type LabInfo, type StartLabOptions } from './lab.js';

export function orchestrate(args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runCliFromSource(args, { env: { CI: '1', ...options.env }, timeoutMs: options.timeoutMs ?? 150_000 });
}

export function tail(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout (end)\n${result.stdout.slice(-4000)}\n--- stderr (end)\n${result.stderr.slice(-3000)}`;
}

export interface RecoverJson {
  status: string;
  exitCode: number;
  failure?: string;
  choice?: { kind: string; start?: string[]; replace?: string[]; leave?: { host: string; why: string }[]; source?: string; reason: string };
  options?: { path: string; possible: boolean; lostRevisions?: number; lostMs?: number }[];
  diagnosis?: {
    ms: number;
    members: {
      host: string;
      state: string;
      detail: string;
      revision?: number;
      wal?: { state: string };
      certificates: { file: string; notAfter?: string; problem?: string }[];
    }[];
  };
  start?: {
    status: string;
    replaced: { host: string; ok: boolean; oldDataAt?: string }[];
    left: { host: string; why: string }[];
    verdict?: { ok: boolean };
  };
  restore?: {
    status: string;
    snapshot: { path: string; revision: number };
    verdict?: { ok: boolean };
    members: { host: string; oldDataAt?: string }[];
  };
  lost?: { revisions?: number };
  /** The HTML report written at the end (absent for a dry run or nothing done). */
  htmlReport?: string;
}

/** The last `{"type":"report"}` line of a --json run. */
export function reportOf(result: CliResult): RecoverJson {
  const line = result.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"type":"report"'));
  if (!line) throw new Error(`no JSON report: ${tail(result)}`);
  return JSON.parse(line) as RecoverJson;
}

export async function recover(lab: LabInfo, extra: string[] = [], env?: Record<string, string>): Promise<CliResult> {
  return orchestrate(['recover', lab.inventoryFile, '--yes', '--json', '--etcd-timeout', '60', ...extra], env ? { env } : {});
}

function etcdPidFile(host: LabHostInfo): string {
  return join(host.upperDir, 'var', 'lib', 'lab-systemd', 'etcd.pid');
}

/** SIGKILL to etcd on these members (default all): their data stays as the crash left it. */
export async function killEtcd(lab: LabInfo, hosts: readonly LabHostInfo[] = lab.hosts): Promise<void> {
  for (const host of hosts) {
    const pid = Number((await readFile(etcdPidFile(host), 'utf8').catch(() => '')).trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await waitFor(async () => {
    const statuses = await Promise.all(hosts.map((h) => etcdctlInLab(lab, ['endpoint', 'health'], [h.address])));
    return statuses.every((s) => s.code !== 0);
  }, 10_000);
}

/**
 * Flip one byte inside the WAL record that holds `key` (a key written before the cut, so records follow it):
 * its crc no longer matches, and etcd refuses to start on it. A byte at a fixed offset may be record padding,
 * which no crc covers.
 */
export async function flipWal(lab: LabInfo, host: LabHostInfo, key: string): Promise<void> {
  const script = [
    'f=$(ls /var/lib/etcd/member/wal/*.wal | tail -1)',
    'at=$(grep -boa -- "$1" "$f" | tail -1 | cut -d: -f1)',
    '[ -n "$at" ] || { echo "$1 is not in $f" >&2; exit 1; }',
    'printf "\\377" | dd of="$f" bs=1 seek=$((at + 2)) conv=notrunc 2>/dev/null',
  ].join('\n');
  const result = await sshToLabHost(lab, host.address, `sh -c '${script.replace(/'/g, `'\\''`)}' sh '${key}'`);
  expect(result.code, result.stderr).to.equal(0);
}

/** The end of each member's etcd log (the lab's systemctl stand-in writes it), for a failed test's message. */
export async function etcdLogs(lab: LabInfo): Promise<string> {
  const tails = await Promise.all(
    lab.hosts.map(async (h) => {
      const text = await readFile(join(h.upperDir, 'var', 'log', 'lab-units', 'etcd.log'), 'utf8').catch(() => '');
      return `--- ${h.address} etcd.log (end)\n${text.split('\n').slice(-25).join('\n')}`;
    }),
  );
  return tails.join('\n');
}

/** Cut the newest WAL segment inside its records (bytes gone). */
export async function truncateWal(lab: LabInfo, host: LabHostInfo): Promise<void> {
  const result = await sshToLabHost(lab, host.address, 'f=$(ls /var/lib/etcd/member/wal/*.wal | tail -1); truncate -s 700 "$f"');
  expect(result.code, result.stderr).to.equal(0);
}

/** Destroy both bbolt meta pages of the member's db: no tool can open it. */
export async function breakDb(lab: LabInfo, host: LabHostInfo): Promise<void> {
  const result = await sshToLabHost(lab, host.address, 'dd if=/dev/zero of=/var/lib/etcd/member/snap/db bs=4096 count=2 conv=notrunc 2>/dev/null');
  expect(result.code, result.stderr).to.equal(0);
}

export async function putKeys(lab: LabInfo, prefix: string, count: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `${prefix}${String(i).padStart(3, '0')}`;
    await putKey(lab, key, `value of ${key}`);
    keys.push(key);
  }
  return keys;
}

/** Every member answers, one leader, one cluster id, as many member ids as hosts. */
export async function expectWhole(lab: LabInfo): Promise<void> {
  await waitHealthy(lab);
  const statuses = await memberStatuses(lab);
  expect(new Set(statuses.map((s) => s.clusterId)).size).to.equal(1);
  expect(new Set(statuses.map((s) => s.leader)).size).to.equal(1);
  expect(new Set(statuses.map((s) => s.memberId)).size).to.equal(lab.hosts.length);
}

/**
 * A power cut on a kubeadm lab: kubelet stopped on these members (default all; as after a reboot with it
 * not yet back), then SIGKILL to their etcd containers (pids from the stand-in runtime's state on each
 * host's own layer), so nothing restarts them and their data stays as the crash leaves it.
 */
export async function killKubeadmEtcd(lab: LabInfo, hosts: readonly LabHostInfo[] = lab.hosts): Promise<void> {
  for (const host of hosts) {
    const stopped = await sshToLabHost(lab, host.address, 'systemctl stop kubelet');
    expect(stopped.code, stopped.stderr).to.equal(0);
    const containers = join(host.upperDir, 'var', 'lib', 'lab-cri', 'containers');
    for (const id of await readdir(containers).catch(() => [] as string[])) {
      const podName = (await readFile(join(containers, id, 'podname'), 'utf8').catch(() => '')).trim();
      if (!podName.startsWith('etcd-')) continue;
      const pid = Number((await readFile(join(containers, id, 'pid'), 'utf8').catch(() => '')).split(' ')[0]);
      const comm = pid > 0 ? (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() : '';
      if (comm === 'etcd') process.kill(pid, 'SIGKILL');
    }
  }
  await waitFor(async () => {
    const statuses = await Promise.all(hosts.map((h) => etcdctlInLab(lab, ['endpoint', 'health'], [h.address])));
    return statuses.every((s) => s.code !== 0);
  }, 15_000);
}

/** The HTML report a recovery wrote: owner-only, with its recovery section naming the path taken. */
export async function expectRecoveryReport(report: RecoverJson, path: string): Promise<void> {
  expect(report.htmlReport, 'htmlReport').to.be.a('string');
  const file = report.htmlReport ?? '';
  expect((await stat(file)).mode & 0o777).to.equal(0o600);
  const html = await readFile(file, 'utf8');
  expect(html).to.contain('<section id="recovery">');
  expect(html).to.contain(`Last recovery: ${path}`);
}

export async function missingKeys(lab: LabInfo, keys: readonly string[]): Promise<string[]> {
  const present = await keyValues(lab);
  return keys.filter((k) => !present.has(k));
}

/** openssl `ca` time format (UTCTime). */
function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/** A certificate for the lab's member key, signed by the lab CA, that expired a day ago; returns its PEM. */
export async function expiredCertificate(lab: LabInfo, work: string): Promise<string> {
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'index.txt'), '');
  await writeFile(join(work, 'serial'), `${createHash('sha256').update(work).digest('hex').slice(0, 16)}\n`);
  const config = join(work, 'ca.cnf');
  await writeFile(
    config,
    [
      '[ ca ]',
      'default_ca = lab_ca',
      '[ lab_ca ]',
      `database = ${join(work, 'index.txt')}`,
      `new_certs_dir = ${work}`,
      `serial = ${join(work, 'serial')}`,
      'default_md = sha256',
      'policy = any_name',
      'unique_subject = no',
      'x509_extensions = ext',
      '[ any_name ]',
      'commonName = supplied',
      '[ ext ]',
      'extendedKeyUsage = serverAuth, clientAuth',
      '',
    ].join('\n'),
  );
  const csr = join(work, 'member.csr');
  const out = join(work, 'expired.pem');
  const openssl = async (args: string[]) => {
    const result = await runProgram('openssl', args, { timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`openssl ${args[0] ?? ''}: ${result.stderr}`);
  };
  await openssl(['req', '-new', '-key', lab.pki.keyFile, '-subj', '/CN=expired-member', '-out', csr]);
  const now = Date.now();
  await openssl([
    'ca',
    '-batch',
    '-config',
    config,
    '-cert',
    lab.pki.caFile,
    '-keyfile',
    join(dirname(lab.pki.caFile), 'ca-key.pem'),
    '-in',
    csr,
    '-out',
    out,
    '-notext',
    '-startdate',
    asn1Time(new Date(now - 10 * 86_400_000)),
    '-enddate',
    asn1Time(new Date(now - 86_400_000)),
  ]);
  return readFile(out, 'utf8');
}

/** Put `content` at `path` on one host only (its own copy-on-write layer). */
export async function writeOnHost(lab: LabInfo, host: LabHostInfo, path: string, content: string): Promise<void> {
  const result = await sshToLabHost(lab, host.address, `cat > '${path}'`, { input: content });
  expect(result.code, result.stderr).to.equal(0);
}

/**
 * One lab for a describe block: brought up before its cases (then `setup`), each failed case prints the end
 * of every etcd log, taken down after. Returns the lab's getter.
 */
export function labForCases(options: StartLabOptions, setup?: (lab: LabInfo) => Promise<void>): () => LabInfo {
  let lab: LabInfo | undefined;
  before(async function () {
    this.timeout(180_000);
    lab = await startLab(options);
    await waitHealthy(lab);
    if (setup) await setup(lab);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && lab) console.log(await etcdLogs(lab));
  });
  after(async function () {
    this.timeout(60_000);
    if (lab) await stopLab(lab.dir);
  });
  return () => {
    if (!lab) throw new Error('the lab did not come up');
    return lab;
  };
}
