// `etcd.record`: append the attempt, good or failed, to the catalog kept apart from the snapshots, with
// where its snapshot lives (local, both) and its remote copy. A catalog that cannot be written is a
// warning: it never turns a good backup into a failed one.
import { buildRecord, recordAttempt } from '../../etcd/backup/backup-flow.js';
import { backupLocations } from '../../etcd/backup/locations.js';
import { defineModule } from '../define.js';
import { call } from '../plan-steps.js';
import { backupAttempt } from './backup-attempt.js';

export const etcdRecordModule = defineModule({
  id: 'etcd.record',
  meta: { runsOn: 'deploy-host' },
  schema: { type: 'object', properties: {}, additionalProperties: false },
  async *plan(ctx) {
    const locations = backupLocations(
      ctx.inventory,
      typeof ctx.vars.backup_metrics_file === 'string' ? { metricsFile: ctx.vars.backup_metrics_file } : {},
    );
    const attempt = backupAttempt(ctx);
    const record = buildRecord({
      cluster: locations.cluster,
      start: attempt.startedAt,
      ...(attempt.survey ? { survey: attempt.survey } : {}),
      ...(attempt.taken ? { taken: attempt.taken } : {}),
      ...(attempt.accepted ? { accepted: attempt.accepted } : {}),
      ...(attempt.remote ? { remote: attempt.remote } : {}),
      ...(attempt.error !== undefined ? { error: attempt.error } : !attempt.accepted ? { error: 'the snapshot was not verified' } : {}),
    });
    const written = yield* call(
      `append the ${ctx.dryRun ? '' : `${record.result} `}attempt to the catalog ${locations.catalogFile} (fsync)`,
      false,
      () => recordAttempt(locations, record),
    );
    if (!written) return { changed: false };
    attempt.record = record;
    if (written.warning) attempt.recordWarning = written.warning;
    const summary = record.result === 'ok' ? `ok: ${record.file ?? ''}` : `failed: ${record.error ?? ''}`;
    const result = { record, catalog: locations.catalogFile, written: written.written, ...(written.warning ? { warning: written.warning } : {}) };
    return { changed: written.written, msg: written.warning ? `${summary} (${written.warning})` : summary, result };
  },
});
