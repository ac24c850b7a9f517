// A real S3-compatible server on loopback for tests and benchmarks: s3rver in a child process (stopped
// by pid, or killed to play a server that dies mid-upload), with a folder of its own. Credentials are
// s3rver's fixed pair, and it checks SigV4 signatures, so wrong keys are refused as by a real server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const S3RVER_KEY_ID = 'S3RVER';
export const S3RVER_SECRET = 'S3RVER';

export interface S3Server {
  endpoint: string;
  port: number;
  dir: string;
  pid: number;
  /** s3rver's file holding the bytes of `bucket/key` (to alter an object behind the server's back). */
  objectFile(bucket: string, key: string): string;
  /** SIGKILL: the server vanishes mid-request. */
  kill(): void;
  /** Stop and remove its folder. */
  destroy(): Promise<void>;
}

const main = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));

function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 20 s: ${err}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /port=(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code}) before listening: ${err}`));
    });
  });
}

export async function startS3Server(options: { buckets?: string[]; dir?: string; port?: number } = {}): Promise<S3Server> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'orchestrate-s3-')));
  const child = spawn(process.execPath, [main, dir, String(options.port ?? 0), ...(options.buckets ?? ['backups'])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await waitForPort(child);
  const pid = child.pid ?? 0;
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (signal: NodeJS.Signals) => {
    if (!running()) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (running()) child.kill('SIGKILL');
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    dir,
    pid,
    objectFile: (bucket, key) => {
      const parts = key.split('/');
      const last = parts.pop() ?? '';
      return join(dir, bucket, ...parts, `${last}._S3rver_object`);
    },
    kill: () => {
      child.kill('SIGKILL');
    },
    destroy: async () => {
      await stop('SIGTERM');
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
