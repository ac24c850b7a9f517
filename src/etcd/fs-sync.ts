// Durability helpers: a rename is only durable once the directory holding it is fsynced.
import { open } from 'node:fs/promises';

/** fsync a directory so a rename or a new entry in it survives a power cut. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
