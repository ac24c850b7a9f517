// What `orchestrate backup` settles about backup_remote before any host is touched: the settings checked
// (a ConfigError at file:line:col, exit 2), the playbook able to copy (an operator's older copy of
// backup.yml without etcd.remote-copy would leave every snapshot local-only without a word), the
// credentials found (exit 2 when none) and the store opened. Nothing here contacts the remote.
import { resolve } from 'node:path';
import type { Inventory, Playbook } from '../config/types.js';
import type { BackupLocations } from '../etcd/backup/locations.js';
import type { MetricFamily } from '../etcd/backup/metrics.js';
import type { OpenRemoteOptions, RemoteBackups } from '../remote/remote-backups.js';
import { ConfigError } from '../errors.js';

export const REMOTE_COPY_MODULE = 'etcd.remote-copy';

export interface BackupRemote {
  /** Undefined without backup_remote. */
  remote?: RemoteBackups;
  /** The playbook to run: loaded here when backup_remote is set (checked for the copy task). */
  playbook: string | Playbook;
  /** The remote copy's gauges for the metrics file (this cluster's samples only with backup_remote). */
  metricFamilies: () => Promise<MetricFamily[]>;
}

export interface PrepareRemoteOptions {
  /** Where retries and progress notes go (stderr in the CLI; nothing under --json). */
  onEvent?: (message: string) => void;
  /** For tests and benchmarks: a transfer policy, an environment. */
  open?: OpenRemoteOptions;
}

export async function prepareBackupRemote(
  inventory: Inventory,
  locations: BackupLocations,
  playbookFile: string,
  options: PrepareRemoteOptions = {},
): Promise<BackupRemote> {
  const { remoteSettingsFor, openRemoteBackups } = await import('../remote/remote-backups.js');
  const { remoteMetricFamilies, readRemoteMetrics } = await import('../remote/remote-metrics.js');
  const { formatProblems } = await import('../config/format-problems.js');
  const { settings, warnings } = remoteSettingsFor(inventory);
  if (warnings.length > 0) process.stderr.write(formatProblems(warnings));
  if (!settings) return { playbook: playbookFile, metricFamilies: () => Promise.resolve(remoteMetricFamilies()) };
  const playbook = await playbookWithCopy(playbookFile);
  const remote = await openRemoteBackups(inventory, locations, {
    ...options.open,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  return {
    ...(remote ? { remote } : {}),
    playbook,
    metricFamilies: async () => remoteMetricFamilies(await readRemoteMetrics(locations.catalogFile, locations.cluster)),
  };
}

/** The playbook, refused when backup_remote is set and no task of it copies to the remote. */
async function playbookWithCopy(file: string): Promise<Playbook> {
  const { loadPlaybook } = await import('../config/playbook.js');
  const { moduleCatalog } = await import('../modules/registry.js');
  const playbook = await loadPlaybook(resolve(file), moduleCatalog);
  const copies = playbook.plays.some((play) => play.tasks.some((task) => task.module === REMOTE_COPY_MODULE));
  if (copies) return playbook;
  const play = playbook.plays[0];
  throw new ConfigError([
    {
      severity: 'error',
      code: 'backup.no-remote-copy-task',
      message: `backup_remote is set in the inventory, but ${playbook.file} has no ${REMOTE_COPY_MODULE} task: every snapshot would stay on this host only`,
      hint: `add the "${REMOTE_COPY_MODULE}: {}" task of playbooks/backup.yml (tag remote-copy, between verify and record) to your copy, or run without --playbook`,
      ...(play ? { loc: play.loc } : {}),
    },
  ]);
}
