// A throwaway single etcd process for tests (a fixture, not product code): its own temp data dir,
// a loopback address under 127.0.103.x, optional TLS with client certificates, stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface TestEtcdOptions {
  /** Loopback address to listen on; tests use 127.0.103.x. */
  ip?: string;
  clientPort?: number;
  peerPort?: number;
  tls?: boolean;
  quotaBackendBytes?: number;
  name?: string;
  /** Use (and keep) this data dir instead of a fresh one inside the temp dir. */
  dataDir?: string;
}

export interface TestEtcd {
  ip: string;
  endpoint: string;
  name: string;
  dir: string;
  dataDir: string;
  pid: number;
  tls?: { caFile: string; certFile: string; keyFile: string };
  /** Run etcdctl (API v3) against this member; returns stdout. */
  etcdctl(args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** Stop the process (SIGTERM, then SIGKILL) and keep the data dir. */
  stop(): Promise<void>;
  /** Stop and remove the temp dir. */
  destroy(): Promise<void>;
}

async function makeCertificates(dir: string, ip: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const run = (args: string[]) => execFileAsync('openssl', args, { cwd: dir, timeout: 30_000 });
  await run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=test-etcd-ca',
  ]);
  await writeFile(join(dir, 'ext.cnf'), `subjectAltName=IP:${ip},IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await run([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'etcd-key.pem',
    '-out',
    'etcd.csr',
    '-subj',
    '/CN=etcd',
  ]);
  await run([
    'x509',
    '-req',
    '-in',
    'etcd.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-out',
    'etcd.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'etcd.pem'), keyFile: join(dir, 'etcd-key.pem') };
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startEtcd(options: TestEtcdOptions = {}): Promise<TestEtcd> {
  const ip = options.ip ?? '127.0.103.1';
  const clientPort = options.clientPort ?? 2379;
  const peerPort = options.peerPort ?? 2380;
  const name = options.name ?? 'test-etcd';
  const dir = await mkdtemp(join(tmpdir(), 'orchestrate-etcd-'));
  const dataDir = options.dataDir ?? join(dir, 'data');
  const tls = options.tls ? await makeCertificates(dir, ip) : undefined;
  const scheme = tls ? 'https' : 'http';
  const endpoint = `${scheme}://${ip}:${clientPort}`;
  const peerUrl = `http://${ip}:${peerPort}`;
  const args = [
    '--name',
    name,
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    `${name}=${peerUrl}`,
    '--initial-cluster-token',
    `test-${ip}`,
    '--initial-cluster-state',
    'new',
    '--log-level',
    'error',
  ];
  if (options.quotaBackendBytes) args.push('--quota-backend-bytes', String(options.quotaBackendBytes));
  if (tls) args.push('--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth');
  const child = spawn('/usr/bin/etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString();
  });
  if (child.pid === undefined) throw new Error('etcd did not start');
  const pid = child.pid;

  const tlsArgs = tls ? ['--cacert', tls.caFile, '--cert', tls.certFile, '--key', tls.keyFile] : [];
  const etcdctl = async (ctlArgs: string[], ctlOptions: { timeoutMs?: number } = {}) => {
    const { stdout } = await execFileAsync('etcdctl', ['--endpoints', endpoint, ...tlsArgs, ...ctlArgs], {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: ctlOptions.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  };

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(pid, 'SIGTERM');
    if (!(await exited(child, 10_000))) {
      process.kill(pid, 'SIGKILL');
      await exited(child, 5_000);
    }
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
    try {
      await etcdctl(['endpoint', 'health'], { timeoutMs: 5_000 });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`etcd on ${endpoint} did not become healthy in 20 s: ${stderr.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  return {
    ip,
    endpoint,
    name,
    dir,
    dataDir,
    pid,
    ...(tls ? { tls } : {}),
    etcdctl,
    stop,
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What Debian's etcdctl 3.4 prints for a snapshot file (the reference the verifier is checked against). */
export async function etcdctlSnapshotStatus(file: string): Promise<{ hash: number; revision: number; totalKey: number; totalSize: number }> {
  const { stdout } = await execFileAsync('etcdctl', ['snapshot', 'status', '-w', 'json', file], {
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 120_000,
  });
  return JSON.parse(stdout) as { hash: number; revision: number; totalKey: number; totalSize: number };
}

/** Put many keys quickly through one etcd3 client (etcdctl would spawn a process per key). */
export async function putMany(etcd: TestEtcd, entries: Iterable<{ key: string; value: string | Buffer }>, concurrency = 16): Promise<void> {
  const { Etcd3 } = await import('etcd3');
  const { readFile } = await import('node:fs/promises');
  const client = new Etcd3({
    hosts: etcd.endpoint,
    ...(etcd.tls
      ? {
          credentials: {
            rootCertificate: await readFile(etcd.tls.caFile),
            certChain: await readFile(etcd.tls.certFile),
            privateKey: await readFile(etcd.tls.keyFile),
          },
        }
      : {}),
    defaultCallOptions: () => ({ deadline: Date.now() + 30_000 }),
  });
  try {
    let batch: Promise<unknown>[] = [];
    for (const { key, value } of entries) {
      batch.push(client.put(key).value(value).exec());
      if (batch.length >= concurrency) {
        await Promise.all(batch);
        batch = [];
      }
    }
    await Promise.all(batch);
  } finally {
    client.close();
  }
}
