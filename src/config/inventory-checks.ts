// Inventory rules a JSON Schema cannot express: uniqueness across members, parseable URLs, safe paths.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { expandHome } from './connection.js';
import { CONTROL, checkEtcdUrl, etcdNameExpected, invalidDataDir, invalidEtcdName } from './etcd-value-rules.js';
import { ETCD_GROUP, etcdMemberFor, missingEtcdProblem } from './etcd-vars.js';
import { inventoryMeta, type InventoryMeta } from './inventory-meta.js';
import { problemAtOrigin, type Origin } from './origin.js';
import type { EtcdMember, Inventory, InventoryHost } from './types.js';
import type { ProblemFields } from './yaml-source.js';

export interface CheckOptions {
  /** A missing or empty `etcd` group is an error rather than a warning. */
  requireEtcd?: boolean;
  /** Check the size of group `etcd` (false while the file's shape is invalid). Default true. */
  checkGroups?: boolean;
}

/** Variables read by this tool itself (not through templates), so they must be literal values. */
const literalVars = [
  'ansible_host',
  'ansible_user',
  'ansible_ssh_private_key_file',
  'etcd_name',
  'etcd_data_dir',
  'etcd_wal_dir',
  'etcd_peer_url',
  'etcd_client_url',
  'etcd_cluster_token',
  'etcd_ca_file',
  'etcd_cert_file',
  'etcd_key_file',
  'etcd_member_ca_file',
  'etcd_member_cert_file',
  'etcd_member_key_file',
  'etcd_service',
  'backup_dir',
];

export function checkInventory(inventory: Inventory, options: CheckOptions = {}): ConfigProblem[] {
  const meta = inventoryMeta(inventory);
  if (!meta) return [];
  const problems: ConfigProblem[] = [];
  const report = (host: InventoryHost, vars: string[], fields: ProblemFields): void => {
    problems.push(problemAtOrigin(origin(meta, host, vars), fields));
  };

  for (const host of inventory.hosts.values()) {
    checkHostVars(host, report);
    checkLocalFolders(host, inventory.dir, report);
  }

  const memberNames = inventory.groups.get(ETCD_GROUP) ?? [];
  const checkGroups = options.checkGroups ?? true;
  if (memberNames.length === 0) {
    if (checkGroups && (options.requireEtcd || inventory.groups.has(ETCD_GROUP)))
      problems.push(missingEtcdProblem(inventory, options.requireEtcd ? 'error' : 'warning'));
  } else {
    checkMembers(inventory, memberNames, report);
    if (checkGroups && memberNames.length % 2 === 0) problems.push(...evenMembersWarning(meta, memberNames.length));
  }
  return dedupe(problems);
}

type Report = (host: InventoryHost, vars: string[], fields: ProblemFields) => void;

/** Where a value came from: the first of `vars` that is set (host or group), else the host's own entry. */
function origin(meta: InventoryMeta, host: InventoryHost, vars: string[]): Origin {
  const origins = meta.varOrigins.get(host.name);
  for (const name of vars) {
    const found = origins?.get(name);
    if (found) return found;
  }
  return meta.hostOrigins.get(host.name) ?? meta.fileOrigin;
}

function checkHostVars(host: InventoryHost, report: Report): void {
  for (const name of literalVars) {
    const value = host.vars[name];
    if (typeof value === 'string' && (value.includes('{{') || value.includes('{%'))) {
      report(host, [name], {
        code: 'inventory.templated-var',
        message: `${name} is read by orchestrate itself and cannot be a template: ${JSON.stringify(value)}`,
        expected: 'a literal value',
        hint: `write the value of ${name} out in full`,
      });
    }
  }
  for (const name of ['ansible_host', 'ansible_user']) {
    const value = host.vars[name];
    if (typeof value === 'string' && (/\s/.test(value) || CONTROL.test(value) || value.startsWith('-'))) {
      report(host, [name], {
        code: 'inventory.invalid-connection-var',
        message: `${name} ${JSON.stringify(value)} contains spaces or control characters or starts with "-"`,
        expected: name === 'ansible_host' ? 'an IP address or DNS name' : 'a user name',
      });
    }
  }
  const token = host.vars.etcd_cluster_token;
  if (typeof token === 'string' && CONTROL.test(token)) {
    // It names the catalog, labels metrics and reaches etcd's command line: a line break would fake lines.
    report(host, ['etcd_cluster_token'], {
      code: 'inventory.invalid-etcd-token',
      message: `etcd_cluster_token ${JSON.stringify(token)} contains a control character (newline, tab or NUL)`,
      expected: 'a token on one line, e.g. etcd-cluster-0',
    });
  }
  const backupDir = host.vars.backup_dir;
  if (typeof backupDir === 'string' && CONTROL.test(backupDir)) {
    report(host, ['backup_dir'], {
      code: 'inventory.invalid-path',
      message: 'backup_dir contains a control character (newline, tab or NUL)',
      expected: 'a folder path on one line',
    });
  }
}

/**
 * Folders on the deploy host that orchestrate creates and writes: one that names an existing file would
 * only fail later, after hosts were contacted (and a backup would record a failure), so it fails here.
 */
