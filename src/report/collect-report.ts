// Gathers what the report shows for one inventory, from the deploy host only (plus a status call with a
// short deadline when the cluster answers): the newest restore journal, the backup catalog, the drill
// catalog. Writes the file atomically, owner-only.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { surveyCluster, type ObserveCluster } from '../etcd/cluster/observe.js';
import { readCatalog, type CatalogRecord } from '../etcd/backup/catalog.js';
import { parseDuration } from '../etcd/backup/format.js';
import { backupLocations, clusterFileName, inventoryVar } from '../etcd/backup/locations.js';
import { CONFIG_FILE_LIMIT, readBoundedFile } from '../config/bounded-read.js';
import { etcdMembers, requireEtcd } from '../config/etcd-vars.js';
import { inventoryMeta } from '../config/inventory-meta.js';
import type { Inventory } from '../config/types.js';
import { problemAtOrigin } from '../config/origin.js';
import { drillCatalogFile, readDrillRecords } from '../drill/drill-catalog.js';
import { drillFreshness } from '../drill/drill-freshness.js';
import { ConfigError } from '../errors.js';
import { journalPath, readJournal } from '../etcd/restore/journal.js';
import { backupHistory } from './backup-history.js';
import { renderReport, type ReportInput } from './html-report.js';
import { parseEventLog, timingsFromEvents, type TimedJournal } from './phase-timings.js';
import type { RecoverySummary } from './recovery-section.js';
import { restoreTimeline } from './restore-timeline.js';

export interface ReportOptions {
  inventory: Inventory;
  /** A journal to draw instead of the newest one of the cluster. */
  journalFile?: string;
  /** `restore --json` output of that run: phase times for a journal that does not record them. */
  eventsFile?: string;
  now?: number;
  /** Backup history window (default 14 days). */
  windowMs?: number;
  /** RPO target (default: backup_rpo, else twice the backup interval). */
  rpoMs?: number;
  /** Ask the cluster for its status (default true), each member within this deadline. */
  status?: boolean;
  statusTimeoutMs?: number;
  /** How to ask the members (etcd_access: ssh asks on each member over SSH); default from the deploy host. */
  observe?: ObserveCluster;
  /** Written at the end of a recovery: its section, and no older restore unless `journalFile` names the recovery's own. */
  recovery?: RecoverySummary;
}

/** A duration variable (`backup_interval: 1h`), with its file:line:col when it is not one. */
function durationVar(inventory: Inventory, name: string): number | undefined {
  const value = inventoryVar(inventory, name);
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms !== undefined) return ms;
  const host = inventory.groups.get('etcd')?.[0];
  const meta = inventoryMeta(inventory);
  const origin = host ? meta?.varOrigins.get(host)?.get(name) : undefined;
  const fields = {
    code: 'inventory.duration',
    message: `${name} must be a duration such as 1h, 90m or 2d, not "${value}"`,
    expected: 'a duration: 30m, 1h, 2d',
  };
  throw new ConfigError([
    origin ? problemAtOrigin(origin, fields) : { severity: 'error', ...fields, loc: { file: inventory.file, line: 1, col: 1 } },
  ]);
}

/** The cluster's current journal, else the newest archived one (`<token>.<run>.json`). */
async function newestJournal(inventory: Inventory, token: string): Promise<{ file: string; journal: TimedJournal } | undefined> {
  const current = journalPath(inventory.dir, token);
  const journal = await readJournal(current);
  if (journal) return { file: current, journal };
  const dir = dirname(current);
  const prefix = `${clusterFileName(token)}.`;
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix) && n.endsWith('.json') && !n.includes('.tmp-'));
  let newest: { file: string; journal: TimedJournal } | undefined;
  for (const name of names) {
    const file = join(dir, name);
    const candidate = await readJournal(file).catch(() => undefined);
    if (candidate && (!newest || candidate.startedAt > newest.journal.startedAt)) newest = { file, journal: candidate };
  }
  return newest;
}

