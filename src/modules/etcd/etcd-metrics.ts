// `etcd.metrics`: write the freshness metrics (Prometheus text format, node_exporter textfile
// collector) after every attempt, so a backup that silently stops shows up as an ageing timestamp.
import { backupLocations } from '../../etcd/backup/locations.js';
import { updateMetrics } from '../../etcd/backup/backup-flow.js';
import { defineModule } from '../define.js';
import { call } from '../plan-steps.js';
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
    const written = (yield* call(`write freshness metrics to ${locations.metricsFile} (via ${locations.metricsFile}.tmp and rename)`, false, () => updateMetrics(locations, latest)));
    if (!written) return { changed: true };
    const m = written.metrics;
    return {
      changed: true,
      msg: `${locations.metricsFile}: last success ${m.lastSuccessTimestampSeconds ? new Date(m.lastSuccessTimestampSeconds * 1000).toISOString() : 'never'}, consecutive failures ${m.consecutiveFailures}`,
      result: { metrics_file: locations.metricsFile, metrics: m },
    };
  },
});
