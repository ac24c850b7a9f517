// `orchestrate report INVENTORY [--out FILE]`: one self-contained HTML file with the last restore as a
// timeline, the backup and drill history and the current status.
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { connectionOptions, helpOption, parseCommandLine, singleArgument } from './command-line.js';

const usage = `usage: orchestrate report INVENTORY [--out FILE]

Writes one self-contained HTML file (no server, no network, no script; prints well): the last restore
or rollback as a timeline (one lane per host, one bar per phase, when the API went down and came back,
RTO and RPO, failures and rollbacks where they happened), the backup history against the schedule with
the gaps that break the RPO, size and duration over time and the failed attempts, the drill history,
and the current status of the members when the cluster answers. Prints the file's path.

options:
      --out FILE          where to write (default <inventory dir>/.orchestrate/reports/<cluster>-<time>.html)
      --journal FILE      draw this restore journal instead of the newest one
      --events FILE       the \`restore --json\` output of that run: phase times for a journal without them
      --days N            backup history to draw (default 14)
      --rpo AGE           RPO target for the gaps (default: backup_rpo, else twice the backup interval)
      --no-status         do not contact the cluster
      --timeout S         seconds to wait for each member's status (default 3)
      --known-hosts FILE  known hosts file, when etcd is asked on the members over SSH (etcd_access: ssh)
      --accept-new-host-keys  trust and record host keys not seen before (same)
      --connect-timeout S seconds to connect to each host (same; default 10)
      --ssh-config FILE   ssh_config to read host entries from (same)
  -h, --help              this text

exit codes: 0 written, 2 configuration or usage error
`;

export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('report', args, {
    out: { type: 'string' },
    journal: { type: 'string' },
    events: { type: 'string' },
    days: { type: 'string' },
    rpo: { type: 'string' },
    'no-status': { type: 'boolean' },
    timeout: { type: 'string' },
    ...connectionOptions,
    ...helpOption,
  });
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  const inventoryFile = singleArgument(positionals, 'inventory', 'orchestrate report INVENTORY [--out FILE]');
  const { parseDuration } = await import('../etcd/backup/format.js');
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && !(Number.isFinite(days) && days > 0)) throw new UsageError(`--days must be a positive number, not "${values.days}"`);
  const rpoMs = values.rpo === undefined ? undefined : parseDuration(values.rpo);
  if (values.rpo !== undefined && rpoMs === undefined) throw new UsageError(`--rpo must be a duration such as 2h or 1d, not "${values.rpo}"`);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0))
    throw new UsageError(`--timeout must be a positive number of seconds, not "${values.timeout}"`);

  const { loadInventory } = await import('../config/inventory.js');
  const { formatProblems } = await import('../config/format-problems.js');
  const { inventory, warnings } = await loadInventory(resolve(inventoryFile), { requireEtcd: true });
  if (warnings.length) process.stderr.write(formatProblems(warnings));
  const { writeReport } = await import('../report/collect-report.js');
  const { memberObserver, readOnlyConnection } = await import('./member-observer.js');
  const observer = values['no-status'] ? undefined : await memberObserver(inventory, readOnlyConnection(values));
  const written = await writeReport({
    inventory,
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.journal !== undefined ? { journalFile: values.journal } : {}),
    ...(values.events !== undefined ? { eventsFile: values.events } : {}),
    ...(days !== undefined ? { windowMs: days * 86_400_000 } : {}),
    ...(rpoMs !== undefined ? { rpoMs } : {}),
    ...(values['no-status'] ? { status: false } : {}),
    ...(timeout !== undefined ? { statusTimeoutMs: timeout * 1000 } : {}),
    ...(observer?.observe ? { observe: observer.observe } : {}),
  }).finally(() => observer?.close());
  process.stdout.write(`${written.path}\n`);
  return ExitCode.ok;
}
