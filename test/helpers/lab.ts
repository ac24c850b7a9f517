// A lab of real hosts for end-to-end tests (needs root): bring it up in before(), take it down in after().
//
//   let lab: LabInfo;
//   before(async function () { this.timeout(60_000); lab = await startLab({ dir: tempLabDir(), net: '127.0.104', members: 3 }); });
//   after(async function () { this.timeout(30_000); await stopLab(lab.dir); });
//
// Each suite needs its own `net` (hosts are <net>.1..N, port 22, 2379, 2380 on each) and its own dir.
import { mkdtempSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { clientUrl, etcdctl } from '../../src/lab/etcdctl.js';
import { portInUse } from '../../src/lab/host-start.js';
import { labDown, labUp, type LabDownReport, type LabHostInfo, type LabInfo, type LabUpOptions } from '../../src/lab/index.js';
import { runProgram, type RunResult } from '../../src/lab/run-program.js';

export type { LabInfo, LabHostInfo, LabPkiInfo } from '../../src/lab/index.js';

/**
 * What a suite asks of its lab, e.g. `{ dir, net, members: 3, etcd: '3.5' }`. Everything else of
 * `labUp`'s options is passed through; nothing here changes the lab's defaults.
 */
export type StartLabOptions = Omit<LabUpOptions, 'onProgress'>;

/** A fresh folder under the system temp dir (mkdtemp: mode 0700, which the lab copes with). */
const tempPrefix = 'orchestrate-lab-';

export function tempLabDir(): string {
  return join(mkdtempSync(join(tmpdir(), tempPrefix)), 'lab');
}

/** A fresh lab: whatever ran in `dir` before is taken down first. */
export async function startLab(options: StartLabOptions): Promise<LabInfo> {
  await labDown({ dir: options.dir });
  return labUp(options);
}

/** Stops every process of the lab by pid and removes its files (and tempLabDir's folder); a missing lab is fine. */
export async function stopLab(dir: string): Promise<LabDownReport> {
  const report = await labDown({ dir });
  const parent = dirname(dir);
  if (dirname(parent) === tmpdir() && basename(parent).startsWith(tempPrefix)) await rmdir(parent).catch(() => undefined);
  return report;
}

/** The first net among `candidates` whose <net>.1 has none of the lab ports in use (another run may hold one). */
export async function pickFreeLabNet(candidates: readonly string[]): Promise<string> {
  for (const net of candidates) {
    const used = await Promise.all([22, 2379, 2380].map((port) => portInUse(`${net}.1`, port, 500)));
    if (!used.some(Boolean)) return net;
  }
  throw new Error(`every candidate lab network is in use: ${candidates.join(', ')}`);
}

export interface SshOptions {
  /** Default root; the lab also has `deploy` (passwordless sudo). */
  user?: string;
  timeoutMs?: number;
  input?: string;
  /** Default: the lab's own known_hosts, with strict checking. */
  knownHostsFile?: string;
}

/** Runs `command` (a shell command line) on a lab host with OpenSSH's ssh client. */
export function sshToLabHost(lab: LabInfo, address: string, command: string, options: SshOptions = {}): Promise<RunResult> {
  return runProgram(
    'ssh',
    [
      '-i',
      lab.keyFile,
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${options.knownHostsFile ?? lab.knownHostsFile}`,
      '-o',
      'ConnectTimeout=10',
      '-o',
      'LogLevel=ERROR',
      '-p',
      String(lab.sshPort),
      `${options.user ?? 'root'}@${address}`,
      command,
    ],
    { timeoutMs: options.timeoutMs ?? 20_000, ...(options.input !== undefined ? { input: options.input } : {}) },
  );
}

/** etcdctl (v3, TLS with the deploy host's client certificate) against the given members (default: all). */
export function etcdctlInLab(lab: LabInfo, args: readonly string[], addresses?: readonly string[]): Promise<RunResult> {
  // Behind a bastion, the members are reached from inside the lab's network namespace.
  const files = {
    caFile: lab.pki.caFile,
    certFile: lab.pki.clientCertFile,
    keyFile: lab.pki.clientKeyFile,
    ...(lab.netns ? { netnsPath: lab.netns.path } : {}),
  };
  const endpoints = (addresses ?? lab.hosts.map((host) => host.address)).map(clientUrl);
  return etcdctl(files, endpoints, args, { timeoutMs: 15_000 });
}

export interface SystemctlEvent {
  /** ISO-8601 UTC with milliseconds. */
  time: string;
  action: 'start' | 'stop';
  unit: string;
}

/** Every start and stop the stand-in systemctl of one host logged, oldest first (read from its upper layer). */
export async function readSystemctlLog(lab: LabInfo, address: string): Promise<SystemctlEvent[]> {
  const host = lab.hosts.find((candidate) => candidate.address === address);
  if (!host) throw new Error(`no lab host ${address}`);
  const text = await readFile(join(host.upperDir, lab.systemctlLog), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [time = '', action = '', unit = ''] = line.split(' ');
      return { time, action: action as SystemctlEvent['action'], unit };
    });
}

/**
 * The host's sshd stops answering without ending (it also holds the host's mount namespace, which must
 * live): SIGSTOP, so a new connection waits for a greeting that never comes, and SIGKILL to the sessions
 * it serves, by pid. `frozen` keeps the stopped pids for `thawSshd` (and an `after()` that resumes them
 * should a test fail half-way). Returns the pids of the sessions killed.
 */
export async function freezeSshd(host: LabHostInfo, frozen: Set<number>): Promise<number[]> {
  process.kill(host.pid, 'SIGSTOP');
  frozen.add(host.pid);
  const children = (await readFile(`/proc/${host.pid}/task/${host.pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number);
  const killed: number[] = [];
  for (const pid of children) {
    const name = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (!name.startsWith('sshd')) continue;
    process.kill(pid, 'SIGKILL');
    killed.push(pid);
  }
  return killed;
}

export function thawSshd(host: LabHostInfo, frozen: Set<number>): void {
  process.kill(host.pid, 'SIGCONT');
  frozen.delete(host.pid);
}

/** Polls `check` every 100 ms until it holds or `timeoutMs` passes; the last answer decides. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 100));
  }
  return check();
}

export interface KubeletEvent {
  /** ISO-8601 UTC with milliseconds. */
  time: string;
  /** e.g. manifest-read, sandbox-created, container-created, container-exited, back-off, container-stopping. */
  event: string;
  /** key=value fields of the line, e.g. { pod: 'etcd-master-01', container: 'etcd', id: '...', attempt: '0' }. */
  fields: Record<string, string>;
}

/** The stand-in kubelet's decision log of one host (kubeadm labs), oldest first. */
export async function readKubeletLog(lab: LabInfo, address: string): Promise<KubeletEvent[]> {
  const host = [...lab.hosts, ...lab.nodes].find((candidate) => candidate.address === address);
  if (!host) throw new Error(`no lab host ${address}`);
  const text = await readFile(join(host.upperDir, lab.kubeletLog), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => /^\d{4}-/.test(line))
    .map((line) => {
      const [time = '', event = '', ...rest] = line.split(' ');
      const fields = Object.fromEntries(
        rest.filter((word) => word.includes('=')).map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]),
      );
      return { time, event, fields };
    });
}
