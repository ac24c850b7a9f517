// The journal of a recovery by "start as is" and of member replaces (paths that do not go through restore):
// which members are started, which replaced, what each has done, where old data went. Written durably
// after every phase of every host (as the restore journal is), so a re-run continues with the same run id,
// the same plan and the ids a replace already removed or added.
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RefusedError } from '../../errors.js';
import { writeJsonDurably } from '../restore/journal.js';
import { clusterFileName } from '../backup/locations.js';

export type RecoverJournalStatus = 'in-progress' | 'completed' | 'failed';

export interface ReplaceRecord {
  removedId?: string;
  addedId?: string;
  asideDir?: string;
}

export interface RecoverJournal {
  version: 1;
  /** `recover` (start then replace) or `member-replace` (one member on request). */
  kind: 'recover' | 'member-replace';
  runId: string;
  clusterToken: string;
  inventory: string;
  status: RecoverJournalStatus;
  startedAt: string;
  updatedAt: string;
  /** Members started as they are. */
  start: string[];
  /** Members replaced, in order. */
  replace: string[];
  replaced: Record<string, ReplaceRecord>;
  begun: string[];
  /** Host (or `localhost`) -> phases done; a replace's phases are recorded as `<phase>` under its host. */
  done: Record<string, string[]>;
  marks: Record<string, string>;
  error?: string;
}

export function recoverJournalPath(inventoryDir: string, clusterToken: string): string {
  return join(inventoryDir, '.orchestrate', 'recover-journal', `${clusterFileName(clusterToken)}.json`);
}

export async function readRecoverJournal(path: string): Promise<RecoverJournal | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RefusedError(
      `cannot read the recover journal ${path}: ${(error as Error).message}`,
      'check the file permissions',
      'recover.journal-unreadable',
    );
  }
  try {
    const parsed = JSON.parse(text) as { version?: unknown; runId?: unknown; kind?: unknown };
    if (parsed.version !== 1 || typeof parsed.runId !== 'string' || (parsed.kind !== 'recover' && parsed.kind !== 'member-replace'))
      throw new Error('unknown format');
    return parsed as RecoverJournal;
  } catch (error) {
    throw new RefusedError(
      `the recover journal ${path} is damaged (${(error as Error).message})`,
      "inspect it by hand: it records where replaced members' old data dirs went; move it away once every member is known to be fine",
      'recover.journal-damaged',
    );
  }
}

/** Writes after every change; concurrent changes are carried by one write. */
export class RecoverJournalWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly journal: RecoverJournal,
  ) {}

  update(change: (journal: RecoverJournal) => void): Promise<void> {
    change(this.journal);
    this.journal.updatedAt = new Date().toISOString();
    const snapshot = structuredClone(this.journal);
    this.chain = this.chain.catch(() => undefined).then(() => writeJsonDurably(this.path, snapshot));
    return this.chain;
  }

  markDone(host: string, phase: string): Promise<void> {
    return this.update((j) => {
      const list = (j.done[host] ??= []);
      if (!list.includes(phase)) list.push(phase);
    });
  }

  isDone(host: string, phase: string): boolean {
    return this.journal.done[host]?.includes(phase) ?? false;
  }
}

/** A finished journal is kept beside the next one, named by its run. */
export async function archiveRecoverJournal(path: string, runId: string): Promise<void> {
  await rename(path, path.replace(/\.json$/, `.${runId}.json`)).catch(() => undefined);
}
