// `orchestrate restore INVENTORY`: restore every etcd member from a snapshot, each with its own identity,
// with a full preview, verification, a journal and rollback. The procedure is playbooks/restore.yml.
import { createInterface } from 'node:readline/promises';
import { ExitCode, UsageError } from '../../errors.js';
import { connectionOptions, helpOption, parseCommandLine, positiveInteger, singleArgument, withInterrupts } from '../command-line.js';
import type { RestoreEvent } from './events.js';
import type { Inventory } from '../../config/types.js';
import type { ConnectionOptions } from '../../engine/connections.js';
import type { RestoreReport } from './report.js';

const usage = `usage: orchestrate restore INVENTORY [options]

INVENTORY is a YAML or INI inventory or a folder holding one (a kubeasz cluster folder: the newest
snapshot of its backup/ folder by default). Always given on the command line.

Restores every etcd member of INVENTORY from one snapshot, each with its own --name, initial cluster
and token; old data dirs are moved aside (never deleted). Runs the preflight, prints what will happen,
asks for confirmation, then follows playbooks/restore.yml with a journal a re-run continues from.

options:
      --snapshot FILE|latest   the snapshot (default: the newest verified one in backup_dir, or in
                               backup_remote's bucket; also NAME or s3://BUCKET/KEY). An age-encrypted
                               one (FILE.age, backup_encryption.local) is decrypted with the identity
                               into an owner-only temporary file, verified, and removed at the end
  -n, --dry-run                preflight (read-only) and print, per phase and host, every command; change nothing
      --no-diff                leave the data diff out of the preview (it reads every key of the snapshot
                               and, keys only, of the cluster: ~20 s for a million keys)
  -y, --yes                    do not ask (required when there is no terminal)
      --accept-old-snapshot    with --yes: restore a snapshot older than --max-snapshot-age
      --max-snapshot-age AGE   e.g. 24h (default), 90m, 2d
      --rollback               put back the data dirs the last restore moved aside, start etcd and services
      --restore-on WHERE       member (default: each member restores its own dir) or deploy-host
                               (restore every dir here with etcdutl/etcdctl and upload it)
      --playbook FILE          run your copy of playbooks/restore.yml (keep the tags of its phases)
      --rollback-playbook FILE run your copy of playbooks/restore-rollback.yml for a rollback
      --etcd-timeout S         seconds to wait for quorum and verification after etcd starts (default 60)
      --service-timeout S      seconds for each unit to stop or start (default 90)
  -f, --forks N                hosts worked on at once in each phase, e.g. kubelet stopped on N
                               kube_node hosts together (default: forks in ansible.cfg, else 50)
      --json                   one JSON object per line on stdout (events, then the report)
      --known-hosts FILE       known hosts file (default ~/.ssh/known_hosts)
      --accept-new-host-keys   trust and record host keys not seen before (also when ansible.cfg
                               says host_key_checking = False; a changed key is always refused)
      --ssh-config FILE        this ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F)
      --connect-timeout S      seconds to connect to each host (default: timeout in ansible.cfg, else 10)
  -h, --help                   this text

exit codes: 0 restored and verified (or rolled back on request), 2 configuration or usage error,
            3 the restore failed (rolled back automatically; see the report), 4 a host unreachable,
            5 refused (no confirmation, bad or stale snapshot, failed preflight): nothing changed,
            130 interrupted (run again to continue, or --rollback)
`;

