// Adds and removes this lab's lines in a known_hosts file. Each line carries a tag naming the lab folder,
// so `lab down` removes exactly those lines; concurrent edits are serialized with a lock and an atomic rename.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { withDirLock } from './dir-lock.js';
import type { HostPublicKey } from './ssh-keys.js';

const tagPrefix = 'orchestrate-lab:';

export function knownHostsTag(labDir: string): string {
  return `${tagPrefix}${labDir}`;
}

export interface KnownHostsEdit {
  /** Lines of earlier labs for the same addresses that were dropped (their hosts cannot be running: the port is free). */
  replacedStale: number;
  /** Untagged lines for a lab address: `ssh` may see a changed key for them. */
  conflicting: string[];
}

function hostField(line: string): string | undefined {
  const fields = line.trim().split(/\s+/);
  const first = fields[0]?.startsWith('@') ? fields[1] : fields[0];
  return first;
}

function namesAddress(field: string | undefined, addresses: ReadonlySet<string>): boolean {
  if (!field) return false;
  return field.split(',').some((name) => addresses.has(name) || addresses.has(name.replace(/^\[(.*)\]:22$/, '$1')));
}

async function edit(file: string, change: (lines: string[]) => string[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await withDirLock(`${file}.orchestrate-lock`, `editing ${file}`, async () => {
    const existing = await readFile(file, 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    });
    const mode = (await stat(file).catch(() => undefined))?.mode ?? 0o600;
    const lines = existing.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const next = change(lines);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, next.length > 0 ? `${next.join('\n')}\n` : '', { mode: mode & 0o777 });
    await rename(temporary, file);
  });
}

export function knownHostsLines(keys: ReadonlyMap<string, HostPublicKey[]>, tag?: string): string[] {
  return [...keys].flatMap(([address, hostKeys]) => hostKeys.map((key) => `${address} ${key.keyType} ${key.key}${tag ? ` ${tag}` : ''}`));
}

/** Adds `<address> <type> <key> <tag>` lines, after dropping stale tagged lines for the same addresses. */
export async function addLabKnownHosts(file: string, tag: string, keys: ReadonlyMap<string, HostPublicKey[]>): Promise<KnownHostsEdit> {
  const addresses = new Set(keys.keys());
  const result: KnownHostsEdit = { replacedStale: 0, conflicting: [] };
  await edit(file, (lines) => {
    const kept = lines.filter((line) => {
      const trimmed = line.trim();
      if (trimmed.startsWith('#') || !namesAddress(hostField(trimmed), addresses)) return true;
      if (trimmed.split(/\s+/).some((field) => field.startsWith(tagPrefix))) {
        result.replacedStale += 1;
        return false;
      }
      result.conflicting.push(trimmed);
      return true;
    });
    return [...kept, ...knownHostsLines(keys, tag)];
  });
  return result;
}

/** Removes every line carrying `tag`; returns how many. A missing file is fine. */
export async function removeLabKnownHosts(file: string, tag: string): Promise<number> {
  let removed = 0;
  try {
    await stat(file);
  } catch {
    return 0;
  }
  await edit(file, (lines) =>
    lines.filter((line) => {
      const tagged = line.trim().split(/\s+/).includes(tag);
      if (tagged) removed += 1;
      return !tagged;
    }),
  );
  return removed;
}
