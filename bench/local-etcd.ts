// A single etcd on a loopback address for the drill and diff benchmarks: filled with Kubernetes-shaped
// keys in transactions of 128 puts (etcd's --max-txn-ops), snapshotted with etcdctl, stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timed } from './measure.js';

export interface LocalEtcd {
  dir: string;
  endpoint: string;
  child: ChildProcess;
  etcdctl(args: string[], timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts an etcd, empty or (`restoreFrom`) restored from a snapshot with `etcdctl snapshot restore` (etcd 3.4). */
export async function startLocalEtcd(ip: string, options: { etcd?: string; quotaBytes?: number; restoreFrom?: string } = {}): Promise<LocalEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'orchestrate-bench-etcd-'));
  const endpoint = `http://${ip}:2379`;
  const peer = `http://${ip}:2380`;
  if (options.restoreFrom) {
    const restored = await timed(
      'etcdctl',
      [
        'snapshot',
        'restore',
        options.restoreFrom,
        '--name',
        'bench',
        '--initial-cluster',
        `bench=${peer}`,
        '--initial-advertise-peer-urls',
        peer,
        '--data-dir',
        join(dir, 'data'),
      ],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 600_000 },
    );
    if (restored.code !== 0) throw new Error(`etcdctl snapshot restore ${options.restoreFrom}: ${restored.stderr.slice(-500)}`);
  }
  const child = spawn(
    options.etcd ?? '/usr/bin/etcd',
    [
      '--name',
      'bench',
      '--data-dir',
      join(dir, 'data'),
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `bench=${peer}`,
      '--quota-backend-bytes',
      String(options.quotaBytes ?? 8 * 1024 ** 3),
      '--log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  const etcdctl = async (args: string[], timeoutMs = 600_000) => {
    const result = await timed('etcdctl', ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs });
    if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${result.stderr.slice(-500)}`);
    return result.stdout;
  };
  // A member restored from a 1 GiB snapshot rebuilds its index before it answers: a minute here.
  const deadline = Date.now() + (options.restoreFrom ? 300_000 : 30_000);
  for (;;) {
    try {
      await etcdctl(['endpoint', 'health'], 5_000);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    dir,
    endpoint,
    child,
    etcdctl,
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `count` keys spread over resources and namespaces like a cluster's, each value `valueBytes` long. */
export async function fillKubernetesLike(
  etcd: Pick<LocalEtcd, 'endpoint'>,
  count: number,
  valueBytes: number,
  log: (line: string) => void,
): Promise<void> {
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts: etcd.endpoint, defaultCallOptions: () => ({ deadline: Date.now() + 120_000 }) });
  const resources = ['pods', 'configmaps', 'secrets', 'events', 'services/specs', 'deployments', 'replicasets', 'leases'];
  const filler = randomBytes(Math.ceil((valueBytes * 3) / 4))
    .toString('base64')
    .slice(0, valueBytes);
  try {
    const batch = 128;
    let inFlight: Promise<unknown>[] = [];
    for (let start = 0; start < count; start += batch) {
      const txn = client.if('__bench_never__', 'Version', '==', 0);
      const puts = [];
      for (let i = start; i < Math.min(count, start + batch); i++) {
        const key = `/registry/${resources[i % resources.length]}/ns-${i % 97}/obj-${String(i).padStart(8, '0')}`;
        puts.push(client.put(key).value(`{"metadata":{"name":"obj-${i}"},"data":"${filler}"}`));
      }
      inFlight.push(txn.then(...puts).commit());
      if (inFlight.length >= 8) {
        await Promise.all(inFlight);
        inFlight = [];
      }
      if ((start / batch) % 1000 === 0 && start > 0) log(`  filled ${start} keys`);
    }
    await Promise.all(inFlight);
  } finally {
    client.close();
  }
}

/**
 * A snapshot of an etcd filled with `fillKubernetesLike(count, valueBytes)`, made once and kept in an
 * owner-only cache folder (`ORCHESTRATE_BENCH_CACHE`, default /var/tmp/orchestrate-bench-cache): filling
 * 1 M keys takes minutes, and a rerun of a benchmark only needs the same data again.
 */
export async function cachedKubernetesSnapshot(ip: string, count: number, valueBytes: number, log: (line: string) => void): Promise<string> {
  const folder = process.env['ORCHESTRATE_BENCH_CACHE'] ?? '/var/tmp/orchestrate-bench-cache';
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const path = join(folder, `kubernetes-like-${count}x${valueBytes}.db`);
  if (existsSync(path)) {
    log(`reusing the filled snapshot ${path}`);
    return path;
  }
  const etcd = await startLocalEtcd(ip);
  try {
    log(`filling a local etcd with ${count} keys of ${valueBytes} bytes (takes a while; cached in ${folder})`);
    await fillKubernetesLike(etcd, count, valueBytes, log);
    const partial = `${path}.partial`;
    rmSync(partial, { force: true });
    await etcd.etcdctl(['snapshot', 'save', partial], 1_200_000);
    renameSync(partial, path);
    return path;
  } finally {
    await etcd.stop().catch(() => undefined);
  }
}
