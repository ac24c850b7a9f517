// The drill's temporary folder (owner-only: restored data dirs hold every Secret of the cluster) and the
// etcd processes started in it. It records its owner's pid and the members' pids, so that a drill killed
// with no chance to clean up (kill -9, a power cut) is cleaned up by the next one: stale members are
// stopped by pid (only when their command line names that folder) and the folder is removed.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const WORKSPACE_PREFIX = 'orchestrate-drill-';
const OWNER_FILE = 'owner.json';

interface OwnerRecord {
  pid: number;
  startedAt: string;
  etcdPids: number[];
}

/** The process exists and is not a zombie (an orphan under an init that does not reap stays one). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** The command line of a process, or undefined when it is gone. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

export class DrillWorkspace {
  private readonly etcdPids = new Set<number>();
  private removed = false;
  private readonly onExit = (): void => this.killAndRemoveSync();

  private constructor(readonly dir: string) {}

  /** A fresh 0700 folder under `parent`; an exit hook stops members and removes it even on process.exit. */
  static async create(parent = tmpdir()): Promise<DrillWorkspace> {
    const dir = await mkdtemp(join(parent, WORKSPACE_PREFIX));
    const workspace = new DrillWorkspace(dir);
    await workspace.saveOwner();
    process.on('exit', workspace.onExit);
    return workspace;
  }

  private ownerRecord(): OwnerRecord {
    return { pid: process.pid, startedAt: new Date().toISOString(), etcdPids: [...this.etcdPids] };
  }

  private async saveOwner(): Promise<void> {
    await writeFile(join(this.dir, OWNER_FILE), JSON.stringify(this.ownerRecord()), { mode: 0o600 });
  }

  /** Called as soon as a member process exists, before anything can go wrong with it. */
  trackPid(pid: number): void {
    this.etcdPids.add(pid);
    // Synchronous: the record must be on disk before the next await (a kill -9 can come at any moment).
    writeFileSync(join(this.dir, OWNER_FILE), JSON.stringify(this.ownerRecord()), { mode: 0o600 });
  }

  untrackPid(pid: number): void {
    this.etcdPids.delete(pid);
  }

  /** Last resort for process.exit (a second Ctrl-C): SIGKILL by pid and remove the folder, synchronously. */
  killAndRemoveSync(): void {
    if (this.removed) return;
    for (const pid of this.etcdPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.removed = true;
  }

  /** Remove the folder (members must be stopped first). */
  async remove(): Promise<void> {
    process.off('exit', this.onExit);
    if (this.removed) return;
    await rm(this.dir, { recursive: true, force: true });
    this.removed = true;
  }
}

/**
 * Folders of earlier drills whose orchestrate process is gone: their members are stopped (by pid, when
 * the process still runs from that folder) and the folders removed. Returns what was cleaned.
 */
export async function cleanStaleWorkspaces(parent = tmpdir()): Promise<{ dirs: string[]; killed: number[] }> {
  const cleaned = { dirs: [] as string[], killed: [] as number[] };
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(WORKSPACE_PREFIX))) {
    const dir = join(parent, name);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory() || info.uid !== process.getuid?.()) continue;
    let owner: OwnerRecord | undefined;
    try {
      owner = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    } catch {
      // No owner record: only a folder older than a day is taken for abandoned (it may be being created now).
      if (Date.now() - info.mtimeMs < 86_400_000) continue;
    }
    if (owner && isAlive(owner.pid)) continue;
    for (const pid of owner?.etcdPids ?? []) {
      if (commandLine(pid)?.includes(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
          cleaned.killed.push(pid);
        } catch {
          // gone meanwhile
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
    cleaned.dirs.push(dir);
  }
  return cleaned;
}
