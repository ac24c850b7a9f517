// Checks on the deploy host for the second mode (restore here, upload to the members).
import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import { bumpRevisionCommand, parseTool } from './data-commands.js';
import type { RestoreTool } from './identity.js';

const run = promisify(execFile);

export async function localRestoreTool(): Promise<RestoreTool | undefined> {
  try {
    const { stdout } = await run('/bin/sh', ['-c', 'command -v etcdutl || command -v etcdctl'], { timeout: 5_000 });
    return parseTool(stdout);
  } catch {
    return undefined;
  }
}

/** Whether the deploy host's etcdutl can restore with --bump-revision (etcd 3.5.10+). */
export async function localCanBump(): Promise<boolean> {
  try {
    const { stdout } = await run('/bin/sh', ['-c', bumpRevisionCommand()], { timeout: 5_000 });
    return stdout.trim() === 'yes';
  } catch {
    return false;
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
