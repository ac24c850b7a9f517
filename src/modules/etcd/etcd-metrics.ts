// `etcd.metrics`: write the freshness metrics (Prometheus text format, node_exporter textfile
// collector) after every attempt, so a backup that silently stops shows up as an ageing timestamp.
import { backupLocations } from '../../etcd/backup/locations.js';
import { updateMetrics } from '../../etcd/backup/backup-flow.js';
import { defineModule } from '../define.js';
import { call } from '../plan-steps.js';
import { remoteSettingsFor } from '../../remote/remote-backups.js';
import { readRemoteMetrics, remoteMetricFamilies } from '../../remote/remote-metrics.js';
import { backupAttemptKey } from './backup-attempt.js';

export const etcdMetricsModule = defineModule({
  id: 'etcd.metrics',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    // path: default `backup_metrics_file`, else <inventory dir>/.orchestrate/metrics/orchestrate_backup.prom.
    properties: { path: { type: 'string', minLength: 1 } },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const override = args.path ?? (typeof ctx.vars.backup_metrics_file === 'string' ? ctx.vars.backup_metrics_file : undefined);
    const locations = backupLocations(ctx.inventory, override ? { metricsFile: override } : {});
    // This run's record counts even when the catalog could not be written.
    const latest = ctx.state.peek(backupAttemptKey)?.record;
    // With backup_remote, the remote copy's gauges too (from the attempt log beside the catalog).
    const remote = remoteSettingsFor(ctx.inventory).settings !== undefined;
    const what = `write freshness metrics${remote ? ' (local and remote copies)' : ''} to ${locations.metricsFile} (via ${locations.metricsFile}.tmp and rename)`;
    const written = yield* call(what, false, async () => {
      const remoteMetrics = remote ? await readRemoteMetrics(locations.catalogFile, locations.cluster) : undefined;
      return { ...(await updateMetrics(locations, latest, remoteMetricFamilies(remoteMetrics))), remoteMetrics };
    });
    if (!written) return { changed: true };
    const m = written.metrics;
    const r = written.remoteMetrics;
    const when = (seconds: number) => (seconds ? new Date(seconds * 1000).toISOString() : 'never');
    const remoteText = r ? `; remote: last success ${when(r.lastSuccessTimestampSeconds)}, consecutive failures ${r.consecutiveFailures}` : '';
    return {
      changed: true,
      msg: `${locations.metricsFile}: last success ${when(m.lastSuccessTimestampSeconds)}, consecutive failures ${m.consecutiveFailures}${remoteText}`,
      result: { metrics_file: locations.metricsFile, metrics: m, ...(r ? { remote_metrics: r } : {}) },
    };
  },
});
