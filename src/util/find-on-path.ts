// Executables on the deploy host's PATH, for the tools orchestrate runs itself (etcd for a drill, ssh
// for large copies).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Every executable named `name` in PATH order. */
export async function findOnPath(name: string, pathValue: string | undefined): Promise<string[]> {
  const found: string[] = [];
  for (const dir of (pathValue ?? '').split(delimiter)) {
    if (!dir.startsWith('/')) continue; // a relative PATH entry would depend on where orchestrate runs
    const candidate = join(dir, name);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      found.push(candidate);
  }
  return found;
}
