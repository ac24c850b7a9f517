// Freshness metrics in Prometheus text format for node_exporter's textfile collector: written to
// `<file>.tmp` and renamed, so the collector never reads half a file. Samples of other clusters
// already in the file are kept, so several inventories can share one file.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { CONFIG_FILE_LIMIT, FileReadError, readBoundedFile } from '../../config/bounded-read.js';
import { dirname } from 'node:path';
import type { CatalogRecord } from './catalog.js';

export interface BackupMetrics {
  cluster: string;
  /** Seconds since the epoch; 0 when no backup ever succeeded (so `time() - x` alerts fire). */
  lastSuccessTimestampSeconds: number;
  lastAttemptTimestampSeconds: number;
  lastAttemptSuccess: 0 | 1;
  lastDurationSeconds: number;
  lastSizeBytes: number;
  lastRevision: number;
  consecutiveFailures: number;
}

const DEFINITIONS: { key: keyof Omit<BackupMetrics, 'cluster'>; name: string; help: string }[] = [
  {
    key: 'lastSuccessTimestampSeconds',
    name: 'orchestrate_backup_last_success_timestamp_seconds',
    help: 'End time of the last backup whose snapshot was written and verified (0: never).',
  },
  {
    key: 'lastAttemptTimestampSeconds',
    name: 'orchestrate_backup_last_attempt_timestamp_seconds',
    help: 'End time of the last backup attempt, successful or not.',
  },
  {
    key: 'lastAttemptSuccess',
    name: 'orchestrate_backup_last_attempt_success',
    help: '1 if the last backup attempt produced a verified snapshot, else 0.',
  },
  { key: 'lastDurationSeconds', name: 'orchestrate_backup_last_duration_seconds', help: 'Wall time of the last backup attempt.' },
  { key: 'lastSizeBytes', name: 'orchestrate_backup_last_size_bytes', help: 'Size of the last verified snapshot.' },
  { key: 'lastRevision', name: 'orchestrate_backup_last_revision', help: 'etcd revision of the last verified snapshot.' },
  { key: 'consecutiveFailures', name: 'orchestrate_backup_consecutive_failures', help: 'Failed attempts since the last successful one.' },
];

const seconds = (iso: string) => Math.round(Date.parse(iso) / 1000);

/** The metrics after the records of one cluster (oldest first, as in the catalog). */
export function metricsFromRecords(cluster: string, records: readonly CatalogRecord[]): BackupMetrics {
  const ours = records.filter((r) => r.cluster === cluster && !r.rebuilt);
  const last = ours.at(-1);
  const lastOk = [...ours].reverse().find((r) => r.result === 'ok');
  let consecutiveFailures = 0;
  for (let i = ours.length - 1; i >= 0 && ours[i]?.result === 'failed'; i--) consecutiveFailures++;
  return {
    cluster,
    lastSuccessTimestampSeconds: lastOk ? seconds(lastOk.end) : 0,
    lastAttemptTimestampSeconds: last ? seconds(last.end) : 0,
    lastAttemptSuccess: last?.result === 'ok' ? 1 : 0,
    lastDurationSeconds: last ? Math.round(last.durationMs) / 1000 : 0,
    lastSizeBytes: lastOk?.size ?? 0,
    lastRevision: lastOk?.revision ?? 0,
    consecutiveFailures,
  };
}

export function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** Text format; `others` are sample lines of other clusters to keep, by metric name. */
export function renderMetrics(metrics: BackupMetrics, others: Map<string, string[]> = new Map()): string {
  const label = `cluster="${escapeLabelValue(metrics.cluster)}"`;
  const lines: string[] = [];
  for (const { key, name, help } of DEFINITIONS) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    const samples = [...(others.get(name) ?? []), `${name}{${label}} ${metrics[key]}`];
    lines.push(...samples.sort());
  }
  return `${lines.join('\n')}\n`;
}

/** Sample lines of clusters other than `cluster` in an existing metrics file, by metric name. */
export function otherClusterSamples(text: string, cluster: string): Map<string, string[]> {
  const ours = `cluster="${escapeLabelValue(cluster)}"`;
  const known = new Set(DEFINITIONS.map((d) => d.name));
  const others = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} \S+$/.exec(line);
    const name = match?.[1];
    if (name === undefined || !known.has(name) || match?.[2] === ours) continue;
    const list = others.get(name) ?? [];
    list.push(line);
    others.set(name, list);
  }
  return others;
}

/** Write the metrics atomically (`<file>.tmp`, rename). World-readable: the collector often runs as another user. */
export async function writeMetricsFile(file: string, metrics: BackupMetrics): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  // Bounded: backup_metrics_file naming a device or FIFO must fail, not hang or get replaced by a file.
  const existing = await readBoundedFile(file, CONFIG_FILE_LIMIT).then(
    (bytes) => bytes.toString('utf8'),
    (error: unknown) => {
      if (error instanceof FileReadError && error.errno === 'ENOENT') return '';
      throw new Error(`cannot write the metrics file ${file}: ${error instanceof FileReadError ? error.reason : String(error)}`);
    },
  );
  const text = renderMetrics(metrics, otherClusterSamples(existing, metrics.cluster));
  // A fresh random name, created exclusively: a textfile-collector folder is often shared, and a planted
  // `<file>.tmp` symlink must not make us write through it.
  const temp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temp, text, { mode: 0o644, flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return text;
}
