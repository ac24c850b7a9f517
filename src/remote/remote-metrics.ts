// orchestrate_backup_remote_* lines for the textfile collector, from the remote-attempt log. The
// metrics writer appends them to the backup metrics (same file, same cluster label).
import { escapeLabelValue, type MetricFamily } from '../etcd/backup/metrics.js';
import { readRemoteAttempts, remoteAttemptsFile, type RemoteAttempt } from './remote-attempts.js';

export interface RemoteMetrics {
  cluster: string;
  /** End of the last verified upload, seconds since the epoch; 0: never (so `time() - x` alerts fire). */
  lastSuccessTimestampSeconds: number;
  lastAttemptTimestampSeconds: number;
  lastAttemptSuccess: 0 | 1;
  lastBytes: number;
  lastDurationSeconds: number;
  consecutiveFailures: number;
}

export const REMOTE_METRIC_DEFINITIONS: { key: keyof Omit<RemoteMetrics, 'cluster'>; name: string; help: string }[] = [
  {
    key: 'lastSuccessTimestampSeconds',
    name: 'orchestrate_backup_remote_last_success_timestamp_seconds',
    help: 'End time of the last remote copy that was uploaded and verified (0: never).',
  },
  {
    key: 'lastAttemptTimestampSeconds',
    name: 'orchestrate_backup_remote_last_attempt_timestamp_seconds',
    help: 'End time of the last remote copy attempt.',
  },
  {
    key: 'lastAttemptSuccess',
    name: 'orchestrate_backup_remote_last_attempt_success',
    help: '1 if the last remote copy attempt was uploaded and verified, else 0.',
  },
  { key: 'lastBytes', name: 'orchestrate_backup_remote_last_bytes', help: 'Bytes stored by the last verified remote copy.' },
  {
    key: 'lastDurationSeconds',
    name: 'orchestrate_backup_remote_last_duration_seconds',
    help: 'Wall time of the last remote copy attempt (upload and verification).',
  },
  {
    key: 'consecutiveFailures',
    name: 'orchestrate_backup_remote_consecutive_failures',
    help: 'Failed remote copy attempts since the last verified one.',
  },
];

const seconds = (iso: string) => Math.round(Date.parse(iso) / 1000);

export function remoteMetricsFromAttempts(cluster: string, attempts: readonly RemoteAttempt[]): RemoteMetrics {
  const ours = attempts.filter((a) => a.cluster === cluster);
  const last = ours.at(-1);
  const lastOk = [...ours].reverse().find((a) => a.result === 'ok');
  let consecutiveFailures = 0;
  for (const attempt of [...ours].reverse()) {
    if (attempt.result !== 'failed') break;
    consecutiveFailures++;
  }
  return {
    cluster,
    lastSuccessTimestampSeconds: lastOk ? seconds(lastOk.end) : 0,
    lastAttemptTimestampSeconds: last ? seconds(last.end) : 0,
    lastAttemptSuccess: last?.result === 'ok' ? 1 : 0,
    lastBytes: lastOk?.bytes ?? 0,
    lastDurationSeconds: last ? Math.round(last.durationMs) / 1000 : 0,
    consecutiveFailures,
  };
}

/** The Prometheus text for `metrics` (HELP, TYPE and one sample each), to append to the backup metrics file. */
export function renderRemoteMetrics(metrics: RemoteMetrics): string {
  const label = `cluster="${escapeLabelValue(metrics.cluster)}"`;
  const lines: string[] = [];
  for (const { key, name, help } of REMOTE_METRIC_DEFINITIONS)
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${label}} ${metrics[key]}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The remote gauges as families for the backup metrics writer: with `metrics`, this cluster's samples;
 * without (no backup_remote here), none of ours, while other clusters' samples in a shared file are kept.
 */
export function remoteMetricFamilies(metrics?: RemoteMetrics): MetricFamily[] {
  return REMOTE_METRIC_DEFINITIONS.map(({ key, name, help }) => ({ name, help, ...(metrics ? { value: metrics[key] } : {}) }));
}

/** This cluster's remote metrics from the attempt log beside the catalog: no network, no credentials. */
export async function readRemoteMetrics(catalogFile: string, cluster: string): Promise<RemoteMetrics> {
  return remoteMetricsFromAttempts(cluster, await readRemoteAttempts(remoteAttemptsFile(catalogFile, cluster)));
}
