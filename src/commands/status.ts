// `orchestrate status INVENTORY [--max-age 6h] [--require-all-members]`: member health, quorum and the
// age of the newest verified backup. Exits 7 when the cluster itself is unhealthy (no quorum, split
// brain) and 6 when that backup is older than --max-age or there is none, so a cron job or a CI
// schedule fails loudly when the cluster breaks or backups silently stop.
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { connectionOptions, helpOption, parseCommandLine, singleArgument } from './command-line.js';

const usage = `usage: orchestrate status [INVENTORY] [--max-age 24h] [--max-remote-age 24h] [--max-drill-age 7d]
                          [--require-all-members] [--json]

INVENTORY is a YAML or INI inventory or a folder holding one (a kubeasz cluster folder); without it,
inventory in ansible.cfg.

Shows each etcd member's health, the leader, revision and db size, whether the members hold quorum
and agree on one cluster, the newest snapshot that verifies (checked now) and its age, and the last
backup attempt from the catalog, and the last snapshot a drill proved restorable (orchestrate drill).
With backup_remote, the age of the newest verified remote copy too (from the remote catalog; from
the local attempt log when the remote cannot be reached).

options:
      --max-age AGE            the newest verified snapshot may be this old (6h, 30m, 2d, or seconds; default 24h)
      --max-remote-age AGE     the newest verified remote copy may be this old, else stale (exit 6); without it
                               the remote copy's age is shown, not judged
      --max-drill-age AGE      the last passing drill may be this old (e.g. 7d); without it the drill
                               is shown but not judged
      --require-all-members    any member down or not healthy, or any alarm, is unhealthy (exit 7);
                               without it these are warnings while quorum holds
      --timeout S              seconds to wait for each member (default 5)
      --known-hosts FILE       known hosts file, when etcd is asked on the members over SSH (etcd_access: ssh)
      --accept-new-host-keys   trust and record host keys not seen before (same)
      --connect-timeout S      seconds to connect to each host (same; default 10)
      --json                   one JSON object on stdout
  -h, --help                   this text

exit codes: 0 the cluster holds quorum and a verified snapshot younger than --max-age exists
            6 no verified snapshot, or too old (stale), or (with --max-remote-age) no verified remote
              copy or too old, or with --max-drill-age no passing drill that recent, and the cluster
              is healthy
            7 unhealthy: fewer than a majority of the inventory's members healthy (none answering
              included), members answering for different clusters (split brain), a NOSPACE or
              CORRUPT alarm (no writes, or members disagree on the data), or, with
              --require-all-members, any member down or any alarm; 7 wins over 6 (both are reported)
            2 configuration or usage error
`;

const DEFAULT_MAX_AGE = '24h';

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('status', args, {
    'max-age': { type: 'string' },
    'max-remote-age': { type: 'string' },
    'max-drill-age': { type: 'string' },
    'require-all-members': { type: 'boolean' },
    timeout: { type: 'string' },
    ...connectionOptions,
    json: { type: 'boolean' },
    ...helpOption,
  });
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  if (positionals.length > 1) singleArgument(positionals, 'inventory', 'orchestrate status INVENTORY [--max-age 6h]');
  const { ansibleDefaults, inventoryArgument } = await import('./ansible-defaults.js');
  const inventoryFile = await inventoryArgument(positionals[0], (await ansibleDefaults()).settings, 'orchestrate status INVENTORY [--max-age 6h]');
  const { parseDuration } = await import('../etcd/backup/format.js');
  const maxAgeText = values['max-age'] ?? DEFAULT_MAX_AGE;
  const maxAgeMs = parseDuration(maxAgeText);
  if (maxAgeMs === undefined) throw new UsageError(`--max-age must be a duration such as 6h, 30m, 2d or seconds, not "${maxAgeText}"`);
  const maxRemoteAgeText = values['max-remote-age'];
  const maxRemoteAgeMs = maxRemoteAgeText === undefined ? undefined : parseDuration(maxRemoteAgeText);
  if (maxRemoteAgeText !== undefined && maxRemoteAgeMs === undefined)
    throw new UsageError(`--max-remote-age must be a duration such as 6h, 30m, 2d or seconds, not "${maxRemoteAgeText}"`);
  const maxDrillAgeText = values['max-drill-age'];
  const maxDrillAgeMs = maxDrillAgeText === undefined ? undefined : parseDuration(maxDrillAgeText);
  if (maxDrillAgeText !== undefined && maxDrillAgeMs === undefined)
    throw new UsageError(`--max-drill-age must be a duration such as 7d, 36h or seconds, not "${maxDrillAgeText}"`);
  const timeoutSeconds = values.timeout === undefined ? 5 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new UsageError(`--timeout must be a positive number of seconds, not "${values.timeout}"`);

  const { loadInventory } = await import('../config/inventory.js');
  const { etcdMembers } = await import('../config/etcd-vars.js');
  const { backupLocations } = await import('../etcd/backup/locations.js');
  const { surveyCluster } = await import('../etcd/cluster/observe.js');
  const { newestGoodSnapshot } = await import('../etcd/backup/snapshot-inventory.js');
  const { readCatalog } = await import('../etcd/backup/catalog.js');
  const { statusReport } = await import('./status-report.js');
  const { readDrillFreshness } = await import('../drill/drill-freshness.js');
  const { inventory } = await loadInventory(resolve(inventoryFile), { requireEtcd: true });
  const locations = backupLocations(inventory);
  // backup_remote checked and opened (credentials found) before any member is asked.
  const { openStatusRemote } = await import('./status-remote.js');
  const remote = await openStatusRemote(inventory, locations, maxRemoteAgeMs !== undefined);

  // Without a client certificate here, each member is asked on the member (etcdctl over SSH, its own certificate).
  const { memberObserver, readOnlyConnection } = await import('./member-observer.js');
  const observer = await memberObserver(inventory, readOnlyConnection(values));
  const now = Date.now();
  const [survey, newest, catalog, drill, remoteInput] = await Promise.all([
    surveyCluster(etcdMembers(inventory), { timeoutMs: timeoutSeconds * 1000 }, observer.observe).finally(() => observer.close()),
    newestGoodSnapshot(locations),
    readCatalog(locations.catalogFile).catch(() => ({ records: [] as import('../etcd/backup/catalog.js').CatalogRecord[] })),
    readDrillFreshness(locations, { now, ...(maxDrillAgeMs !== undefined ? { maxAgeMs: maxDrillAgeMs, maxAgeText: maxDrillAgeText } : {}) }),
    remote?.read({ ...(maxRemoteAgeMs !== undefined && maxRemoteAgeText ? { maxAgeMs: maxRemoteAgeMs, maxAgeText: maxRemoteAgeText } : {}) }),
  ]);
  const lastAttempt = catalog.records.filter((r) => !r.rebuilt && r.cluster === locations.cluster).at(-1);
  const report = statusReport({
    cluster: locations.cluster,
    backupDir: locations.backupDir,
    survey,
    newest,
    ...(lastAttempt ? { lastAttempt } : {}),
    now,
    maxAgeMs,
    maxAgeText,
    requireAllMembers: values['require-all-members'] === true,
    drill,
    ...(remoteInput ? { remote: remoteInput } : {}),
  });
  process.stdout.write(values.json ? `${JSON.stringify(report.json)}\n` : report.text);
  return report.exitCode;
}
