// A lock made of a directory (mkdir is atomic) holding the owner's pid, so a crashed owner's lock can be taken over.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './lab-error.js';
import { isAlive } from './processes.js';

export async function withDirLock<T>(lockDir: string, what: string, work: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lockDir, { mode: 0o700 });
      await writeFile(join(lockDir, 'pid'), `${process.pid}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(join(lockDir, 'pid'), 'utf8').catch(() => '')).trim());
      // A lock without a pid may be one being created this instant: only a dead owner is taken over at once.
      const ageMs = Date.now() - ((await stat(lockDir).catch(() => undefined))?.mtimeMs ?? Date.now());
      const abandoned = owner > 0 ? owner !== process.pid && !(await isAlive(owner)) : ageMs > 5_000;
      if (abandoned) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LabError(
          `${what}: ${lockDir} is held by ${owner > 0 ? `process ${owner}` : 'another process'}`,
          `wait for the other lab command to finish, or remove ${lockDir} if no such process runs`,
          'lab.locked',
        );
      }
      await new Promise((resolveSleep) => setTimeout(resolveSleep, 50 + Math.random() * 50));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
