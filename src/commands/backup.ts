// `orchestrate backup INVENTORY`: run playbooks/backup.yml through the engine and report the outcome.
import { resolve } from 'node:path';
import { ConfigError, ExitCode, UsageError } from '../errors.js';
import { packagePath } from '../package-root.js';
import { connectionOptions, helpOption, parseCommandLine, positiveInteger, singleArgument, withInterrupts } from './command-line.js';
import type { CatalogRecord } from '../etcd/backup/catalog.js';
import type { DrillResult } from '../drill/drill-types.js';
import type { OutputMode } from '../engine/types.js';
import type { OpenRemoteOptions } from '../remote/remote-backups.js';
import type { LoadInventoryOptions } from '../config/inventory.js';
import type { Inventory, Vars } from '../config/types.js';
import type { BackupLocations } from '../etcd/backup/locations.js';
import { acceptNewHostKeys, ansibleDefaults, inventoryArgument } from './ansible-defaults.js';

const usage = `usage: orchestrate backup [INVENTORY] [options]

INVENTORY is a YAML or INI inventory, or a folder holding one: a kubeasz cluster folder such as
/etc/kubeasz/clusters/k8s-01 (its hosts and config.yml; snapshots go to its backup/ folder). Without
it, inventory in ansible.cfg.

Takes a verified etcd snapshot on this host: finds a healthy member (a follower if possible), streams
a snapshot through the etcd client, verifies it, names it snapshot_<UTC time>_rev<revision>.db in
backup_dir, points snapshot.db at it, copies it to backup_remote (S3, age-encrypted, checked on the
server) when the inventory sets one, records the attempt in the catalog and writes freshness metrics.
The steps are playbooks/backup.yml.

options:
  -n, --dry-run            print every step; only read-only status calls are made
      --json               print one JSON object with the outcome on stdout (for CI)
      --metrics-file FILE  Prometheus textfile to write (default: backup_metrics_file, else
                           <inventory dir>/.orchestrate/metrics/orchestrate_backup.prom)
      --method M           client (default: etcd client from this host) or etcdctl (on a member, over SSH)
      --playbook FILE      run your copy of playbooks/backup.yml (its phases keep their tags)
      --drill              prove the new snapshot restores (orchestrate drill) right after it verifies;
                           a failed drill fails the run, the snapshot stays recorded
  -e, --extra-vars VARS    key=value, JSON/YAML mapping or @file (e.g. backup_keep_last=14)
      --accept-new-host-keys  for --method etcdctl: trust and record host keys not seen before
                           (also when ansible.cfg says host_key_checking = False)
      --known-hosts FILE   known hosts file (default ~/.ssh/known_hosts)
      --connect-timeout S  for --method etcdctl: seconds to connect to each host (default: timeout
                           in ansible.cfg, else 10)
      --ssh-config FILE    for --method etcdctl: this ssh_config instead of ~/.ssh/config (like ssh -F)
  -h, --help               this text

exit codes: 0 a verified snapshot was written (and its remote copy verified, with backup_remote),
            2 configuration or usage error, or no S3 credentials found (nothing ran),
            3 the backup failed (recorded, metrics updated); when only the remote copy failed, the
              verified local snapshot is kept and recorded as local-only, 5 refused, 130 interrupted
`;

export const backupPlaybookPath = packagePath('playbooks', 'backup.yml');

export interface BackupOutcome {
  ok: boolean;
  dryRun: boolean;
  exitCode: number;
  record?: CatalogRecord;
  catalog: string;
  metricsFile: string;
  warning?: string;
}

