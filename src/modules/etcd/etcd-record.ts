// `etcd.record`: append the attempt, good or failed, to the catalog kept apart from the snapshots.
// A catalog that cannot be written is a warning: it never turns a good backup into a failed one.
import { backupLocations } from '../../backup/locations.js';
import { buildRecord, recordAttempt, type AttemptParts } from '../../backup/backup-flow.js';
import type { CatalogRecord } from '../../backup/catalog.js';
import { defineModule } from '../define.js';
import { outcomeOf, surveyOf, takenOf, type Registered } from './registered.js';

export interface EtcdRecordArgs {
  /** Registered results of etcd.status, the snapshot task and etcd.verify. */
  status: Record<string, unknown>;
  snapshot?: Record<string, unknown>;
  verified?: Record<string, unknown>;
}

/** Put the registered results together into the parts of an attempt. */
export function attemptFromResults(cluster: string, args: EtcdRecordArgs, now = new Date()): AttemptParts {
  const status = outcomeOf(args.status);
  const snapshot = outcomeOf(args.snapshot);
  const verified = outcomeOf(args.verified);
  const statusValue: Registered | undefined = asValue(args.status);
  const start = typeof statusValue?.started_at === 'string' ? statusValue.started_at : now.toISOString();
  const survey = statusValue ? surveyOf(statusValue) : undefined;
  const taken = snapshot.state === 'ok' ? takenOf(snapshot.value) : undefined;
  const parts: AttemptParts = { cluster, start, ...(survey ? { survey } : {}), ...(taken ? { taken } : {}) };
  const firstError = [status, snapshot, verified].find((o) => o.state === 'failed');
  if (firstError && 'msg' in firstError) return { ...parts, error: firstError.msg ?? 'failed' };
  if (verified.state !== 'ok') return { ...parts, error: 'the snapshot was not verified' };
  const v = verified.value;
  if (typeof v.file !== 'string' || typeof v.revision !== 'number') return { ...parts, error: 'the verification result is incomplete' };
  return {
    ...parts,
    accepted: {
      file: v.file,
      report: {
        ok: true,
        path: v.file,
        fileSize: Number(v.size),
        hasHash: v.has_hash === true,
        sha256: String(v.sha256),
        buckets: [],
        durationMs: 0,
        problems: [],
        status: { hash: Number(v.hash), revision: v.revision, totalKey: Number(v.keys), totalSize: Number(v.total_size) },
      },
    },
  };
}

function asValue(value: unknown): Registered | undefined {
  return typeof value === 'object' && value !== null ? (value as Registered) : undefined;
}

export const etcdRecordModule = defineModule<EtcdRecordArgs>({
  id: 'etcd.record',
  local: true,
  schema: {
    type: 'object',
    properties: { status: { type: 'object' }, snapshot: { type: 'object' }, verified: { type: 'object' } },
    required: ['status'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const locations = backupLocations(
      ctx.inventory,
      typeof ctx.vars.backup_metrics_file === 'string' ? { metricsFile: ctx.vars.backup_metrics_file } : {},
    );
    const record: CatalogRecord = buildRecord(attemptFromResults(locations.cluster, args));
    const written = (yield {
      kind: 'call',
      description: `append the ${ctx.dryRun ? '' : `${record.result} `}attempt to the catalog ${locations.catalogFile} (fsync)`,
      readOnly: false,
      run: () => recordAttempt(locations, record),
    }) as Awaited<ReturnType<typeof recordAttempt>> | undefined;
    const result = {
      record,
      catalog: locations.catalogFile,
      written: written?.written ?? false,
      ...(written?.warning ? { warning: written.warning } : {}),
    };
    const summary = record.result === 'ok' ? `ok: ${record.file}` : `failed: ${record.error}`;
    return { changed: written?.written ?? false, msg: written?.warning ? `${summary} (${written.warning})` : summary, result };
  },
});