function checkLocalFolders(host: InventoryHost, inventoryDir: string, report: Report): void {
  for (const name of ['backup_dir', 'backup_catalog_dir']) {
    const value = host.vars[name];
    if (typeof value !== 'string' || value === '' || CONTROL.test(value) || value.includes('{{')) continue;
    const folder = resolve(inventoryDir, expandHome(value));
    let problem: string | undefined;
    try {
      if (!statSync(folder).isDirectory()) problem = `${name} ${folder} is a file, not a folder`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') problem = `${name} ${folder} is inside a file, not a folder`;
      else if (code === 'ELOOP') problem = `${name} ${folder} is a symlink loop`;
    }
    if (problem)
      report(host, [name], {
        code: 'inventory.not-a-folder',
        message: problem,
        expected: 'a folder (created when missing)',
        hint: `point ${name} at a folder, or move the file away`,
      });
  }
  const metrics = host.vars.backup_metrics_file;
  if (typeof metrics === 'string' && metrics !== '' && !CONTROL.test(metrics) && !metrics.includes('{{')) {
    const file = resolve(inventoryDir, expandHome(metrics));
    let kind: string | undefined;
    try {
      const info = statSync(file);
      if (!info.isFile()) kind = info.isDirectory() ? 'a folder' : 'not a regular file (a device, FIFO or socket)';
    } catch {
      // missing: it is created
    }
    if (kind)
      report(host, ['backup_metrics_file'], {
        code: 'inventory.not-a-file',
        message: `backup_metrics_file ${file} is ${kind}`,
        expected: 'a file path (created when missing)',
        hint: 'point backup_metrics_file at a .prom file',
      });
  }
}

function checkMembers(inventory: Inventory, memberNames: string[], report: Report): void {
  const byName = new Map<string, string>();
  const byPeerUrl = new Map<string, string>();
  const byClientUrl = new Map<string, string>();
  let reference: EtcdMember | undefined;

  for (const hostName of memberNames) {
    const host = inventory.hosts.get(hostName);
    if (!host) continue;
    const member = etcdMemberFor(host);

    if (invalidEtcdName(member.name)) {
      report(host, ['etcd_name'], {
        code: 'inventory.invalid-etcd-name',
        message: `etcd member name ${JSON.stringify(member.name)} is not valid${host.vars.etcd_name === undefined ? ' (derived from the host name)' : ''}`,
        expected: etcdNameExpected,
        hint: 'set etcd_name for this host, e.g. etcd_name: etcd-1',
      });
    }
    const firstWithName = byName.get(member.name);
    if (firstWithName !== undefined) {
      report(host, ['etcd_name'], {
        code: 'inventory.duplicate-etcd-name',
        message: `etcd_name "${member.name}" is also used by ${firstWithName}`,
        expected: 'a name no other member uses',
        hint: 'give every member of group etcd its own etcd_name (the default is etcd-<inventory hostname>)',
      });
    } else {
      byName.set(member.name, host.name);
    }

    checkDataDir(host, member.dataDir, report);
    checkMemberChoices(host, report);
    const peerDuplicate = checkUrl(host, member.peerUrl, ['etcd_peer_url', 'ansible_host'], 'etcd_peer_url', byPeerUrl, report);
    // Both URLs derived from one shared ansible_host are one mistake: report it once.
    const sameCause = peerDuplicate && host.vars.etcd_peer_url === undefined && host.vars.etcd_client_url === undefined;
    if (!sameCause) checkUrl(host, member.clientUrl, ['etcd_client_url', 'ansible_host'], 'etcd_client_url', byClientUrl, report);

    for (const name of ['etcd_ca_file', 'etcd_cert_file', 'etcd_key_file', 'etcd_member_ca_file', 'etcd_member_cert_file', 'etcd_member_key_file']) {
      const value = host.vars[name];
      if (typeof value !== 'string') continue;
      const problem = !value.startsWith('/')
        ? 'is not an absolute path'
        : CONTROL.test(value)
          ? 'contains a control character'
          : value.split('/').includes('..')
            ? 'contains ".."'
            : undefined;
      if (problem) {
        report(host, [name], {
          code: 'inventory.invalid-path',
          message: `${name} ${JSON.stringify(value)} ${problem}`,
          expected: 'an absolute path to a PEM file, the same on the deploy host and on the members',
        });
      }
    }
    if ((member.certFile === undefined) !== (member.keyFile === undefined)) {
      const present = member.certFile === undefined ? 'etcd_key_file' : 'etcd_cert_file';
      const missing = member.certFile === undefined ? 'etcd_cert_file' : 'etcd_key_file';
      report(host, [present], {
        code: 'inventory.etcd-tls-pair',
        message: `${present} is set for ${host.name} but ${missing} is not`,
        expected: 'both etcd_cert_file and etcd_key_file, or neither',
        hint: `add ${missing}`,
      });
    }

    if (!reference) {
      reference = member;
    } else if (member.token !== reference.token) {
      const own =
        host.vars.etcd_cluster_token === undefined
          ? `etcd_cluster_token of ${host.name} is the default "${member.token}"`
          : `etcd_cluster_token "${member.token}"`;
      report(host, ['etcd_cluster_token'], {
        code: 'inventory.conflicting-etcd-token',
        message: `${own}, not "${reference.token}" as for ${reference.host}`,
        expected: 'one token shared by every member',
        hint: 'set etcd_cluster_token once, in the vars of group etcd',
      });
    }
  }
}