export async function backupCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('backup', args, {
    'dry-run': { type: 'boolean', short: 'n' },
    json: { type: 'boolean' },
    'metrics-file': { type: 'string' },
    method: { type: 'string' },
    playbook: { type: 'string' },
    drill: { type: 'boolean' },
    'extra-vars': { type: 'string', short: 'e', multiple: true },
    ...connectionOptions,
    ...helpOption,
  });
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  if (positionals.length > 1) singleArgument(positionals, 'inventory', 'orchestrate backup INVENTORY');
  if (values.method !== undefined && values.method !== 'client' && values.method !== 'etcdctl') {
    throw new UsageError(`--method must be client or etcdctl, not "${values.method}"`);
  }
  const defaults = await ansibleDefaults();
  const inventoryFile = await inventoryArgument(positionals[0], defaults.settings, 'orchestrate backup INVENTORY');
  const connectTimeout =
    values['connect-timeout'] === undefined ? defaults.settings.timeout?.value : positiveInteger(values['connect-timeout'], '--connect-timeout');
  const viaSsh = values.method === 'etcdctl';

  const outcome = await runBackup({
    inventoryFile,
    playbook: values.playbook ?? backupPlaybookPath,
    dryRun: values['dry-run'] === true,
    output: values.json ? 'silent' : 'auto',
    extraVarsText: values['extra-vars'] ?? [],
    inventoryOptions: defaults.inventoryOptions,
    acceptNewHostKeys: viaSsh
      ? acceptNewHostKeys(values['accept-new-host-keys'] === true, defaults.hostKeys)
      : values['accept-new-host-keys'] === true,
    ...(defaults.settings.forks ? { forks: defaults.settings.forks.value } : {}),
    ...(values['metrics-file'] !== undefined ? { metricsFile: values['metrics-file'] } : {}),
    ...(values.method !== undefined ? { method: values.method } : {}),
    ...(values['known-hosts'] !== undefined ? { knownHostsFile: values['known-hosts'] } : {}),
    ...(values['ssh-config'] !== undefined ? { sshConfigFile: values['ssh-config'] } : {}),
    ...(connectTimeout !== undefined ? { connectTimeoutMs: connectTimeout * 1000 } : {}),
  });
  if (!values.json) printOutcome(outcome);
  // --drill: the new snapshot proven restorable at once; a failed drill fails the run (the snapshot stays recorded).
  const drill =
    values.drill === true && outcome.ok && !outcome.dryRun && outcome.record?.file
      ? await drillNewSnapshot(inventoryFile, outcome.record.file, values.json === true)
      : undefined;
  if (values.json) process.stdout.write(`${JSON.stringify({ ...outcome, ...(drill ? { drill } : {}) })}\n`);
  return drill && drill.exitCode !== ExitCode.ok ? drill.exitCode : outcome.exitCode;
}

async function drillNewSnapshot(inventoryFile: string, snapshot: string, json: boolean): Promise<DrillResult> {
  const { loadInventory } = await import('../config/inventory.js');
  const { drillSnapshot } = await import('../drill/drill-run.js');
  const { formatDrillEvent, formatDrillResult } = await import('../drill/drill-text.js');
  const { inventory } = await loadInventory(resolve(inventoryFile), { requireEtcd: true });
  const result = await withInterrupts(
    {
      first: 'interrupted: stopping the drill members and removing their folder',
      second: 'interrupted again: killing the drill members and exiting',
    },
    (signal) => drillSnapshot({ inventory, signal, snapshot, ...(json ? {} : { emit: (event) => process.stdout.write(formatDrillEvent(event)) }) }),
  );
  if (!json) process.stdout.write(formatDrillResult(result));
  return result;
}

function printOutcome(outcome: BackupOutcome): void {
  const r = outcome.record;
  if (outcome.dryRun) {
    process.stdout.write(`dry run: nothing was written (catalog ${outcome.catalog}, metrics ${outcome.metricsFile})\n`);
    return;
  }
  if (outcome.warning) process.stderr.write(`warning: ${outcome.warning}\n`);
  if (outcome.ok && r) {
    const size = r.size !== undefined ? `${(r.size / 1024 / 1024).toFixed(1)} MiB` : '?';
    process.stdout.write(
      `backup ok: ${r.file}\n  revision ${r.revision}, ${r.keys} keys, ${size}, sha256 ${r.sha256}\n  from ${r.member} (${r.method}) in ${(r.durationMs / 1000).toFixed(1)}s; recorded in ${outcome.catalog}; metrics ${outcome.metricsFile}\n`,
    );
    if (r.remote) {
      const stored = r.remote.size !== undefined ? `${(r.remote.size / 1024 / 1024).toFixed(1)} MiB` : '?';
      process.stdout.write(
        `  remote copy: ${r.remote.url} (${r.remote.encrypted ? 'age-encrypted' : 'NOT encrypted'}, ${stored}, verified by ${r.remote.verifiedBy ?? '?'})\n`,
      );
    }
    return;
  }
  process.stderr.write(
    `error: backup failed: ${r?.error ?? 'see the task output above'}\n  the failed attempt is recorded in ${outcome.catalog}; metrics ${outcome.metricsFile}\n`,
  );
}

