// kubeasz's meanings for an inventory that is a kubeasz cluster (/etc/kubeasz/clusters/<name>/: `hosts`,
// `config.yml`, `ssl/`, `backup/`), so that `orchestrate backup <cluster folder>` works on it as it is:
//   config.yml           every variable, with the precedence of `-e @config.yml` (as ezctl runs playbooks)
//   cluster_dir          `{{ base_dir }}/clusters/<name>` (the folder itself when the hosts file does not say)
//   etcd_ca_file, etcd_cert_file, etcd_key_file   {{ cluster_dir }}/ssl/ca.pem, etcd.pem, etcd-key.pem
//   etcd_member_ca_file, ..._cert_file, ..._key_file   {{ ca_dir }}/ca.pem, etcd.pem, etcd-key.pem (on the members)
//   backup_dir           {{ cluster_dir }}/backup (where `ezctl restore` looks for snapshot.db)
//   etcd_data_dir        ETCD_DATA_DIR (config.yml, kubeasz's default /var/lib/etcd)
//   etcd_wal_dir         ETCD_WAL_DIR when not empty (a separate WAL dir)
//   etcd_peer_url, etcd_client_url   https://<inventory hostname>:2380 / :2379 (kubeasz's etcd unit uses the
//                        inventory hostname even where ansible_host is set)
// Variables the inventory sets itself always win over these.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ConfigProblem } from '../errors.js';
import type { VarEntry } from './inventory-assemble.js';
import { inventoryMeta } from './inventory-meta.js';
import { originLocation, problemAtOrigin, yamlOrigin, type Origin } from './origin.js';
import type { Inventory, InventoryHost } from './types.js';
import { parseYaml, problemAt, readConfigText } from './yaml-source.js';

export const KUBEASZ_CONFIG_FILE = 'config.yml';

export interface ClusterConfig {
  /** config.yml, when there is one. */
  file?: string;
  vars: Map<string, VarEntry>;
  problems: ConfigProblem[];
}

export const noClusterConfig: ClusterConfig = { vars: new Map(), problems: [] };

/** A kubeasz cluster: given as a folder, or an inventory that defines kubeasz's `cluster_dir`. */
export function isKubeaszInventory(inventory: Inventory, folder: string | undefined): boolean {
  if (folder !== undefined && existsSync(path.join(folder, KUBEASZ_CONFIG_FILE))) return true;
  return (
    inventory.groupVars?.get('all')?.cluster_dir !== undefined || [...inventory.hosts.values()].some((host) => host.vars.cluster_dir !== undefined)
  );
}

/** The cluster's config.yml (YAML 1.1, as Ansible reads `-e @config.yml`); none is fine. */
export async function readClusterConfig(folder: string): Promise<ClusterConfig> {
  const file = path.join(folder, KUBEASZ_CONFIG_FILE);
  if (!existsSync(file)) return noClusterConfig;
  const read = await readConfigText(file, `check ${file}`);
  if ('problem' in read) return { file, vars: new Map(), problems: [read.problem] };
  const parsed = parseYaml(file, read.text);
  const problems = [...parsed.problems];
  const vars = new Map<string, VarEntry>();
  const value = parsed.value;
  if (value !== undefined && value !== null) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push(
        problemAt(parsed.source, [], {
          code: 'kubeasz.config-not-a-mapping',
          message: `${KUBEASZ_CONFIG_FILE} must be a mapping of variable names to values`,
          expected: 'lines such as ETCD_DATA_DIR: "/var/lib/etcd"',
        }),
      );
    } else {
      for (const [key, entry] of Object.entries(value as Record<string, unknown>))
        vars.set(key, { value: entry, origin: yamlOrigin(parsed.source, [key]) });
    }
  }
  return { file, vars, problems };
}

