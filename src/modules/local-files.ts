// Reading files on the deploy host: paths relative to the playbook, sha256 of local files.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { TaskFailedError } from '../errors.js';
import { isAbsolute, resolve } from 'node:path';
import type { Vars } from '../config/types.js';

/** Relative paths on the deploy host resolve against the playbook's folder, as in Ansible. */
export function deployHostPath(path: string, vars: Vars): string {
  if (isAbsolute(path)) return path;
  const base = typeof vars.playbook_dir === 'string' ? vars.playbook_dir : process.cwd();
  return resolve(base, path);
}

/** sha256 of a local file, or undefined when it does not exist. */
export async function localSha256(path: string): Promise<string | undefined> {
  try {
    // A device or FIFO (`src: /dev/zero`) would be read forever or block: only regular files are copied.
    if (!(await stat(path)).isFile()) throw new TaskFailedError(`${path} on the deploy host is not a regular file`, 'give the path of a file');
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function sha256Of(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
