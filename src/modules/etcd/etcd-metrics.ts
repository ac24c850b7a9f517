// `etcd.metrics`: write the freshness metrics (Prometheus text format, node_exporter textfile
// collector) after every attempt, so a backup that silently stops shows up as an ageing timestamp.
import { backupLocations } from '../../backup/locations.js';
import { updateMetrics } from '../../backup/backup-flow.js';
import type { CatalogRecord } from '../../backup/catalog.js';
import { defineModule } from '../define.js';
import { asRegistered } from './registered.js';

export interface EtcdMetricsArgs {
  /** The registered result of etcd.record (used if the catalog could not be written). */
  record?: Record<string, unknown>;
  /** Default: `backup_metrics_file`, else <inventory dir>/.orchestrate/metrics/orchestrate_backup.prom. */
  path?: string;
}

export const etcdMetricsModule = defineModule<EtcdMetricsArgs>({
  id: 'etcd.metrics',
  local: true,
  schema: {
    type: 'object',
    properties: { record: { type: 'object' }, path: { type: 'string', minLength: 1 } },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const override = args.path ?? (typeof ctx.vars.backup_metrics_file === 'string' ? ctx.vars.backup_metrics_file : undefined);
    const locations = backupLocations(ctx.inventory, override ? { metricsFile: override } : {});
    const latest = asRegistered(asRegistered(args.record)?.record) as CatalogRecord | undefined;
    const written = (yield {
      kind: 'call',
      description: `write freshness metrics to ${locations.metricsFile} (via ${locations.metricsFile}.tmp and rename)`,
      readOnly: false,
      run: () => updateMetrics(locations, latest),
    }) as Awaited<ReturnType<typeof updateMetrics>> | undefined;
    if (!written) return { changed: true };
    const m = written.metrics;
    return {
      changed: true,
      msg: `${locations.metricsFile}: last success ${m.lastSuccessTimestampSeconds ? new Date(m.lastSuccessTimestampSeconds * 1000).toISOString() : 'never'}, consecutive failures ${m.consecutiveFailures}`,
      result: { metrics_file: locations.metricsFile, metrics: m },
    };
  },
});
