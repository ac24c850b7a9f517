// `orchestrate status INVENTORY [--max-age 6h]`: member health and the age of the newest verified
// backup. Exits 6 when that backup is older than --max-age or there is none, so a cron job or a CI
// schedule fails loudly when backups silently stop.
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { helpOption, parseCommandLine, singleArgument } from './command-line.js';

const usage = `usage: orchestrate status INVENTORY [--max-age 24h] [--json]

Shows each etcd member's health, the leader, revision and db size, the newest snapshot that verifies
(checked now) and its age, and the last backup attempt from the catalog.

options:
      --max-age AGE   the newest verified snapshot may be this old (6h, 30m, 2d, or seconds; default 24h)
      --timeout S     seconds to wait for each member (default 5)
      --json          one JSON object on stdout
  -h, --help          this text

exit codes: 0 a verified snapshot younger than --max-age exists, 6 none or too old (stale),
            2 configuration or usage error
`;

const DEFAULT_MAX_AGE = '24h';

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('status', args, {
    'max-age': { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    ...helpOption,
  });
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  const inventoryFile = singleArgument(positionals, 'inventory', 'orchestrate status INVENTORY [--max-age 6h]');
  const { parseDuration, formatAge, formatBytes, formatTable } = await import('../backup/format.js');
  const maxAgeText = values['max-age'] ?? DEFAULT_MAX_AGE;
  const maxAgeMs = parseDuration(maxAgeText);
  if (maxAgeMs === undefined) throw new UsageError(`--max-age must be a duration such as 6h, 30m, 2d or seconds, not "${maxAgeText}"`);
  const timeoutSeconds = values.timeout === undefined ? 5 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, not "${values.timeout}"`);

  const { loadInventory } = await import('../config/inventory.js');
  const { etcdMembers } = await import('../config/etcd-vars.js');
  const { backupLocations } = await import('../backup/locations.js');
  const { surveyCluster } = await import('../backup/backup-flow.js');
  const { newestGoodSnapshot } = await import('../backup/snapshot-inventory.js');
  const { readCatalog } = await import('../backup/catalog.js');
  const { inventory } = await loadInventory(resolve(inventoryFile), { requireEtcd: true });
  const locations = backupLocations(inventory);

  const [survey, newest, catalog] = await Promise.all([
    surveyCluster(etcdMembers(inventory), { timeoutMs: timeoutSeconds * 1000 }),
    newestGoodSnapshot(locations),
    readCatalog(locations.catalogFile).catch(() => ({ records: [] as import('../backup/catalog.js').CatalogRecord[] })),
  ]);
  const attempts = catalog.records.filter((r) => !r.rebuilt && r.cluster === locations.cluster);
  const lastAttempt = attempts.at(-1);
  const now = Date.now();
  const good = newest.good;
  const ageMs = good ? now - good.takenAt : undefined;
  const stale = ageMs === undefined || ageMs > maxAgeMs;
  const verdict = !good ? `no verified snapshot in ${locations.backupDir}` : stale ? `the newest verified snapshot is ${formatAge(ageMs!)} old, more than --max-age ${maxAgeText}` : `the newest verified snapshot is ${formatAge(ageMs!)} old (max ${maxAgeText})`;
  const exitCode = stale ? ExitCode.stale : ExitCode.ok;

  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        cluster: locations.cluster,
        members: survey.members,
        leader: survey.leader ?? null,
        healthy: survey.candidates.length,
        newestVerifiedSnapshot: good ? { ...good, takenAt: new Date(good.takenAt).toISOString(), ageSeconds: Math.round(ageMs! / 1000) } : null,
        rejectedSnapshots: newest.rejected.map((r) => ({ file: r.path, problems: r.problems })),
        lastAttempt: lastAttempt ?? null,
        maxAgeSeconds: maxAgeMs / 1000,
        stale,
        verdict,
        exitCode,
      })}\n`,
    );
    return exitCode;
  }

  process.stdout.write(`cluster ${locations.cluster}${survey.clusterId ? ` (id ${survey.clusterId})` : ''}: ${survey.candidates.length}/${survey.members.length} members healthy, leader ${survey.leader ?? 'none'}\n`);
  const rows = survey.members.map((m) => [
    m.name,
    m.endpoint,
    m.ok ? (m.alarms?.length ? `alarm ${m.alarms.join(',')}` : 'healthy') : 'DOWN',
    m.ok ? (m.isLeader ? 'leader' : 'follower') : '-',
    m.revision !== undefined ? String(m.revision) : '-',
    formatBytes(m.dbSize),
    m.version ?? '-',
    m.ok ? `${m.durationMs} ms` : (m.error ?? ''),
  ]);
  process.stdout.write(formatTable(['MEMBER', 'ENDPOINT', 'HEALTH', 'ROLE', 'REVISION', 'DB SIZE', 'VERSION', 'ANSWER'], rows));
  if (good) {
    process.stdout.write(`newest verified snapshot: ${good.path}\n  taken ${new Date(good.takenAt).toISOString()} (${formatAge(ageMs!)} ago), revision ${good.revision ?? '?'}, ${good.keys ?? '?'} keys, ${formatBytes(good.size)}\n`);
  }
  for (const bad of newest.rejected) process.stdout.write(`newer snapshot that FAILS verification: ${bad.path}: ${bad.problems}\n`);
  if (lastAttempt) process.stdout.write(`last attempt: ${lastAttempt.result} at ${lastAttempt.end}${lastAttempt.error ? `: ${lastAttempt.error}` : ''}\n`);
  process.stdout.write(`${stale ? 'STALE' : 'ok'}: ${verdict}\n`);
  return exitCode;
}
