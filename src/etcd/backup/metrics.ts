// Freshness metrics in Prometheus text format for node_exporter's textfile collector: written to
// `<file>.tmp` and renamed, so the collector never reads half a file. Samples of other clusters
// already in the file are kept, so several inventories can share one file.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { CONFIG_FILE_LIMIT, FileReadError, readBoundedFile } from '../../config/bounded-read.js';
import { dirname } from 'node:path';
import { hasVerifiedSnapshot, type CatalogRecord } from './catalog.js';

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

/**
 * More gauges written into the same file for the same cluster (the remote copy's): `value` undefined
 * writes no sample of ours, but other clusters' samples of that name are still kept.
 */
export interface MetricFamily {
  name: string;
  help: string;
  value?: number;
}

const seconds = (iso: string) => Math.round(Date.parse(iso) / 1000);

/**
 * The metrics after the records of one cluster (oldest first, as in the catalog). These gauges are about
 * the snapshot on the deploy host: an attempt whose snapshot verified here counts as a success even when
 * its remote copy failed (the orchestrate_backup_remote_* gauges count that).
 */
export function metricsFromRecords(cluster: string, records: readonly CatalogRecord[]): BackupMetrics {
  const ours = records.filter((r) => r.cluster === cluster && !r.rebuilt);
  const last = ours.at(-1);
  const lastOk = [...ours].reverse().find(hasVerifiedSnapshot);
  let consecutiveFailures = 0;
  for (const record of [...ours].reverse()) {
    if (hasVerifiedSnapshot(record)) break;
    consecutiveFailures++;
  }
  return {
    cluster,
    lastSuccessTimestampSeconds: lastOk ? seconds(lastOk.end) : 0,
    lastAttemptTimestampSeconds: last ? seconds(last.end) : 0,
    lastAttemptSuccess: last && hasVerifiedSnapshot(last) ? 1 : 0,
    lastDurationSeconds: last ? Math.round(last.durationMs) / 1000 : 0,
    lastSizeBytes: lastOk?.size ?? 0,
    lastRevision: lastOk?.revision ?? 0,
    consecutiveFailures,
  };
}

export function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** Text format; `others` are sample lines of other clusters to keep, by metric name; `extra` more gauges of ours. */
export function renderMetrics(metrics: BackupMetrics, others: Map<string, string[]> = new Map(), extra: readonly MetricFamily[] = []): string {
  const label = `cluster="${escapeLabelValue(metrics.cluster)}"`;
  const families: MetricFamily[] = [...DEFINITIONS.map(({ key, name, help }) => ({ name, help, value: metrics[key] })), ...extra];
  const lines: string[] = [];
  for (const { name, help, value } of families) {
    const samples = [...(others.get(name) ?? []), ...(value === undefined ? [] : [`${name}{${label}} ${value}`])];
    // A family nobody has a sample of is left out (no remote configured in any cluster of the file).
    if (samples.length === 0) continue;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples.sort());
  }
  return `${lines.join('\n')}\n`;
}

/** Sample lines of clusters other than `cluster` in an existing metrics file, by metric name (ours and `extraNames`). */
export function otherClusterSamples(text: string, cluster: string, extraNames: readonly string[] = []): Map<string, string[]> {
  const ours = `cluster="${escapeLabelValue(cluster)}"`;
  const known = new Set([...DEFINITIONS.map((d) => d.name), ...extraNames]);
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
export async function writeMetricsFile(file: string, metrics: BackupMetrics, extra: readonly MetricFamily[] = []): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  // Bounded: backup_metrics_file naming a device or FIFO must fail, not hang or get replaced by a file.
  const existing = await readBoundedFile(file, CONFIG_FILE_LIMIT).then(
    (bytes) => bytes.toString('utf8'),
    (error: unknown) => {
      if (error instanceof FileReadError && error.errno === 'ENOENT') return '';
      throw new Error(`cannot write the metrics file ${file}: ${error instanceof FileReadError ? error.reason : String(error)}`);
    },
  );
  const extraNames = extra.map((family) => family.name);
  const text = renderMetrics(metrics, otherClusterSamples(existing, metrics.cluster, extraNames), extra);
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