export interface RunBackupOptions {
  inventoryFile: string;
  /** ansible.cfg's defaults for the inventory (remote_user, private_key_file). */
  inventoryOptions?: LoadInventoryOptions;
  /** Hosts worked on at once (ansible.cfg's forks). */
  forks?: number;
  playbook?: string;
  dryRun?: boolean;
  output?: OutputMode;
  extraVarsText?: string[];
  metricsFile?: string;
  method?: 'client' | 'etcdctl';
  acceptNewHostKeys?: boolean;
  knownHostsFile?: string;
  /** `--ssh-config`: like ssh -F. */
  sshConfigFile?: string;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  /** How backup_remote is opened (a transfer policy, an environment); the defaults are the product's. */
  remote?: OpenRemoteOptions;
}

/**
 * Load and check the inventory, run the backup playbook, and read the attempt's record back from the
 * run. If the run ended before the record task (interrupted, an engine error), the failed attempt is
 * recorded here and the metrics written, so silence is never mistaken for success.
 */
export async function runBackup(options: RunBackupOptions): Promise<BackupOutcome> {
  const { loadInventory } = await import('../config/inventory.js');
  const { formatProblems } = await import('../config/format-problems.js');
  const { backupLocations } = await import('../etcd/backup/locations.js');

  const loaded = await loadInventory(resolve(options.inventoryFile), { ...options.inventoryOptions, requireEtcd: true });
  for (const warning of loaded.warnings) process.stderr.write(formatProblems([warning]));
  const { inventory } = loaded;
  // Refuses a catalog inside backup_dir before anything runs.
  const locations = backupLocations(inventory, options.metricsFile ? { metricsFile: options.metricsFile } : {});
  const extraVars = await backupExtraVars(options, inventory, locations.metricsFile);
  const base = { catalog: locations.catalogFile, metricsFile: locations.metricsFile };
  // Two backups of a cluster at once would prune and repoint snapshot.db under each other: the second refuses.
  // A backup and a restore of the same cluster exclude each other too (the cluster lock beside the journal).
  // Taken after every check of the settings, so that a refused configuration leaves no file behind.
  const remote = await prepareRemote(options, inventory, locations);
  const { acquireBackupLocks } = await import('../etcd/restore/run-lock.js');
  const locks = options.dryRun
    ? []
    : await acquireBackupLocks(inventory.dir, locations.cluster, locations.catalogFile).catch((error: unknown) => {
        remote.remote?.close();
        throw error;
      });
  for (const note of locks.flatMap((lock) => lock.notes)) process.stderr.write(`warning: ${note}\n`);
  try {
    return await backupLocked({ options, inventory, locations, extraVars, base, remote });
  } finally {
    for (const lock of locks.reverse()) await lock.release();
  }
}

/** backup_remote: settings, the playbook's copy task and credentials, before any host is touched. */
async function prepareRemote(options: RunBackupOptions, inventory: Inventory, locations: BackupLocations) {
  const { prepareBackupRemote } = await import('./backup-remote.js');
  return prepareBackupRemote(inventory, locations, options.playbook ?? backupPlaybookPath, {
    ...(options.output === 'silent' ? {} : { onEvent: (message: string) => process.stderr.write(`remote copy: ${message}\n`) }),
    ...(options.remote ? { open: options.remote } : {}),
  });
}

