// Writing into a host's upper layer before its overlay is mounted. A directory present in both layers takes
// the upper one's owner and mode, so every directory created here copies them from the same path under /.
import { chmod, chown, lstat, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/** Creates `upper/<path>` and its parents, each with the owner and mode of `/<path>` when that exists. */
export async function ensureUpperDir(upperDir: string, path: string): Promise<void> {
  const parts = path.split('/').filter((part) => part !== '');
  let lowerPath = '/';
  for (const part of parts) {
    lowerPath = join(lowerPath, part);
    const upperPath = join(upperDir, lowerPath);
    const created = await mkdir(upperPath).then(
      () => true,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      },
    );
    if (!created) continue;
    const lower = await lstat(lowerPath).catch(() => undefined);
    if (lower?.isDirectory()) {
      await chown(upperPath, lower.uid, lower.gid);
      await chmod(upperPath, lower.mode & 0o7777);
    } else {
      await chmod(upperPath, 0o755);
    }
  }
}

export interface UpperFileOptions {
  mode: number;
  uid?: number;
  gid?: number;
}

/** Writes `upper/<path>` (an absolute path as seen inside the host). */
export async function writeUpperFile(upperDir: string, path: string, content: string, options: UpperFileOptions): Promise<void> {
  await ensureUpperDir(upperDir, dirname(path));
  const file = join(upperDir, path);
  await writeFile(file, content, { mode: options.mode });
  await chmod(file, options.mode);
  if (options.uid !== undefined || options.gid !== undefined) await chown(file, options.uid ?? 0, options.gid ?? 0);
}

/** The path inside the host that an upper-layer path stands for. */
export function pathInHost(upperDir: string, upperPath: string): string {
  return `/${relative(upperDir, upperPath).split(sep).join('/')}`;
}

/** Creates the symbolic link `upper/<path>` -> `target` (a path as seen inside the host), replacing a file there. */
export async function writeUpperSymlink(upperDir: string, path: string, target: string): Promise<void> {
  await ensureUpperDir(upperDir, dirname(path));
  const link = join(upperDir, path);
  await rm(link, { force: true });
  await symlink(target, link);
}
