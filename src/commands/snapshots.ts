// `orchestrate snapshots list|verify|prune`: what is in the backup folder, whether a file is a good
// snapshot, and retention.
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { helpOption, parseCommandLine, singleArgument } from './command-line.js';
import type { CatalogRecord } from '../etcd/backup/catalog.js';
import type { BackupLocations } from '../etcd/backup/locations.js';
import type { RetentionPolicy } from '../etcd/backup/retention.js';

const usage = `usage: orchestrate snapshots <list|verify|pull|prune> ...

  INVENTORY: a YAML or INI inventory or a folder holding one (a kubeasz cluster folder: its backup/
  folder); without it, inventory in ansible.cfg.

  snapshots list INVENTORY [--verify] [--json]
      every snapshot in backup_dir, newest first: time, age, size, revision, keys, member, status.
      Files without a catalog record are verified on the spot; --verify re-verifies every file.
      A lost catalog is rebuilt from the files. With backup_remote, the remote copies too, and where
      each snapshot lives (local, remote, both) with the state of each copy.
  snapshots verify FILE... [--json]
      check any snapshot file without etcdctl: sha256 trailer, bbolt structure, and the hash, revision
      and key count etcdctl snapshot status prints. A raw member/snap/db copy is reported as having no
      hash. An age-encrypted FILE.age is decrypted with the identity (ORCHESTRATE_AGE_IDENTITY_FILE or
      ORCHESTRATE_AGE_IDENTITY) into an owner-only temporary file beside it, verified, and removed.
      Exit 0 when every file is good, 3 otherwise.
  snapshots verify --remote INVENTORY [NAME|latest|s3://BUCKET/KEY ...] [--all] [--json]
      read remote copies back (default: the newest), decrypt them with the age identity
      (ORCHESTRATE_AGE_IDENTITY_FILE, backup_encryption.identity_file or ORCHESTRATE_AGE_IDENTITY) and
      compare with their record; a good check makes a copy count again, a bad one stops it counting.
  snapshots pull INVENTORY NAME|latest|s3://BUCKET/KEY [--dest DIR] [--json]
      download a remote copy into backup_dir (or DIR): checked against its record, decrypted, verified
      as an etcd snapshot, then named (0600). latest: the newest verified remote copy.
  snapshots prune INVENTORY [--keep-last N] [--ttl SECONDS] [--hourly N] [--daily N] [--weekly N]
                  [--place local|remote|both] [--dry-run] [--json]
      delete snapshots the policy does not keep (any policy keeping a snapshot keeps it). Only
      verified snapshots named by orchestrate count; the newest verified one is never deleted.
      Without options, the inventory's backup_keep_last, backup_ttl_seconds, backup_keep_hourly,
      backup_keep_daily and backup_keep_weekly apply. With backup_remote, the remote copies follow
      the same rules (backup_remote.keep_* when set); options given apply to both places.
`;

export async function snapshotsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(usage);
    return sub ? ExitCode.ok : ExitCode.config;
  }
  if (sub === 'list') return listCommand(rest);
  if (sub === 'verify') return verifyCommand(rest);
  if (sub === 'prune') return pruneCommand(rest);
  if (sub === 'pull') {
    if (rest.includes('--help') || rest.includes('-h')) return help();
    return (await import('./snapshots-remote.js')).pullCommand(rest);
  }
  throw new UsageError(`unknown snapshots command "${sub}"`, 'use snapshots list, snapshots verify, snapshots pull or snapshots prune');
}

async function locationsFor(positionals: string[], command: 'list' | 'prune') {
  if (positionals.length > 1) singleArgument(positionals, 'inventory', `orchestrate snapshots ${command} INVENTORY`);
  const { ansibleDefaults, inventoryArgument } = await import('./ansible-defaults.js');
  const inventoryFile = await inventoryArgument(positionals[0], (await ansibleDefaults()).settings, `orchestrate snapshots ${command} INVENTORY`);
  const { loadInventory } = await import('../config/inventory.js');
  const { backupLocations } = await import('../etcd/backup/locations.js');
  const { inventory } = await loadInventory(resolve(inventoryFile), { requireEtcd: true });
  return { inventory, locations: backupLocations(inventory) };
}