/** Variables that choose among a few values: a typo must be an error at its line, not a silent default. */
const memberChoices: Record<string, { values: readonly (string | number)[]; expected: string }> = {
  etcd_topology: {
    values: ['systemd', 'kubeadm', 'static-pod'],
    expected: 'systemd (units) or kubeadm (static pods); leave it out to detect it on each host',
  },
  etcd_access: { values: ['auto', 'client', 'ssh'], expected: 'auto, client (the deploy host asks etcd) or ssh (etcdctl on the members)' },
};

function checkMemberChoices(host: InventoryHost, report: Report): void {
  for (const [name, { values, expected }] of Object.entries(memberChoices)) {
    const value = host.vars[name];
    if (value === undefined || values.includes(value as string)) continue;
    report(host, [name], {
      code: 'inventory.invalid-choice',
      message: `${name} ${JSON.stringify(value)} is not one of ${values.join(', ')}`,
      expected,
    });
  }
  const bump = host.vars.etcd_restore_bump_revision;
  // A string of digits is fine: INI [group:vars] values are strings, as Ansible reads them.
  const bumpOk = (typeof bump === 'number' && Number.isSafeInteger(bump) && bump >= 0) || (typeof bump === 'string' && /^\d{1,15}$/.test(bump));
  if (bump !== undefined && !bumpOk) {
    report(host, ['etcd_restore_bump_revision'], {
      code: 'inventory.invalid-bump',
      message: `etcd_restore_bump_revision ${JSON.stringify(bump)} is not a whole number of revisions`,
      expected: 'a number such as 1000000000 (0: no bump)',
    });
  }
  const wal = host.vars.etcd_wal_dir;
  if (wal !== undefined && (typeof wal !== 'string' || !wal.startsWith('/') || CONTROL.test(wal) || wal.split('/').includes('..'))) {
    report(host, ['etcd_wal_dir'], {
      code: 'inventory.invalid-etcd-wal-dir',
      message: `etcd_wal_dir ${JSON.stringify(wal)} is not an absolute path without control characters or ".."`,
      expected: 'an absolute path such as /var/lib/etcd-wal',
    });
  }
}

function evenMembersWarning(meta: InventoryMeta, count: number): ConfigProblem[] {
  const groupOrigin = meta.groupOrigins.get(ETCD_GROUP);
  if (!groupOrigin) return [];
  const fewer = count - 1;
  return [
    problemAtOrigin(groupOrigin, {
      severity: 'warning',
      code: 'inventory.even-etcd-members',
      message: `group "etcd" has ${count} members; an even count tolerates no more failed members than ${fewer} member${fewer === 1 ? '' : 's'} would`,
      hint: 'use an odd number of members (1, 3, 5 or 7)',
    }),
  ];
}

function checkDataDir(host: InventoryHost, dataDir: string, report: Report): void {
  const fields = (message: string): ProblemFields => ({
    code: 'inventory.invalid-etcd-data-dir',
    message: `etcd_data_dir ${JSON.stringify(dataDir)} ${message}`,
    expected: 'an absolute path such as /var/lib/etcd',
  });
  const invalid = invalidDataDir(dataDir);
  if (invalid)
    report(host, ['etcd_data_dir'], { ...fields(invalid.why), ...(invalid.system ? { hint: 'use a folder of its own, e.g. /var/lib/etcd' } : {}) });
}

/** Returns true when the URL is valid but already used by another member. */
function checkUrl(host: InventoryHost, url: string, vars: string[], name: string, seen: Map<string, string>, report: Report): boolean {
  const port = name === 'etcd_peer_url' ? 2380 : 2379;
  const fields = (message: string): ProblemFields => ({
    code: 'inventory.invalid-etcd-url',
    message: `${name} ${JSON.stringify(url)} ${message}`,
    expected: `a URL such as https://10.0.0.1:${port}`,
  });
  const checked = checkEtcdUrl(url);
  if ('why' in checked) report(host, vars, fields(checked.why));
  else {
    const { parsed } = checked;
    const key = `${parsed.protocol}//${parsed.host}`;
    const first = seen.get(key);
    if (first !== undefined) {
      report(host, vars, {
        code: name === 'etcd_peer_url' ? 'inventory.duplicate-etcd-peer-url' : 'inventory.duplicate-etcd-client-url',
        message: `${name} ${url} is also used by ${first}`,
        expected: 'a URL no other member uses',
        hint: `each member needs its own address (ansible_host) or its own ${name}`,
      });
      return true;
    }
    seen.set(key, host.name);
  }
  return false;
}

/** A group variable is seen by every host of the group: report it once. */
function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.code}:${problem.loc?.line}:${problem.loc?.col}:${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
