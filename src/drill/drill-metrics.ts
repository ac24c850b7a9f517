// Drill metrics for node_exporter's textfile collector, in a file of their own beside the backup metrics
// (`orchestrate_drill.prom`; the backup writer rewrites its file with its own metric names only). Written
// atomically; samples of other clusters in the file are kept.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { escapeLabelValue } from '../etcd/backup/metrics.js';
import { CONFIG_FILE_LIMIT, FileReadError, readBoundedFile } from '../config/bounded-read.js';
import type { DrillRecord } from './drill-catalog.js';

export interface DrillMetrics {
  cluster: string;
  /** End of the last drill that passed (0: never), seconds since the epoch. */
  lastSuccessTimestampSeconds: number;
  lastAttemptTimestampSeconds: number;
  lastAttemptSuccess: 0 | 1;
  /** Wall time of the last drill. */
  durationSeconds: number;
  /** The snapshot the last passing drill proved: its revision and when it was taken. */
  provenRevision: number;
  provenSnapshotTimestampSeconds: number;
  provenSnapshot: string;
}

const seconds = (iso: string | undefined) => (iso ? Math.round(Date.parse(iso) / 1000) : 0);

export function drillMetricsFromRecords(cluster: string, records: readonly DrillRecord[]): DrillMetrics {
  const ours = records.filter((r) => r.cluster === cluster);
  const last = ours.at(-1);
  const ok = [...ours].reverse().find((r) => r.result === 'ok');
  return {
    cluster,
    lastSuccessTimestampSeconds: seconds(ok?.end),
    lastAttemptTimestampSeconds: seconds(last?.end),
    lastAttemptSuccess: last?.result === 'ok' ? 1 : 0,
    durationSeconds: last ? Math.round(last.durationMs) / 1000 : 0,
    provenRevision: ok?.snapshot.revision ?? 0,
    provenSnapshotTimestampSeconds: seconds(ok?.snapshot.takenAt),
    provenSnapshot: ok ? basename(ok.snapshot.file) : '',
  };
}

const GAUGES: { key: keyof Omit<DrillMetrics, 'cluster' | 'provenSnapshot'>; name: string; help: string }[] = [
  {
    key: 'lastSuccessTimestampSeconds',
    name: 'orchestrate_drill_last_success_timestamp_seconds',
    help: 'End time of the last drill that restored a snapshot and passed every check (0: never).',
  },
  {
    key: 'lastAttemptTimestampSeconds',
    name: 'orchestrate_drill_last_attempt_timestamp_seconds',
    help: 'End time of the last drill, passed or not.',
  },
  { key: 'lastAttemptSuccess', name: 'orchestrate_drill_last_attempt_success', help: '1 if the last drill passed, else 0.' },
  { key: 'durationSeconds', name: 'orchestrate_drill_duration_seconds', help: 'Wall time of the last drill.' },
  {
    key: 'provenRevision',
    name: 'orchestrate_drill_proven_snapshot_revision',
    help: 'etcd revision of the snapshot the last passing drill restored.',
  },
  {
    key: 'provenSnapshotTimestampSeconds',
    name: 'orchestrate_drill_proven_snapshot_timestamp_seconds',
    help: 'When the snapshot the last passing drill restored was taken: the newest point known to be restorable.',
  },
];
const INFO = {
  name: 'orchestrate_drill_proven_snapshot_info',
  help: 'The snapshot the last passing drill restored (value 1; the file in the label).',
};
const KNOWN = new Set([...GAUGES.map((g) => g.name), INFO.name]);

export function renderDrillMetrics(metrics: DrillMetrics, otherLines: string[] = []): string {
  const label = `cluster="${escapeLabelValue(metrics.cluster)}"`;
  const lines: string[] = [];
  const others = (name: string) => otherLines.filter((l) => l.startsWith(`${name}{`));
  for (const { key, name, help } of GAUGES) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...[...others(name), `${name}{${label}} ${metrics[key]}`].sort());
  }
  const info = metrics.provenSnapshot ? [`${INFO.name}{${label},snapshot="${escapeLabelValue(metrics.provenSnapshot)}"} 1`] : [];
  lines.push(`# HELP ${INFO.name} ${INFO.help}`, `# TYPE ${INFO.name} gauge`, ...[...others(INFO.name), ...info].sort());
  return `${lines.join('\n')}\n`;
}

/** Sample lines of other clusters in an existing file. */
export function otherClusterLines(text: string, cluster: string): string[] {
  const ours = `cluster="${escapeLabelValue(cluster)}"`;
  return text.split('\n').filter((line) => {
    const match = /^([a-z_]+)\{(.*)\} \S+$/.exec(line);
    if (!match?.[1] || !KNOWN.has(match[1])) return false;
    return !(match[2] === ours || match[2]?.startsWith(`${ours},`));
  });
}

/** `<folder of the backup metrics file>/orchestrate_drill.prom`. */
export function drillMetricsFile(backupMetricsFile: string): string {
  return join(dirname(backupMetricsFile), 'orchestrate_drill.prom');
}

export async function writeDrillMetrics(file: string, metrics: DrillMetrics): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  // Bounded and non-blocking: a metrics path naming a FIFO or a device fails instead of hanging.
  const existing = await readBoundedFile(file, CONFIG_FILE_LIMIT).then(
    (bytes) => bytes.toString('utf8'),
    (error: unknown) => {
      if (error instanceof FileReadError && error.errno === 'ENOENT') return '';
      throw new Error(`cannot write the drill metrics file ${file}: ${error instanceof FileReadError ? error.reason : String(error)}`);
    },
  );
  const text = renderDrillMetrics(metrics, otherClusterLines(existing, metrics.cluster));
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