/** Apply config.yml and kubeasz's defaults to every host; returns the problems found (unresolvable cluster_dir, a WAL dir). */
export function applyKubeaszMeanings(inventory: Inventory, config: ClusterConfig, folder: string | undefined): ConfigProblem[] {
  const meta = inventoryMeta(inventory);
  const problems: ConfigProblem[] = [];
  const allVars = inventory.groupVars?.get('all');
  for (const [name, entry] of config.vars) if (allVars) allVars[name] = entry.value;
  const reported = new Set<string>();
  const once = (key: string, problem: () => ConfigProblem): void => {
    if (reported.has(key)) return;
    reported.add(key);
    problems.push(problem());
  };
  for (const host of inventory.hosts.values()) {
    const origins = meta?.varOrigins.get(host.name) ?? new Map<string, Origin>();
    const hostOrigin = meta?.hostOrigins.get(host.name) ?? meta?.fileOrigin;
    for (const [name, entry] of config.vars) {
      host.vars[name] = entry.value;
      origins.set(name, entry.origin);
    }
    const setDefault = (name: string, value: string, origin: Origin | undefined): void => {
      if (host.vars[name] !== undefined) return;
      host.vars[name] = value;
      if (origin) origins.set(name, origin);
    };
    const clusterDir = resolvedPath(host, 'cluster_dir', origins, (key, problem) => once(`cluster_dir:${key}`, problem));
    if (clusterDir === undefined && folder !== undefined && host.vars.cluster_dir === undefined) {
      setDefault('cluster_dir', path.resolve(folder), meta?.fileOrigin);
    }
    const dir =
      clusterDir ?? (typeof host.vars.cluster_dir === 'string' && path.isAbsolute(host.vars.cluster_dir) ? host.vars.cluster_dir : undefined);
    if (dir !== undefined) {
      const origin = origins.get('cluster_dir');
      setDefault('etcd_ca_file', path.join(dir, 'ssl', 'ca.pem'), origin);
      setDefault('etcd_cert_file', path.join(dir, 'ssl', 'etcd.pem'), origin);
      setDefault('etcd_key_file', path.join(dir, 'ssl', 'etcd-key.pem'), origin);
      setDefault('backup_dir', path.join(dir, 'backup'), origin);
      if (folder !== undefined && path.resolve(folder) !== dir && origin) {
        once('folder-mismatch', () =>
          problemAtOrigin(origin, {
            severity: 'warning',
            code: 'kubeasz.cluster-dir-elsewhere',
            message: `cluster_dir is ${dir}, not the folder given (${path.resolve(folder)}): TLS files and backups are taken from cluster_dir, as kubeasz's playbooks do`,
            hint: 'give the folder cluster_dir names, or correct cluster_dir in the hosts file',
          }),
        );
      }
    }
    // On the members, kubeasz installs the same certificates in ca_dir (/etc/kubernetes/ssl).
    const caDir = resolvedPath(host, 'ca_dir', origins, (key, problem) => once(`ca_dir:${key}`, problem));
    if (caDir !== undefined) {
      const origin = origins.get('ca_dir');
      setDefault('etcd_member_ca_file', path.join(caDir, 'ca.pem'), origin);
      setDefault('etcd_member_cert_file', path.join(caDir, 'etcd.pem'), origin);
      setDefault('etcd_member_key_file', path.join(caDir, 'etcd-key.pem'), origin);
    }
    const dataDir = resolvedPath(host, 'ETCD_DATA_DIR', origins, (key, problem) => once(`ETCD_DATA_DIR:${key}`, problem));
    if (dataDir !== undefined) setDefault('etcd_data_dir', dataDir, origins.get('ETCD_DATA_DIR'));
    // A separate WAL (kubeasz passes --wal-dir only when ETCD_WAL_DIR is not empty): the restore swaps it too.
    const walWritten = host.vars.ETCD_WAL_DIR;
    const walDir =
      walWritten === '' || walWritten === undefined
        ? undefined
        : resolvedPath(host, 'ETCD_WAL_DIR', origins, (key, problem) => once(`ETCD_WAL_DIR:${key}`, problem));
    if (walDir !== undefined) setDefault('etcd_wal_dir', walDir, origins.get('ETCD_WAL_DIR'));
    // kubeasz's etcd unit advertises https://<inventory hostname>:2380 whatever ansible_host says.
    const address = host.vars.ansible_host ?? host.vars.ansible_ssh_host;
    if (typeof address === 'string' && address !== host.name) {
      const url = host.name.includes(':') ? `[${host.name}]` : host.name;
      setDefault('etcd_peer_url', `https://${url}:2380`, hostOrigin);
      setDefault('etcd_client_url', `https://${url}:2379`, hostOrigin);
    }
    meta?.varOrigins.set(host.name, origins);
  }
  return problems;
}