async function listCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('snapshots', args, { verify: { type: 'boolean' }, json: { type: 'boolean' }, ...helpOption });
  if (values.help) return help();
  const { inventory, locations } = await locationsFor(positionals, 'list');
  const { inspectSnapshots } = await import('../etcd/backup/snapshot-inventory.js');
  const { formatAge, formatBytes, formatTable } = await import('../etcd/backup/format.js');
  const remoteCopies = await import('./snapshots-remote.js');
  // Opened first: bad settings or missing credentials end the command before anything is read.
  const remote = await remoteCopies.openRemote(inventory, locations);
  // Encrypted snapshots (backup_encryption.local) are decrypted and verified when the identity is at hand.
  const verifyEncrypted = await remoteCopies.optionalVerifier(inventory, locations.backupDir);
  const found = await inspectSnapshots(locations, { reverify: values.verify === true, ...(verifyEncrypted ? { verifyEncrypted } : {}) });
  if (remote) {
    try {
      const header = `snapshots in ${locations.backupDir} (catalog ${locations.catalogFile}${found.rebuilt ? ', rebuilt from the files just now' : ''})`;
      const code = await remoteCopies.listWithRemote(remote, found.rows, values.json === true, header);
      printLastAttempt(found.lastAttempt, values.json === true);
      return code;
    } finally {
      remote.close();
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ backupDir: locations.backupDir, ...found })}\n`);
    return ExitCode.ok;
  }
  const now = Date.now();
  process.stdout.write(
    `snapshots in ${locations.backupDir} (catalog ${locations.catalogFile}${found.rebuilt ? ', rebuilt from the files just now' : ''})\n`,
  );
  if (found.skippedCatalogLines > 0) process.stdout.write(`note: ${found.skippedCatalogLines} unreadable catalog line(s) were skipped\n`);
  if (found.rows.length === 0) {
    process.stdout.write('no snapshots yet: take one with `orchestrate backup INVENTORY`\n');
  } else {
    const rows = found.rows.map((r) => [
      new Date(r.takenAt).toISOString().replace(/\.\d+Z$/, 'Z'),
      formatAge(now - r.takenAt),
      formatBytes(r.size),
      r.revision !== undefined ? String(r.revision) : '-',
      r.keys !== undefined ? String(r.keys) : '-',
      r.member ?? '-',
      `${r.status === 'ok' ? 'ok' : 'BAD'} (${r.checked === 'catalog' ? 'recorded' : 'verified now'})${r.foreign ? ' not named by orchestrate' : ''}${r.problems ? `: ${r.problems}` : ''}`,
      `${r.name}${r.isPointer ? ' = snapshot.db' : ''}${r.encrypted ? ' (age)' : ''}`,
    ]);
    process.stdout.write(formatTable(['TIME (UTC)', 'AGE', 'SIZE', 'REVISION', 'KEYS', 'MEMBER', 'STATUS', 'FILE'], rows));
  }
  printLastAttempt(found.lastAttempt, false);
  return ExitCode.ok;
}

function printLastAttempt(last: CatalogRecord | undefined, json: boolean): void {
  if (json || !last || last.result !== 'failed') return;
  process.stdout.write(`last attempt FAILED at ${last.end}: ${last.error}\n`);
}

async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('snapshots', args, {
    json: { type: 'boolean' },
    'require-hash': { type: 'boolean' },
    remote: { type: 'boolean' },
    all: { type: 'boolean' },
    ...helpOption,
  });
  if (values.help) return help();
  if (values.remote) {
    const { verifyRemoteCommand } = await import('./snapshots-remote.js');
    return verifyRemoteCommand(positionals, { all: values.all === true, json: values.json === true });
  }
  if (values.all) throw new UsageError('--all goes with --remote', 'orchestrate snapshots verify --remote INVENTORY --all');
  if (positionals.length === 0) throw new UsageError('no snapshot file given', 'orchestrate snapshots verify FILE...');
  const { verifySnapshotFile, describeProblems } = await import('../etcd/snapshot-file.js');
  const { formatBytes } = await import('../etcd/backup/format.js');
  const { verifyEncryptedFile } = await import('./snapshots-remote.js');
  let allOk = true;
  const reports = [];
  for (const file of positionals) {
    const report = file.endsWith('.age')
      ? await verifyEncryptedFile(resolve(file))
      : await verifySnapshotFile(resolve(file), { requireHash: values['require-hash'] === true });
    reports.push(report);
    if (!report.ok) allOk = false;
    if (values.json) continue;
    if (report.ok) {
      const s = report.status;
      const hash = report.hasHash
        ? 'sha256 trailer ok'
        : 'no sha256 trailer (a raw member/snap/db copy: orchestrate restore skips the hash check for it; etcdctl/etcdutl snapshot restore need --skip-hash-check)';
      process.stdout.write(
        `${file}: ok, ${hash}\n  revision ${s.revision}, ${s.totalKey} keys, hash ${s.hash}, total size ${s.totalSize} (${formatBytes(report.fileSize)} file), sha256 ${report.sha256}\n`,
      );
    } else {
      process.stdout.write(`${file}: BAD\n${report.problems.map((p) => `  - ${p.code}: ${p.message}\n`).join('')}`);
      if (!report.problems.length) process.stdout.write(`  ${describeProblems(report)}\n`);
    }
  }
  if (values.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
  return allOk ? ExitCode.ok : ExitCode.failed;
}

function count(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${option} must be a whole number of at least 1, not "${text}"`);
  return value;
}

interface PruneFlags {
  'keep-last'?: string;
  ttl?: string;
  hourly?: string;
  daily?: string;
  weekly?: string;
}

