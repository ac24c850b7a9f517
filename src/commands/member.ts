// `orchestrate member replace INVENTORY HOST`: replace one etcd member while the others keep the quorum.
import { ExitCode, UsageError } from '../errors.js';
import { formatDuration } from '../etcd/restore/snapshot-source.js';
import { connectionOptions, helpOption, parseCommandLine, withInterrupts } from './command-line.js';
import { seconds } from './recover/index.js';
import { DEFAULT_RECOVER_TIMEOUTS, loadForRecovery } from './recover/shared.js';
import type { MemberReplaceReport } from './recover/member-replace-run.js';
import { askOnTerminal, printer } from './restore/index.js';
import { formatPlan } from './restore/report.js';

const usage = `usage: orchestrate member replace INVENTORY HOST [options]

Replaces one etcd member the way etcd documents it: removes it from the cluster, moves its data dir
aside (kept, never deleted), adds it back with the same name and peer URL (as a learner), starts it with
--initial-cluster-state existing, waits until it has caught up, promotes it and verifies the cluster.
Refused when removing it would lose the quorum or it is the only healthy member. HOST is the inventory
host or the member's etcd name.

options:
  -n, --dry-run                print every step; change nothing
  -y, --yes                    do not ask (required when there is no terminal)
      --etcd-timeout S         seconds for the member to catch up and for the verification (default 120)
      --service-timeout S      seconds for etcd to stop (default 90)
      --json                   one JSON object per line on stdout (events, then the report)
      --known-hosts FILE       known hosts file (default ~/.ssh/known_hosts)
      --accept-new-host-keys   trust and record host keys not seen before (also when ansible.cfg
                               says host_key_checking = False; a changed key is always refused)
      --ssh-config FILE        this ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F)
      --connect-timeout S      seconds to connect to each host (default: timeout in ansible.cfg, else 10)
  -h, --help                   this text

exit codes: 0 replaced and verified, 2 usage error, 3 failed (run again to finish), 4 a host unreachable,
            5 refused (quorum, preflight, no confirmation): nothing changed, 130 interrupted (run again)
`;

function formatReplace(report: MemberReplaceReport): string {
  if (report.dryRun) return `${report.plan ? formatPlan(report.plan) : ''}Dry run: nothing was changed.\n`;
  const lines = [
    `Replace of ${report.name} (${report.host}), run ${report.runId}: ${report.status}${report.resumed ? ' (continued an interrupted run)' : ''}`,
  ];
  if (report.failure) lines.push(`  failed:   ${report.failure}`);
  lines.push(`  old data: kept at ${report.oldDataAt}`);
  if (report.verdict?.ok && report.verdict.leader)
    lines.push(
      `  cluster:  verified - one leader (${report.verdict.leader.name}), cluster id ${report.verdict.clusterId ?? '?'}, members = inventory`,
    );
  else if (report.verdict) lines.push(`  cluster:  NOT verified - ${report.verdict.problems.join('; ')}`);
  lines.push(`  time:     ${formatDuration(report.wallMs)}`);
  for (const p of report.phases) lines.push(`    ${p.id.padEnd(16)} ${formatDuration(p.ms)}`);
  lines.push(`  journal:  ${report.journal}`);
  return `${lines.join('\n')}\n`;
}

export async function memberCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('member', args, {
    'dry-run': { type: 'boolean', short: 'n' },
    yes: { type: 'boolean', short: 'y' },
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
  const [action, inventoryFile, host, ...extra] = positionals;
  if (action !== 'replace')
    throw new UsageError(action ? `unknown member action "${action}"` : 'no member action given', 'orchestrate member replace INVENTORY HOST');
  if (!inventoryFile || !host || extra.length > 0)
    throw new UsageError('member replace takes an inventory and one host', 'orchestrate member replace INVENTORY HOST');
  const etcdSeconds = seconds(values['etcd-timeout'], '--etcd-timeout');
  const serviceSeconds = seconds(values['service-timeout'], '--service-timeout');
  const json = values.json === true;
  const { inventory, connect } = await loadForRecovery(inventoryFile, values, json, seconds);
  const interactive = process.stdin.isTTY && process.stderr.isTTY;
  const notices = {
    first: 'interrupted: finishing the step in flight, starting no new one (Ctrl-C again to exit at once)',
    second: 'interrupted again: exiting now; run the same command to continue the replace',
  };
  const { replaceMember } = await import('./recover/member-replace-run.js');
  const report = await withInterrupts(notices, (signal) =>
    replaceMember(
      {
        inventory,
        dryRun: values['dry-run'] === true,
        yes: values.yes === true,
        emit: printer(json),
        ...(interactive ? { confirm: askOnTerminal } : {}),
        connect,
        signal,
        timeouts: {
          serviceSeconds: serviceSeconds ?? DEFAULT_RECOVER_TIMEOUTS.serviceSeconds,
          etcdSeconds: etcdSeconds ?? DEFAULT_RECOVER_TIMEOUTS.etcdSeconds,
        },
      },
      host,
    ),
  );
  if (json) process.stdout.write(`${JSON.stringify({ type: 'report', ...report })}\n`);
  else process.stdout.write(formatReplace(report));
  return report.exitCode;
}
