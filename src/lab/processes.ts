// Processes seen through /proc: liveness, start time (to tell a reused pid apart), mount namespace, termination.
import { readdir, readFile, readlink } from 'node:fs/promises';

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. Together with the pid it names one process. */
  startTime: string;
}

async function readStat(pid: number): Promise<{ state: string; startTime: string } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain blanks and parentheses: split after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const startTime = fields[19];
    if (state === undefined || startTime === undefined) return undefined;
    return { state, startTime };
  } catch {
    return undefined;
  }
}

/** Alive means it exists and is not a zombie (a detached child of pid 1 may stay a zombie for a while). */
export async function isAlive(pid: number): Promise<boolean> {
  const stat = await readStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

export async function processStartTime(pid: number): Promise<string | undefined> {
  return (await readStat(pid))?.startTime;
}

/** True when `identity` still names the same live process (not a reused pid). */
export async function isSameProcessAlive(identity: ProcessIdentity): Promise<boolean> {
  const stat = await readStat(identity.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === identity.startTime;
}

/** e.g. `mnt:[4026532211]`, or undefined when the process is gone. */
export async function mountNamespaceOf(pid: number | 'self'): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Every live process whose mount namespace is one of `namespaces`, grouped by namespace. */
export async function processesInMountNamespaces(namespaces: ReadonlySet<string>): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>();
  if (namespaces.size === 0) return found;
  const entries = await readdir('/proc');
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        const pid = Number(name);
        const namespace = await mountNamespaceOf(pid);
        if (namespace === undefined || !namespaces.has(namespace) || !(await isAlive(pid))) return;
        const list = found.get(namespace) ?? [];
        list.push(pid);
        found.set(namespace, list);
      }),
  );
  return found;
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolveSleep) => setTimeout(resolveSleep, intervalMs));
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/**
 * SIGTERM every pid, wait up to `graceMs` for them to exit, SIGKILL the rest and wait up to `killMs`.
 * Returns the pids that are still alive afterwards (normally none).
 */
export async function terminateProcesses(pids: readonly number[], graceMs = 10_000, killMs = 5_000): Promise<number[]> {
  const unique = [...new Set(pids)].filter((pid) => pid > 1 && pid !== process.pid);
  const alive = async (): Promise<number[]> => {
    const states = await Promise.all(unique.map(async (pid) => ((await isAlive(pid)) ? pid : undefined)));
    return states.filter((pid): pid is number => pid !== undefined);
  };
  for (const pid of await alive()) signal(pid, 'SIGTERM');
  await waitUntil(async () => (await alive()).length === 0, graceMs);
  const stubborn = await alive();
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  if (stubborn.length > 0) await waitUntil(async () => (await alive()).length === 0, killMs);
  return alive();
}