/** The policy the command line gives (empty when it gives none). */
async function policyFromFlags(values: PruneFlags): Promise<RetentionPolicy> {
  const { parseDuration } = await import('../etcd/backup/format.js');
  const policy: RetentionPolicy = {};
  const keepLast = count(values['keep-last'], '--keep-last');
  const hourly = count(values.hourly, '--hourly');
  const daily = count(values.daily, '--daily');
  const weekly = count(values.weekly, '--weekly');
  if (keepLast !== undefined) policy.keepLast = keepLast;
  if (hourly !== undefined) policy.hourly = hourly;
  if (daily !== undefined) policy.daily = daily;
  if (weekly !== undefined) policy.weekly = weekly;
  if (values.ttl !== undefined) {
    const ms = parseDuration(values.ttl);
    if (ms === undefined) throw new UsageError(`--ttl must be seconds (or 6h, 7d, ...), not "${values.ttl}"`);
    policy.ttlSeconds = ms / 1000;
  }
  return policy;
}

async function pruneCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('snapshots', args, {
    'keep-last': { type: 'string' },
    ttl: { type: 'string' },
    hourly: { type: 'string' },
    daily: { type: 'string' },
    weekly: { type: 'string' },
    place: { type: 'string' },
    'dry-run': { type: 'boolean', short: 'n' },
    json: { type: 'boolean' },
    ...helpOption,
  });
  if (values.help) return help();
  const place = values.place ?? 'both';
  if (place !== 'local' && place !== 'remote' && place !== 'both') throw new UsageError(`--place must be local, remote or both, not "${place}"`);
  const { inventory, locations } = await locationsFor(positionals, 'prune');
  const { checkPolicy, hasPolicy } = await import('../etcd/backup/retention.js');
  const { policyFrom } = await import('../modules/etcd/etcd-prune.js');
  const { ETCD_GROUP } = await import('../config/etcd-vars.js');
  const remoteCopies = await import('./snapshots-remote.js');
  const remote = place === 'local' ? undefined : await remoteCopies.openRemote(inventory, locations);
  if (place === 'remote' && !remote) throw new UsageError(`${inventory.file} sets no backup_remote: there are no remote copies to prune`);
  try {
    const flags = await policyFromFlags(values);
    // The inventory's policy, as the backup playbook's etcd.prune sees it (the first member's variables).
    const first = inventory.hosts.get(inventory.groups.get(ETCD_GROUP)?.[0] ?? '');
    const localPolicy = hasPolicy(flags) ? flags : policyFrom({}, first?.vars ?? {});
    const remotePolicy = hasPolicy(flags) ? flags : (remote?.settings.retention ?? localPolicy);
    for (const policy of [localPolicy, remotePolicy]) {
      const problems = checkPolicy(policy);
      if (problems.length > 0) throw new UsageError(problems.join('; '));
    }
    const pruneLocal = place !== 'remote' && hasPolicy(localPolicy);
    const pruneRemote = remote !== undefined && hasPolicy(remotePolicy);
    if (!pruneLocal && !pruneRemote) {
      throw new UsageError(
        'no retention policy: nothing would be deleted',
        'give --keep-last N, --ttl SECONDS or --hourly/--daily/--weekly N, or set backup_keep_last etc. (backup_remote.keep_last etc.) in the inventory',
      );
    }
    const dryRun = values['dry-run'] === true;
    const local = pruneLocal ? await pruneLocalPlace(locations, localPolicy, dryRun) : undefined;
    const far = pruneRemote ? await remoteCopies.pruneRemotePlace(remote, { local: localPolicy, remote: remotePolicy }, dryRun) : undefined;
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ dryRun, ...(local ? local.json : { local: 'no policy: every snapshot kept' }), ...(far ? { remote: far.json } : {}) })}\n`,
      );
    } else {
      if (local) process.stdout.write(local.text);
      else if (place !== 'remote') process.stdout.write(`no retention policy for ${locations.backupDir}: every local snapshot is kept\n`);
      if (far) process.stdout.write(far.text);
      else if (remote) process.stdout.write('no retention policy for the remote copies: every copy is kept\n');
    }
    return far && far.failed > 0 ? ExitCode.failed : ExitCode.ok;
  } finally {
    remote?.close();
  }
}

async function pruneLocalPlace(
  locations: BackupLocations,
  policy: RetentionPolicy,
  dryRun: boolean,
): Promise<{ text: string; json: Record<string, unknown> }> {
  const { planPrune, deleteSnapshots } = await import('../etcd/backup/backup-flow.js');
  const { formatPruneDecisions } = await import('./snapshots-format.js');
  const plan = await planPrune(locations, policy);
  const deleted = dryRun
    ? []
    : await deleteSnapshots(
        locations.backupDir,
        plan.delete.map((d) => d.entry.path),
      );
  const row = (d: (typeof plan.keep)[number]) => ({
    file: d.entry.name,
    takenAt: new Date(d.entry.takenAt).toISOString(),
    verified: d.entry.verified,
    reasons: d.reasons,
  });
  return {
    text: `retention ${JSON.stringify(policy)} in ${locations.backupDir}${dryRun ? ' (dry run: nothing deleted)' : ''}\n${formatPruneDecisions(plan, dryRun, Date.now())}`,
    json: { policy, keep: plan.keep.map(row), delete: plan.delete.map(row), deleted },
  };
}

function help(): number {
  process.stdout.write(usage);
  return ExitCode.ok;
}