type Report = (key: string, problem: () => ConfigProblem) => void;

/** A path variable with its `{{ var }}` references resolved (kubeasz writes cluster_dir="{{ base_dir }}/clusters/k8s-01"). */
function resolvedPath(host: InventoryHost, name: string, origins: Map<string, Origin>, report: Report): string | undefined {
  const written = host.vars[name];
  if (written === undefined) return undefined;
  const origin = origins.get(name);
  // A warning, not an error: the inventory is still usable, only kubeasz's defaults are not derived from it.
  const fail = (key: string, message: string, hint: string): void => {
    if (origin) {
      report(key, () =>
        problemAtOrigin(origin, {
          severity: 'warning',
          code: 'kubeasz.unresolved-path',
          message: `${message}; kubeasz's defaults that depend on ${name} are not applied`,
          expected: 'an absolute path',
          hint,
        }),
      );
    }
  };
  if (typeof written !== 'string') {
    fail('type', `${name} must be a path, not ${JSON.stringify(written)}`, `write ${name}="/some/folder"`);
    return undefined;
  }
  const resolved = resolveReferences(written, { ...host.vars, inventory_hostname: host.name }, 0);
  if ('error' in resolved) {
    fail(resolved.error, `${name} ${JSON.stringify(written)}: ${resolved.error}`, resolved.hint);
    return undefined;
  }
  if (!path.isAbsolute(resolved.text)) {
    fail('relative', `${name} resolves to ${JSON.stringify(resolved.text)}, which is not an absolute path`, `make ${name} absolute`);
    return undefined;
  }
  return path.normalize(resolved.text);
}

const REFERENCE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** `{{ name }}` references replaced by the (literal or themselves resolvable) values of other variables. */
export function resolveReferences(text: string, vars: Record<string, unknown>, depth: number): { text: string } | { error: string; hint: string } {
  if (depth > 10) return { error: 'its variables refer to each other in a loop', hint: 'write the path out' };
  let failure: { error: string; hint: string } | undefined;
  const replaced = text.replace(REFERENCE, (_match, name: string) => {
    const value = vars[name];
    if (typeof value === 'number') return String(value);
    if (typeof value !== 'string') {
      failure ??= { error: `${name} is not defined`, hint: `define ${name} in the [all:vars] section of the hosts file or in config.yml` };
      return '';
    }
    const inner = resolveReferences(value, vars, depth + 1);
    if ('error' in inner) {
      failure ??= inner;
      return '';
    }
    return inner.text;
  });
  if (failure) return failure;
  if (replaced.includes('{{') || replaced.includes('{%')) {
    return {
      error: 'only {{ variable }} references can be resolved here',
      hint: 'write the path with plain {{ variable }} references or out in full',
    };
  }
  return { text: replaced };
}

/** Where a variable of a loaded inventory was written (for messages). */
export function variableLocation(inventory: Inventory, host: string, name: string): string | undefined {
  const origin = inventoryMeta(inventory)?.varOrigins.get(host)?.get(name);
  if (!origin) return undefined;
  const loc = originLocation(origin);
  return `${loc.file}:${loc.line}:${loc.col}`;
}