async function backupLocked({
  options,
  inventory,
  locations,
  extraVars,
  base,
  remote,
}: {
  options: RunBackupOptions;
  inventory: Inventory;
  locations: BackupLocations;
  extraVars: Record<string, unknown>;
  base: { catalog: string; metricsFile: string };
  remote: Awaited<ReturnType<typeof prepareRemote>>;
}): Promise<BackupOutcome> {
  const { runPlaybook } = await import('../engine/index.js');
  const { RunState } = await import('../modules/run-state.js');
  const { backupAttemptKey } = await import('../modules/etcd/backup-attempt.js');
  const { buildRecord, recordAttempt, updateMetrics } = await import('../etcd/backup/backup-flow.js');
  const start = new Date().toISOString();

  const recordFailure = async (error: string): Promise<BackupOutcome> => {
    const record = buildRecord({ cluster: locations.cluster, start, error });
    const written = await recordAttempt(locations, record);
    await updateMetrics(locations, record, await remote.metricFamilies().catch(() => [])).catch(() => undefined);
    return { ok: false, dryRun: false, exitCode: ExitCode.failed, record, ...base, ...(written.warning ? { warning: written.warning } : {}) };
  };

  const notices = { first: 'interrupted: stopping the backup (Ctrl-C again to exit at once)', second: 'interrupted again: exiting now' };
  const state = new RunState();
  const { provideRemoteBackups } = await import('../modules/etcd/remote-access.js');
  provideRemoteBackups(state, remote.remote);
  let summary;
  try {
    summary = await withInterrupts(
      notices,
      (signal) =>
        runPlaybook({
          inventory,
          playbook: remote.playbook,
          extraVars,
          dryRun: options.dryRun ?? false,
          output: options.output ?? 'auto',
          acceptNewHostKeys: options.acceptNewHostKeys ?? false,
          signal,
          state,
          // A failed phase ends the attempt; it is still recorded and counted.
          phased: { policy: { runsAfterFailure: (phase) => phase === 'record' || phase === 'metrics' } },
          ...(options.forks ? { forks: options.forks } : {}),
          ...(options.knownHostsFile ? { knownHostsFile: options.knownHostsFile } : {}),
          ...(options.sshConfigFile !== undefined ? { sshConfigFile: options.sshConfigFile } : {}),
          ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        }),
      options.signal,
    );
  } catch (error) {
    if (error instanceof ConfigError || options.dryRun) throw error;
    await recordFailure(`the backup run stopped: ${(error as Error).message}`);
    throw error;
  } finally {
    remote.remote?.close();
  }

  if (summary.dryRun) return { ok: summary.exitCode === ExitCode.ok, dryRun: true, exitCode: summary.exitCode, ...base };
  const attempt = state.peek(backupAttemptKey);
  const record = attempt?.record;
  if (!record) {
    const why = summary.interrupted ? 'interrupted' : 'the run ended before the attempt was recorded';
    const outcome = await recordFailure(why);
    return { ...outcome, exitCode: summary.interrupted ? ExitCode.interrupted : outcome.exitCode };
  }
  const ok = record.result === 'ok';
  return {
    ok,
    dryRun: false,
    // A run that failed elsewhere keeps its own code; a clean run whose attempt failed is a failure.
    exitCode: summary.exitCode !== ExitCode.ok ? summary.exitCode : ok ? ExitCode.ok : ExitCode.failed,
    record,
    ...base,
    ...(attempt.recordWarning ? { warning: attempt.recordWarning } : {}),
  };
}

/**
 * The run's extra vars: how etcd is reached, the operator's -e values, the metrics file and the snapshot
 * method. Without a client certificate here, etcd is asked on the members (etcdctl over SSH, their own
 * certificates), so the method defaults to etcdctl unless the inventory names one.
 */
async function backupExtraVars(options: RunBackupOptions, inventory: Inventory, metricsFile: string): Promise<Vars> {
  const { etcdAccess } = await import('../config/etcd-vars.js');
  const { parseExtraVars } = await import('../engine/index.js');
  const access = etcdAccess(inventory);
  const configuredMethod = inventory.hosts.get(inventory.groups.get('etcd')?.[0] ?? '')?.vars.backup_method;
  const method = options.method ?? (configuredMethod === undefined ? (access === 'ssh' ? 'etcdctl' : 'client') : undefined);
  return {
    backup_etcd_access: access,
    ...(await parseExtraVars(options.extraVarsText ?? [])),
    ...(options.metricsFile ? { backup_metrics_file: metricsFile } : {}),
    ...(method ? { backup_method: method } : {}),
  };
}
