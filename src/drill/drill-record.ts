// After a drill: its record in the drill catalog and the drill metrics, rewritten from the whole catalog.
// A catalog or metrics file that cannot be written is a warning in the result, never a failed drill.
import type { BackupLocations } from '../etcd/backup/locations.js';
import { inventoryVar } from '../etcd/backup/locations.js';
import type { Inventory } from '../config/types.js';
import { resolve } from 'node:path';
import { appendDrillRecord, drillCatalogFile, readDrillRecords, DRILL_RECORD_FORMAT, type DrillRecord } from './drill-catalog.js';
import { drillMetricsFile, drillMetricsFromRecords, writeDrillMetrics } from './drill-metrics.js';
import type { DrillResult } from './drill-types.js';

export function drillRecordOf(result: DrillResult): DrillRecord {
  const { snapshot } = result;
  const record: DrillRecord = {
    format: DRILL_RECORD_FORMAT,
    kind: 'drill',
    id: result.id,
    cluster: result.cluster,
    start: result.startedAt,
    end: result.endedAt,
    durationMs: result.durationMs,
    result: result.ok ? 'ok' : 'failed',
    snapshot: {
      file: snapshot.path,
      ...(snapshot.sha256 ? { sha256: snapshot.sha256 } : {}),
      ...(snapshot.size !== undefined ? { size: snapshot.size } : {}),
      ...(snapshot.revision !== undefined ? { revision: snapshot.revision } : {}),
      ...(result.keys ? { keys: result.keys.snapshot } : {}),
      ...(snapshot.hasHash !== undefined ? { hasHash: snapshot.hasHash } : {}),
      ...(snapshot.takenAt ? { takenAt: snapshot.takenAt } : {}),
    },
    members: result.members.length,
    checks: result.checks.map((c) => ({ id: c.id, ok: c.ok, detail: c.detail })),
  };
  if (result.failure) {
    record.failedStage = result.failure.stage;
    record.error = result.failure.message;
  }
  if (result.tools) record.tools = `${result.tools.etcd.split(' (')[0] ?? ''}, ${result.tools.restore.split(' (')[0] ?? ''}`;
  if (result.bumpRevision !== undefined) record.bumpRevision = result.bumpRevision;
  if (result.expectedRevision !== undefined && result.ok) record.servedRevision = result.expectedRevision;
  if (result.timings.timeToQuorumMs !== undefined) record.timeToQuorumMs = result.timings.timeToQuorumMs;
  if (result.timings.timeToLastCheckMs !== undefined) record.timeToLastCheckMs = result.timings.timeToLastCheckMs;
  return record;
}

export async function recordDrill(
  locations: BackupLocations,
  result: DrillResult,
  inventory: Inventory,
): Promise<{ catalogFile: string; metricsFile: string; warning?: string }> {
  const catalogFile = drillCatalogFile(locations);
  const metricsVar = inventoryVar(inventory, 'drill_metrics_file');
  const metricsFile = metricsVar ? resolve(inventory.dir, metricsVar) : drillMetricsFile(locations.metricsFile);
  const warnings: string[] = [];
  try {
    await appendDrillRecord(catalogFile, drillRecordOf(result));
  } catch (error) {
    warnings.push(`the drill was not recorded in ${catalogFile}: ${(error as Error).message}`);
  }
  try {
    const { records } = await readDrillRecords(catalogFile);
    await writeDrillMetrics(metricsFile, drillMetricsFromRecords(locations.cluster, records));
  } catch (error) {
    warnings.push(`the drill metrics were not written: ${(error as Error).message}`);
  }
  return { catalogFile, metricsFile, ...(warnings.length ? { warning: warnings.join('; ') } : {}) };
}
