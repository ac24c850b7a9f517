// One run at a time per cluster, on the deploy host: a lock file created with O_EXCL next to the journal
// (a restore or rollback) or the catalog (a backup). The second run refuses at once, naming the holder.
// A lock whose process is gone (its pid not alive on this host, or alive as another program since the
// start time differs) is taken over with a note. Never by age alone: a restore may rightly run for hours,
// and a lock written on another host cannot be judged from here, so it is refused with how to clear it.
import { constants, readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import { RefusedError } from '../../errors.js';
import { journalPath } from './journal.js';

export type RunLockKind = 'restore' | 'backup';

/** What the lock file holds (JSON): who holds it, enough to find and judge that process. */
export interface RunLockHolder {
  version: 1;
  kind: RunLockKind;
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells a reused pid from the holder. */
  processStart?: string;
  user: string;
  /** The deploy host's name. */
  host: string;
  runId?: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  command: string[];
}

export interface RunLockOptions {
  kind: RunLockKind;
  /** What is locked, for messages: e.g. `etcd cluster "etcd-cluster-0"`. */
  subject: string;
  runId?: string;
  /** Default: this process's command line. */
  command?: string[];
  /** Where the state of a run lives (the journal), named in the refusal. */
  stateFile?: string;
}

export interface RunLock {
  readonly path: string;
  readonly holder: RunLockHolder;
  /** Said once, when a dead holder's lock was taken over. */
  readonly notes: string[];
  /** Record the run id once it is known (a resumed restore takes its journal's). */
  setRunId(runId: string): Promise<void>;
  /** Remove the lock if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

/** The restore/rollback lock of a cluster: beside its journal (`<token>.json` -> `<token>.lock`). */
export function restoreLockPath(journalFile: string): string {
  return journalFile.replace(/\.json$/, '') + '.lock';
}

/** The backup lock of a cluster: beside its catalog (`<token>.jsonl` -> `<token>.backup.lock`). */
export function backupLockPath(catalogFile: string): string {
  return catalogFile.replace(/\.jsonl$/, '') + '.backup.lock';
}

/** This process's start time as /proc gives it (undefined where there is no /proc). */
export function processStartTime(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type HolderState = 'alive' | 'dead' | 'elsewhere';

/** Whether the holder still runs: only a process on this host can be judged. */
export function holderState(holder: RunLockHolder, thisHost: string = hostname()): HolderState {
  if (holder.host !== thisHost) return 'elsewhere';
  if (!pidAlive(holder.pid)) return 'dead';
  const start = processStartTime(holder.pid);
  if (holder.processStart !== undefined && start !== undefined && start !== holder.processStart) return 'dead';
  return 'alive';
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** The command line as typed: the program's name, not the path of node or of the script. */
function commandLine(): string[] {
  const args = process.argv.slice(1);
  const [first] = args;
  if (first !== undefined && first.includes('/')) args.shift();
  return ['orchestrate', ...args];
}

export function describeHolder(holder: RunLockHolder, now: number = Date.now()): string {
  const since = Math.max(0, Math.round((now - new Date(holder.startedAt).getTime()) / 1000));
  const age = since < 120 ? `${since}s` : since < 7200 ? `${Math.round(since / 60)} min` : `${(since / 3600).toFixed(1)} h`;
  return (
    `pid ${holder.pid} (user ${holder.user}) on ${holder.host}` +
    `${holder.runId ? `, run ${holder.runId}` : ''}, started ${holder.startedAt} (${age} ago): ${holder.command.join(' ')}`
  );
}

function parseHolder(text: string): RunLockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<RunLockHolder>;
    if (value.version !== 1 || typeof value.pid !== 'number' || typeof value.host !== 'string' || !Array.isArray(value.command)) return undefined;
    return value as RunLockHolder;
  } catch {
    return undefined;
  }
}

async function readHolder(path: string): Promise<{ text: string; holder?: RunLockHolder } | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    const holder = parseHolder(text);
    return holder ? { text, holder } : { text };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Create `path` with `text` only if it does not exist, owner-only, on disk before it counts. The text is
 * written to a file of this process first and hard-linked into place (link fails when `path` exists), so a
 * lock is never seen empty, even after a SIGKILL at the worst moment. Where links are not supported, the
 * file is created with O_EXCL and then written.
 */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const temp = `${path}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeSynced(temp, text, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  try {
    await writeSynced(path, text, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function writeSynced(path: string, text: string, flags: number): Promise<void> {
  const handle = await open(path, flags, 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function refuseHeld(path: string, holder: RunLockHolder, options: RunLockOptions, state: HolderState): RefusedError {
  const what = `another orchestrate ${holder.kind} of ${options.subject} is running: ${describeHolder(holder)}; nothing was changed`;
  const fix =
    state === 'elsewhere'
      ? `that run is on another deploy host (${holder.host}): wait for it there; if no orchestrate runs there any more, remove ${path} by hand`
      : `wait for it to end, or stop it (kill ${holder.pid}: ${
          holder.kind === 'restore'
            ? `a restore continues from its journal when run again${options.stateFile ? `, ${options.stateFile}` : ''}`
            : 'a backup is simply run again'
        }); the lock ${path} is taken over once that process is gone`;
  return new RefusedError(what, fix, `${options.kind}.locked`);
}

function refuseUnreadable(path: string, options: RunLockOptions, text: string): RefusedError {
  return new RefusedError(
    `the lock file ${path} of ${options.subject} is not one orchestrate wrote (${JSON.stringify(text.slice(0, 80))}); nothing was changed`,
    `make sure no other orchestrate ${options.kind} runs, then remove ${path}`,
    `${options.kind}.lock-damaged`,
  );
}

/**
 * Remove the lock `stale` (a dead holder's, as read) so that it can be created again. Only the process that
 * creates `<path>.takeover-<pid>-<start>` (O_EXCL) for that holder may remove it, and only while the lock still
 * holds exactly that text: two runs finding the same dead holder never both take over.
 */
async function removeStale(path: string, stale: { text: string; holder: RunLockHolder }, options: RunLockOptions): Promise<void> {
  const guard = `${path}.takeover-${stale.holder.pid}-${stale.holder.processStart ?? 'x'}`;
  if (!(await createExclusive(guard, `${process.pid}\n`))) {
    const owner = Number((await readFile(guard, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) {
      // Another run is taking over right now (a matter of milliseconds): then the lock is judged again.
      await new Promise((r) => setTimeout(r, 50));
      return;
    }
    throw new RefusedError(
      `a run taking over the lock ${path} of ${options.subject} from a dead process ended half-way (${guard} is left); nothing was changed`,
      `make sure no other orchestrate ${options.kind} runs, then remove ${guard} and ${path}`,
      `${options.kind}.lock-damaged`,
    );
  }
  try {
    const now = await readHolder(path);
    if (now?.text === stale.text) await unlink(path);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/**
 * Take the lock at `path`, or refuse (RefusedError, exit 5) naming the holder. A dead holder's lock is taken
 * over (`notes` says so). The lock is released by `release()`, and by an exit handler should the process
 * exit without it (a second Ctrl-C); after SIGKILL the next run takes it over.
 */
export async function acquireRunLock(path: string, options: RunLockOptions): Promise<RunLock> {
  // The first folder this lock had to create: a run that changed nothing leaves no folder behind.
  const created = await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const holder: RunLockHolder = {
    version: 1,
    kind: options.kind,
    pid: process.pid,
    ...(processStartTime(process.pid) !== undefined ? { processStart: processStartTime(process.pid) } : {}),
    user: currentUser(),
    host: hostname(),
    ...(options.runId ? { runId: options.runId } : {}),
    startedAt: new Date().toISOString(),
    command: options.command ?? commandLine(),
  };
  const notes: string[] = [];
  // Bounded: each pass either takes the lock, refuses, or removes one dead holder's lock.
  for (let attempt = 0; attempt < 10; attempt++) {
    if (await createExclusive(path, `${JSON.stringify(holder)}\n`)) return heldLock(path, holder, notes, created);
    const found = await readHolder(path);
    if (!found) continue; // released in between
    if (!found.holder) {
      // A lock being written right now is empty for an instant.
      if (found.text === '' && attempt < 9) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      throw refuseUnreadable(path, options, found.text);
    }
    const state = holderState(found.holder);
    if (state !== 'dead') throw refuseHeld(path, found.holder, options, state);
    await removeStale(path, { text: found.text, holder: found.holder }, options);
    const note = `took over the lock ${path}: its holder, ${describeHolder(found.holder)}, is no longer running`;
    if (!notes.includes(note)) notes.push(note);
  }
  throw new RefusedError(`could not take the lock ${path} of ${options.subject}: it kept changing hands`, 'run again', `${options.kind}.locked`);
}

function heldLock(path: string, holder: RunLockHolder, notes: string[], createdDir?: string): RunLock {
  let text = `${JSON.stringify(holder)}\n`;
  let released = false;
  // A second Ctrl-C exits at once (process.exit): no finally runs, this does.
  const onExit = (): void => {
    try {
      if (readFileSync(path, 'utf8') === text) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  return {
    path,
    holder,
    notes,
    async setRunId(runId) {
      if (released || holder.runId === runId) return;
      holder.runId = runId;
      const next = `${JSON.stringify(holder)}\n`;
      const temp = `${path}.tmp-${process.pid}`;
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(next);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
      text = next;
    },
    async release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      const now = await readHolder(path).catch(() => undefined);
      if (now?.text === text) await unlink(path).catch(() => undefined);
      if (createdDir) await removeEmptyDirs(dirname(path), createdDir);
    },
  };
}

/** Folders from `dir` up to `top`, each removed while it is empty (a journal or catalog in them keeps them). */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    if (
      !(await rmdir(current).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (current === top || dirname(current) === current) return;
  }
}

/** Run `work` holding the lock; released however `work` ends. */
export async function withRunLock<T>(path: string, options: RunLockOptions, work: (lock: RunLock) => Promise<T>): Promise<T> {
  const lock = await acquireRunLock(path, options);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}

/**
 * The cluster lock, beside the journal: a restore or rollback takes it, and so does a backup, so that neither
 * starts while the other runs (a backup would save a half-restored cluster, or fail as etcd stops under it).
 */
export function acquireClusterLock(inventoryDir: string, token: string, kind: RunLockKind = 'restore'): Promise<RunLock> {
  const journal = journalPath(inventoryDir, token);
  return acquireRunLock(restoreLockPath(journal), { kind, subject: `etcd cluster "${token}"`, stateFile: journal });
}

/** The lock a restore or rollback of the cluster `token` takes (beside its journal). */
export function acquireRestoreLock(inventoryDir: string, token: string): Promise<RunLock> {
  return acquireClusterLock(inventoryDir, token, 'restore');
}

/**
 * A backup's locks: its catalog's (two backups sharing a backup folder, even from two inventories, would prune
 * and repoint snapshot.db under each other), then the cluster lock. Both or neither.
 */
export async function acquireBackupLocks(inventoryDir: string, token: string, catalogFile: string): Promise<RunLock[]> {
  const catalogLock = await acquireRunLock(backupLockPath(catalogFile), { kind: 'backup', subject: `the backup catalog of etcd cluster "${token}"` });
  try {
    return [catalogLock, await acquireClusterLock(inventoryDir, token, 'backup')];
  } catch (error) {
    await catalogLock.release();
    throw error;
  }
}