function seconds(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${option} must be a positive number of seconds, not "${text}"`);
  return value;
}

export async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} Type "yes" to go on: `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export function printer(json: boolean): (event: RestoreEvent) => void {
  if (json) return (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
  return (event) => {
    switch (event.type) {
      case 'summary':
        process.stdout.write(`${event.text}\n`);
        break;
      case 'plan':
        break; // printed in full only by --dry-run (below)
      case 'phase-start':
        if (event.hosts.length) process.stdout.write(`${event.at.slice(11, 23)} == ${event.phase}: ${event.title}\n`);
        break;
      case 'step':
        process.stdout.write(
          `${event.at.slice(11, 23)}    ${event.ok ? 'ok  ' : 'FAIL'} ${event.host}: ${event.title} (${(event.ms / 1000).toFixed(1)}s)${event.detail ? `\n         ${event.detail}` : ''}\n`,
        );
        break;
      case 'phase-end':
        break;
      case 'info':
        process.stdout.write(`${event.message}\n`);
        break;
      case 'warning':
        process.stderr.write(`warning: ${event.message}\n`);
        break;
    }
  };
}

export async function restoreCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('restore', args, {
    snapshot: { type: 'string' },
    'dry-run': { type: 'boolean', short: 'n' },
    'no-diff': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    'accept-old-snapshot': { type: 'boolean' },
    'max-snapshot-age': { type: 'string' },
    rollback: { type: 'boolean' },
    'restore-on': { type: 'string' },
    playbook: { type: 'string' },
    'rollback-playbook': { type: 'string' },
    'etcd-timeout': { type: 'string' },
    'service-timeout': { type: 'string' },
    forks: { type: 'string', short: 'f' },
    json: { type: 'boolean' },
    ...connectionOptions,
    ...helpOption,
  });
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  const inventoryFile = singleArgument(positionals, 'inventory', 'orchestrate restore INVENTORY [--snapshot FILE] [--dry-run] [--yes]');
  const where = values['restore-on'] ?? 'member';
  if (where !== 'member' && where !== 'deploy-host') throw new UsageError(`--restore-on must be member or deploy-host, not "${where}"`);
  if (values.rollback && values.snapshot) throw new UsageError('--rollback puts the old data back; it takes no --snapshot');

  const maxSnapshotAgeMs = await maxSnapshotAge(values['max-snapshot-age']);
  const etcdSeconds = seconds(values['etcd-timeout'], '--etcd-timeout');
  const serviceSeconds = seconds(values['service-timeout'], '--service-timeout');
  const { acceptNewHostKeys, ansibleDefaults } = await import('../ansible-defaults.js');
  const defaults = await ansibleDefaults();
  const connectSeconds = seconds(values['connect-timeout'], '--connect-timeout') ?? defaults.settings.timeout?.value;
  const forks = values.forks === undefined ? defaults.settings.forks?.value : positiveInteger(values.forks, '--forks');

  const { loadInventory } = await import('../../config/inventory.js');
  const { formatProblems } = await import('../../config/format-problems.js');
  const { inventory, warnings } = await loadInventory(inventoryFile, { ...defaults.inventoryOptions, requireEtcd: true });
  if (warnings.length && !values.json) process.stderr.write(formatProblems(warnings));

  const json = values.json === true;
  const interactive = process.stdin.isTTY && process.stderr.isTTY;
  const common = {
    inventory,
    dryRun: values['dry-run'] === true,
    yes: values.yes === true,
    emit: printer(json),
    ...(interactive ? { confirm: askOnTerminal } : {}),
    timeouts: { ...(etcdSeconds ? { etcdSeconds } : {}), ...(serviceSeconds ? { serviceSeconds } : {}) },
    ...(forks !== undefined ? { forks } : {}),
    ...(values['rollback-playbook'] !== undefined ? { rollbackPlaybook: values['rollback-playbook'] } : {}),
    connect: {
      ...(values['known-hosts'] ? { knownHostsFile: values['known-hosts'] } : {}),
      ...(acceptNewHostKeys(values['accept-new-host-keys'] === true, defaults.hostKeys) ? { acceptNewHostKeys: true } : {}),
      ...(values['ssh-config'] !== undefined ? { sshConfigFile: values['ssh-config'] } : {}),
      ...(connectSeconds ? { connectTimeoutMs: connectSeconds * 1000 } : {}),
    },
  };

  const notices = {
    first: 'interrupted: finishing the commands in flight, starting no new step (Ctrl-C again to exit at once)',
    second: 'interrupted again: exiting now; the journal records where each member is - run the same command to continue',
  };
  const report: RestoreReport = await withInterrupts(notices, async (signal) => {
    if (values.rollback) {
      const { rollbackCluster } = await import('./rollback-run.js');
      return rollbackCluster(common);
    }
    const { restoreCluster } = await import('./restore-run.js');
    return restoreCluster({
      ...common,
      mode: where,
      signal,
      acceptOldSnapshot: values['accept-old-snapshot'] === true,
      diff: values['no-diff'] !== true,
      ...(values.playbook !== undefined ? { playbook: values.playbook } : {}),
      ...(values.snapshot !== undefined ? { snapshot: values.snapshot } : {}),
      ...(maxSnapshotAgeMs !== undefined ? { maxSnapshotAgeMs } : {}),
    });
  });

  await printReport(report, json, inventory, common.connect);
  return report.exitCode;
}

/** `--max-snapshot-age` in milliseconds (undefined when not given). */
export async function maxSnapshotAge(text: string | undefined): Promise<number | undefined> {
  if (text === undefined) return undefined;
  const { parseDuration } = await import('../../etcd/backup/format.js');
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--max-snapshot-age must look like 24h, 90m or 2d, not "${text}"`);
  return ms;
}

async function printReport(report: RestoreReport, json: boolean, inventory: Inventory, connect: ConnectionOptions): Promise<void> {
  const { formatPlan, formatReport } = await import('./report.js');
  const { writeRunReport } = await import('../html-report-file.js');
  // The run drawn as a timeline (orchestrate report).
  const htmlReport = report.dryRun ? undefined : await writeRunReport(inventory, { journalFile: report.journal }, connect);
  if (json) process.stdout.write(`${JSON.stringify({ type: 'report', ...report, ...(htmlReport ? { htmlReport } : {}) })}\n`);
  else if (report.dryRun) {
    process.stdout.write(`\nPlan (dry run: only the read-only checks above ran; nothing was changed):\n${formatPlan(report.plan ?? [])}`);
  } else {
    process.stdout.write(`\n${formatReport(report)}${htmlReport ? `HTML report: ${htmlReport}\n` : ''}`);
  }
}
