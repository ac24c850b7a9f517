// The throwaway cluster's members: identities on free loopback ports, one data dir each restored from the
// snapshot with that member's own --name, --initial-cluster, token and peer URL (restoring one dir and
// copying it would give N one-member clusters), and the etcd processes, started and stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { EtcdMember } from '../config/types.js';
import type { EtcdTools, RestoreTool } from './etcd-tools.js';
import { etcdFreeEnv, outputTail, runLocalProgram } from './local-program.js';
import type { DrillWorkspace } from './workspace.js';

export interface DrillMember {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  logFile: string;
}

const HOST = '127.0.0.1';

/** `count` distinct free TCP ports on 127.0.0.1 (all held open until every one is chosen). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, () => resolve());
      });
      const address = server.address();
      if (typeof address !== 'object' || address === null) throw new Error('no port assigned');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** Names from the inventory (so the drill restores the identities a real restore would), `drill-N` beyond them. */
export function planMembers(names: readonly string[], count: number, ports: readonly number[], dir: string): DrillMember[] {
  return Array.from({ length: count }, (_, i) => {
    // A name that would break --initial-cluster (`,` or `=`) or a path is replaced: the drill must not fail on it.
    const given = names[i];
    const name = given !== undefined && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : `drill-${i + 1}`;
    const safe = name;
    return {
      name,
      dataDir: join(dir, `${i + 1}-${safe}.etcd`),
      clientUrl: `http://${HOST}:${ports[2 * i]}`,
      peerUrl: `http://${HOST}:${ports[2 * i + 1]}`,
      logFile: join(dir, `${i + 1}-${safe}.log`),
    };
  });
}

export function initialCluster(members: readonly DrillMember[]): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

export interface RestoreFlags {
  skipHashCheck: boolean;
  /** Bump the revision by this much (and mark it compacted), when the tool can. */
  bumpRevision?: number;
}

/** The restore command of one member, as argv. */
export function restoreArgs(
  tool: RestoreTool,
  snapshot: string,
  member: DrillMember,
  members: readonly DrillMember[],
  token: string,
  flags: RestoreFlags,
): string[] {
  const args = [
    'snapshot',
    'restore',
    snapshot,
    '--name',
    member.name,
    '--data-dir',
    member.dataDir,
    '--initial-cluster',
    initialCluster(members),
    '--initial-cluster-token',
    token,
    '--initial-advertise-peer-urls',
    member.peerUrl,
  ];
  if (flags.skipHashCheck) args.push('--skip-hash-check');
  if (flags.bumpRevision !== undefined && tool.bumpRevision) args.push('--bump-revision', String(flags.bumpRevision), '--mark-compacted');
  return args;
}

/** Restore every member's data dir, in parallel; throws naming the member and the tool's output. */
export async function restoreMembers(
  tools: EtcdTools,
  snapshot: string,
  members: readonly DrillMember[],
  token: string,
  flags: RestoreFlags,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const results = await Promise.all(
    members.map(async (member) => {
      const args = restoreArgs(tools.restore, snapshot, member, members, token, flags);
      const result = await runLocalProgram(tools.restore.path, args, {
        timeoutMs: options.timeoutMs,
        env: etcdFreeEnv({ ETCDCTL_API: '3' }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { member, result };
    }),
  );
  options.signal?.throwIfAborted();
  const failed = results.filter(({ result }) => result.code !== 0);
  if (failed.length)
    throw new Error(
      failed.map(({ member, result }) => `${tools.restore.tool} snapshot restore for ${member.name} failed: ${outputTail(result)}`).join('; '),
    );
}

export interface RunningMember {
  member: DrillMember;
  child: ChildProcess;
  pid: number;
  /** Set when the process ended (code or signal). */
  exited?: string;
}

function etcdArgs(member: DrillMember, members: readonly DrillMember[], token: string, etcdVersion: string, quotaBytes: number): string[] {
  const args = [
    '--name',
    member.name,
    '--data-dir',
    member.dataDir,
    '--listen-client-urls',
    member.clientUrl,
    '--advertise-client-urls',
    member.clientUrl,
    '--listen-peer-urls',
    member.peerUrl,
    '--initial-advertise-peer-urls',
    member.peerUrl,
    '--initial-cluster',
    initialCluster(members),
    '--initial-cluster-token',
    token,
    '--quota-backend-bytes',
    String(quotaBytes),
    '--log-level',
    'warn',
    // Loopback peers: a short election timeout gets a leader in well under a second.
    '--heartbeat-interval',
    '50',
    '--election-timeout',
    '500',
  ];
  // 3.4 logs through capnslog unless told otherwise; 3.5 and later only have zap.
  if (etcdVersion.startsWith('3.4.')) args.push('--logger', 'zap');
  return args;
}

/** Start one etcd per member, each in its own process group (a terminal's Ctrl-C reaches orchestrate,
 *  which stops them in order), logging to a file in the workspace. Pids are recorded at once. */
export function startMembers(
  tools: EtcdTools,
  members: readonly DrillMember[],
  token: string,
  workspace: DrillWorkspace,
  quotaBytes: number,
): RunningMember[] {
  return members.map((member) => {
    const log = openSync(member.logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(tools.etcd.path, etcdArgs(member, members, token, tools.etcd.version, quotaBytes), {
        detached: true,
        stdio: ['ignore', log, log],
        env: etcdFreeEnv(),
      });
    } finally {
      closeSync(log);
    }
    if (child.pid === undefined) throw new Error(`etcd for ${member.name} did not start`);
    workspace.trackPid(child.pid);
    const running: RunningMember = { member, child, pid: child.pid };
    child.on('exit', (code, signal) => (running.exited = signal ? `killed by ${signal}` : `exited with ${code}`));
    child.on('error', (error) => (running.exited = error.message));
    return running;
  });
}

function exited(running: RunningMember, timeoutMs: number): Promise<boolean> {
  if (running.exited !== undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    running.child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * SIGKILL each member by pid and wait until it is gone. No graceful stop: the data is thrown away, and a
 * graceful stop of etcd 3.4 first tries to hand leadership over, which costs seconds for nothing.
 */
export async function stopMembers(running: readonly RunningMember[], workspace: DrillWorkspace): Promise<number[]> {
  for (const r of running) {
    if (r.exited !== undefined) continue;
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const left = (await Promise.all(running.map(async (r) => ((await exited(r, 10_000)) ? undefined : r.pid)))).filter((p) => p !== undefined);
  for (const r of running) if (!left.includes(r.pid)) workspace.untrackPid(r.pid);
  return left;
}

/** The last lines a member logged (why it did not start). */
export async function memberLogTail(member: DrillMember, lines = 5): Promise<string> {
  const text = await readFile(member.logFile, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join(' | ').slice(-1500);
}

/** The members as the etcd client layer knows them (plain http on loopback). */
export function asEtcdMembers(members: readonly DrillMember[], token: string): EtcdMember[] {
  return members.map((m) => ({
    host: m.name,
    name: m.name,
    address: HOST,
    peerUrl: m.peerUrl,
    clientUrl: m.clientUrl,
    dataDir: m.dataDir,
    token,
    service: 'etcd',
  }));
}
