// Where backups, the catalog and the metrics file live for an inventory. The catalog is kept apart
// from the snapshots on purpose: a lifecycle rule or a `find -delete` on the snapshot folder must not
// be able to remove the record of what was taken and when.
import { statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { homedir } from 'node:os';
import { backupDir as configuredBackupDir, etcdMembers, ETCD_GROUP, stringVar } from '../../config/etcd-vars.js';
import type { Inventory } from '../../config/types.js';
import { RefusedError, UsageError } from '../../errors.js';

export interface BackupLocations {
  /** The cluster token (`etcd_cluster_token`, kubeasz default `etcd-cluster-0`): names the catalog and labels metrics. */
  cluster: string;
  backupDir: string;
  catalogFile: string;
  metricsFile: string;
}

/** A variable from the first etcd member (which sees `all` and `etcd` group vars), else from group `all`. */
export function inventoryVar(inventory: Inventory, name: string): string | undefined {
  const first = inventory.groups.get(ETCD_GROUP)?.[0];
  const host = first === undefined ? undefined : inventory.hosts.get(first);
  const fromHost = host ? stringVar(host, name) : undefined;
  if (fromHost !== undefined) return fromHost;
  const fromAll = inventory.groupVars?.get('all')?.[name];
  return typeof fromAll === 'string' && fromAll !== '' ? fromAll : undefined;
}

function resolvePath(inventory: Inventory, value: string): string {
  const expanded = value === '~' ? homedir() : value.startsWith('~/') ? join(homedir(), value.slice(2)) : value;
  return resolve(inventory.dir, expanded);
}

/** File-name-safe form of the cluster token. */
export function clusterFileName(cluster: string): string {
  return cluster.replace(/[^A-Za-z0-9._-]/g, '_') || 'cluster';
}

export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

export interface LocationOverrides {
  /** `--metrics-file`. */
  metricsFile?: string;
}

/** A folder that exists as something else (e.g. the default `backups` is a file) fails before any host is contacted. */
function refuseNonFolder(folder: string, variable: string): void {
  let info;
  try {
    info = statSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new UsageError(`${variable} ${folder} cannot be used: ${code ?? (error as Error).message}`, `point ${variable} at a folder`);
  }
  if (!info.isDirectory())
    throw new UsageError(`${variable} ${folder} is a file, not a folder`, `point ${variable} at a folder in the inventory, or move the file away`);
}

/**
 * Defaults: snapshots in `backup_dir` (default `<inventory dir>/backups`), the catalog in
 * `<inventory dir>/.orchestrate/catalog/<cluster token>.jsonl` (`backup_catalog_dir` moves the folder),
 * metrics in `<inventory dir>/.orchestrate/metrics/orchestrate_backup.prom` (`backup_metrics_file`
 * or `--metrics-file`). A catalog inside the backup folder is refused.
 */
export function backupLocations(inventory: Inventory, overrides: LocationOverrides = {}): BackupLocations {
  const cluster = etcdMembers(inventory)[0]?.token ?? 'etcd-cluster-0';
  const backupDir = configuredBackupDir(inventory);
  const catalogDirVar = inventoryVar(inventory, 'backup_catalog_dir');
  const catalogDir = catalogDirVar ? resolvePath(inventory, catalogDirVar) : join(inventory.dir, '.orchestrate', 'catalog');
  const catalogFile = join(catalogDir, `${clusterFileName(cluster)}.jsonl`);
  if (isInside(catalogFile, backupDir)) {
    throw new RefusedError(
      `the backup catalog ${catalogFile} would be inside the backup folder ${backupDir}`,
      'keep the catalog apart from the snapshots (a cleanup of the snapshot folder must not delete it): set backup_catalog_dir to a folder outside backup_dir, or leave it unset for <inventory dir>/.orchestrate/catalog',
      'backup.catalog-inside-backup-dir',
    );
  }
  refuseNonFolder(backupDir, 'backup_dir');
  refuseNonFolder(catalogDir, 'backup_catalog_dir');
  const metricsVar = overrides.metricsFile ?? inventoryVar(inventory, 'backup_metrics_file');
  const metricsFile = metricsVar ? resolvePath(inventory, metricsVar) : join(inventory.dir, '.orchestrate', 'metrics', 'orchestrate_backup.prom');
  return { cluster, backupDir, catalogFile, metricsFile };
}