async function restorePart(inventory: Inventory, token: string, options: ReportOptions): Promise<ReportInput['restore']> {
  const found = options.journalFile
    ? { file: resolve(options.journalFile), journal: await readJournal(resolve(options.journalFile)) }
    : await newestJournal(inventory, token);
  if (!found?.journal) {
    if (options.journalFile)
      throw new ConfigError([
        {
          severity: 'error',
          code: 'report.no-journal',
          message: `no restore journal at ${options.journalFile}`,
          loc: { file: options.journalFile, line: 1, col: 1 },
        },
      ]);
    return undefined;
  }
  const journal: TimedJournal = found.journal;
  let source = `from the journal ${found.file}`;
  if (!journal.timings && options.eventsFile) {
    const events = parseEventLog((await readBoundedFile(options.eventsFile, CONFIG_FILE_LIMIT)).toString('utf8'));
    const report = events.find((e) => e.type === 'report') as { runId?: string } | undefined;
    if (report?.runId && report.runId !== journal.runId)
      throw new ConfigError([
        {
          severity: 'error',
          code: 'report.events-mismatch',
          message: `${options.eventsFile} is the log of run ${report.runId}, the journal is run ${journal.runId}`,
          loc: { file: options.eventsFile, line: 1, col: 1 },
        },
      ]);
    journal.timings = timingsFromEvents(events);
    source += ` and the event log ${options.eventsFile}`;
  }
  return { timeline: restoreTimeline(journal), source };
}

async function statusPart(inventory: Inventory, options: ReportOptions): Promise<ReportInput['status']> {
  if (options.status === false) return undefined;
  const survey = await surveyCluster(etcdMembers(inventory), { timeoutMs: options.statusTimeoutMs ?? 3_000 }, options.observe);
  if (!survey.members.some((m) => m.ok)) return { error: survey.members.map((m) => `${m.name}: ${m.error ?? 'no answer'}`).join('; ') };
  return { survey, at: Date.now() };
}

export async function collectReport(options: ReportOptions): Promise<ReportInput> {
  const { inventory } = options;
  const members = requireEtcd(inventory);
  const token = members[0]?.token ?? 'etcd-cluster-0';
  const locations = backupLocations(inventory);
  const now = options.now ?? Date.now();
  const intervalMs = durationVar(inventory, 'backup_interval');
  const rpoVar = durationVar(inventory, 'backup_rpo');
  const [restore, catalog, drills, status] = await Promise.all([
    options.recovery && !options.journalFile ? undefined : restorePart(inventory, token, options),
    readCatalog(locations.catalogFile).catch(() => ({ records: [] as CatalogRecord[] })),
    readDrillRecords(drillCatalogFile(locations)).catch(() => ({ records: [] })),
    statusPart(inventory, options),
  ]);
  const rpoMs = options.rpoMs ?? rpoVar;
  const backups = backupHistory(catalog.records, locations.cluster, {
    now,
    ...(options.windowMs ? { windowMs: options.windowMs } : {}),
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(rpoMs !== undefined ? { rpoMs, rpoSource: options.rpoMs !== undefined ? ('option' as const) : ('inventory' as const) } : {}),
  });
  const proof = drillFreshness(drills.records, locations.cluster, now);
  const lastGood = [...backups.points].reverse().find((p) => p.ok);
  const freshness = [lastGood ? `newest good backup ${new Date(lastGood.at).toISOString()}` : 'no good backup recorded in the catalog', proof.text];
  return {
    cluster: locations.cluster,
    inventoryFile: inventory.file,
    generatedAt: now,
    ...(restore ? { restore } : {}),
    ...(options.recovery ? { recovery: options.recovery } : {}),
    backups,
    drills: drills.records.filter((d) => d.cluster === locations.cluster),
    drillFreshness: proof.text,
    freshness,
    ...(status ? { status } : {}),
  };
}

/** Default: `<inventory dir>/.orchestrate/reports/<cluster>-<UTC time>.html`. */
export function defaultReportPath(inventory: Inventory, cluster: string, now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return join(inventory.dir, '.orchestrate', 'reports', `${clusterFileName(cluster)}-${stamp}.html`);
}

/** Build and write the report (temporary name, then rename; 0600). Returns the path and the input it drew. */
export async function writeReport(options: ReportOptions & { out?: string }): Promise<{ path: string; input: ReportInput; bytes: number }> {
  const input = await collectReport(options);
  const html = renderReport(input);
  const path = resolve(options.out ?? defaultReportPath(options.inventory, input.cluster, input.generatedAt));
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temp, html, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { path, input, bytes: Buffer.byteLength(html) };
}
