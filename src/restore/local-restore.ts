// Second mode: restore every member's dir on the deploy host (for members without etcd's tools), each with
// its own identity, archived with tar for the upload. Same flags as on the members, run without a shell.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EtcdMember } from '../config/types.js';
import { restoreArgv, restoreCommandLine, type RestoreTool } from '../modules/restore/identity.js';
import { parseTool } from '../modules/restore/data-commands.js';
import { shellJoin } from '../shell/quote.js';
import type { DeployHostRestore, PlanMember } from './plan.js';

const run = promisify(execFile);

export async function localRestoreTool(): Promise<RestoreTool | undefined> {
  try {
    const { stdout } = await run('/bin/sh', ['-c', 'command -v etcdutl || command -v etcdctl'], { timeout: 5_000 });
    return parseTool(stdout);
  } catch {
    return undefined;
  }
}

export async function localFreeBytes(dir: string): Promise<number | undefined> {
  try {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function deployHostRestore(options: { tool: RestoreTool; workDir: string; snapshotPath: string; skipHashCheck: boolean; members: readonly EtcdMember[]; timeoutMs: number }): DeployHostRestore {
  const dirFor = (member: EtcdMember) => join(options.workDir, member.name.replace(/[^A-Za-z0-9._-]/g, '_'));
  return {
    tool: options.tool,
    describe: (m: PlanMember) => {
      const data = join(dirFor(m.member), 'data');
      const restore = restoreCommandLine(m.member, options.members, { tool: options.tool, snapshotPath: options.snapshotPath, targetDir: data, skipHashCheck: options.skipHashCheck });
      return `${restore} && ${shellJoin(['tar', '-C', data, '-cf', join(dirFor(m.member), 'data.tar'), '.'])}`;
    },
    async prepare(m: PlanMember, signal: AbortSignal) {
      const dir = dirFor(m.member);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const data = join(dir, 'data');
      const archive = join(dir, 'data.tar');
      const argv = restoreArgv(m.member, options.members, { tool: options.tool, snapshotPath: options.snapshotPath, targetDir: data, skipHashCheck: options.skipHashCheck });
      const env = options.tool === 'etcdctl' ? { ...process.env, ETCDCTL_API: '3' } : process.env;
      await run(argv[0]!, argv.slice(1), { env, timeout: options.timeoutMs, signal, maxBuffer: 16 * 1024 * 1024 });
      await run('tar', ['-C', data, '-cf', archive, '.'], { timeout: options.timeoutMs, signal });
      await rm(data, { recursive: true, force: true });
      return { archive, sha256: await sha256File(archive) };
    },
  };
}
