// `orchestrate recover INVENTORY`: after a power cut or a lost quorum, diagnose every member and recover
// by the way that loses the least data (recover-run.ts).
import { ExitCode, UsageError } from '../../errors.js';
import type { FromOverride } from '../../etcd/diagnose/decide.js';
import { connectionOptions, helpOption, parseCommandLine, singleArgument, withInterrupts } from '../command-line.js';
import { askOnTerminal, maxSnapshotAge, printer } from '../restore/index.js';
import { DEFAULT_RECOVER_TIMEOUTS, loadForRecovery } from './shared.js';
import type { Inventory } from '../../config/types.js';
import type { ConnectionOptions } from '../../engine/connections.js';
import type { RecoverReport } from './recover-run.js';
import { formatRecoverReport, recoverySummary } from './report.js';

const usage = `usage: orchestrate recover INVENTORY [options]

Diagnoses every etcd member read-only (etcd running and answering, data dir, db revision, consistent
index and term, WAL records and their crc, certificates and their dates), shows what each way out would
lose, and recovers by the one that loses least: (1) start the intact members as they are and replace the
broken ones, (2) rebuild every member from a copy of the freshest db, (3) restore the newest verified
snapshot. Old data is moved aside, never deleted.

options:
      --from MEMBER|snapshot   rebuild from this member's db, or restore the newest snapshot, whatever the choice
  -n, --dry-run                diagnose and print the plan; change nothing
  -y, --yes                    do not ask (required when there is no terminal)
      --accept-old-snapshot    with --yes and the snapshot path: restore a snapshot older than --max-snapshot-age
      --max-snapshot-age AGE   e.g. 24h (default), 90m, 2d
      --etcd-timeout S         seconds for the quorum, a member to catch up, the verification (default 120)
      --service-timeout S      seconds for each unit to stop or start (default 90)
      --json                   one JSON object per line on stdout (events, then the report)
      --known-hosts FILE       known hosts file (default ~/.ssh/known_hosts)
      --accept-new-host-keys   trust and record host keys not seen before (also when ansible.cfg
                               says host_key_checking = False; a changed key is always refused)
      --ssh-config FILE        this ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F)
      --connect-timeout S      seconds to connect to each host (default: timeout in ansible.cfg, else 10)
  -h, --help                   this text

exit codes: 0 recovered and verified (or nothing to do), 2 configuration or usage error,
            3 the recovery failed or left a member as it was (see the report), 4 a host unreachable,
            5 refused (no way out without you, no confirmation, failed preflight): nothing changed,
            130 interrupted (run again to continue)
`;

export function seconds(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${option} must be a positive number of seconds, not "${text}"`);
  return value;
}

function fromOption(text: string | undefined): FromOverride | undefined {
  if (text === undefined) return undefined;
  if (text === 'snapshot') return { kind: 'snapshot' };
  if (text.trim() === '') throw new UsageError('--from needs a member (inventory host or etcd name) or `snapshot`');
  return { kind: 'member', host: text };
}

export async function recoverCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('recover', args, {
    from: { type: 'string' },
    'dry-run': { type: 'boolean', short: 'n' },
    yes: { type: 'boolean', short: 'y' },
    'accept-old-snapshot': { type: 'boolean' },
    'max-snapshot-age': { type: 'string' },
    'etcd-timeout': { type: 'string' },
    'service-timeout': { type: 'string' },
    json: { type: 'boolean' },
    ...connectionOptions,
    ...helpOption,
  });
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  const inventoryFile = singleArgument(positionals, 'inventory', 'orchestrate recover INVENTORY [--dry-run] [--yes] [--from MEMBER|snapshot]');
  const from = fromOption(values.from);
  const maxSnapshotAgeMs = await maxSnapshotAge(values['max-snapshot-age']);
  const etcdSeconds = seconds(values['etcd-timeout'], '--etcd-timeout');
  const serviceSeconds = seconds(values['service-timeout'], '--service-timeout');
  const json = values.json === true;
  const { inventory, connect } = await loadForRecovery(inventoryFile, values, json, seconds);
  const emit = printer(json);
  const interactive = process.stdin.isTTY && process.stderr.isTTY;
  const notices = {
    first: 'interrupted: finishing the commands in flight, starting no new step (Ctrl-C again to exit at once)',
    second: 'interrupted again: exiting now; the journal records where each member is - run the same command to continue',
  };
  const { recoverCluster } = await import('./recover-run.js');
  const report = await withInterrupts(notices, (signal) =>
    recoverCluster({
      inventory,
      dryRun: values['dry-run'] === true,
      yes: values.yes === true,
      emit,
      ...(interactive ? { confirm: askOnTerminal } : {}),
      connect,
      signal,
      timeouts: {
        serviceSeconds: serviceSeconds ?? DEFAULT_RECOVER_TIMEOUTS.serviceSeconds,
        etcdSeconds: etcdSeconds ?? DEFAULT_RECOVER_TIMEOUTS.etcdSeconds,
      },
      ...(from ? { from } : {}),
      ...(values['accept-old-snapshot'] ? { acceptOldSnapshot: true } : {}),
      ...(maxSnapshotAgeMs !== undefined ? { maxSnapshotAgeMs } : {}),
    }),
  );
  const htmlReport = await htmlReportOf(report, inventory, connect);
  if (json) process.stdout.write(`${JSON.stringify({ type: 'report', ...report, ...(htmlReport ? { htmlReport } : {}) })}\n`);
  else process.stdout.write(`${formatRecoverReport(report)}${htmlReport ? `HTML report: ${htmlReport}\n` : ''}`);
  return report.exitCode;
}

/** The recovery (and the restore it ran, if any) drawn in the HTML report; none for a dry run or nothing done. */
async function htmlReportOf(report: RecoverReport, inventory: Inventory, connect: ConnectionOptions): Promise<string | undefined> {
  if (report.dryRun || report.status === 'nothing-to-do') return undefined;
  const { writeRunReport } = await import('../html-report-file.js');
  return writeRunReport(
    inventory,
    {
      recovery: recoverySummary(report),
      ...(report.restore ? { journalFile: report.restore.journal } : {}),
    },
    connect,
  );
}
