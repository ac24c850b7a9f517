// `orchestrate drill INVENTORY`: prove a snapshot restores, in a throwaway etcd cluster on this host.
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { helpOption, parseCommandLine, positiveInteger, singleArgument, withInterrupts } from './command-line.js';

const usage = `usage: orchestrate drill INVENTORY [--snapshot latest|FILE|s3://BUCKET/KEY] [--members N] [--json]

Proves that a snapshot restores. Verifies it, restores it into a throwaway etcd cluster on this host
(N members, each with its own name and peer URL, on free 127.0.0.1 ports, in a temporary folder; no
root needed, the real cluster is never contacted), checks that the cluster reaches quorum with one
leader and one cluster id, serves the snapshot's revision, holds every key and value of the snapshot,
and passes the inventory's drill_expect assertions; then stops every process by pid and removes the
folder. Every drill is recorded in the catalog and in the drill metrics.

options:
      --snapshot FILE|latest|s3://BUCKET/KEY
                               the snapshot (default: the newest verified one in backup_dir); a raw
                               member/snap/db is accepted (restored with --skip-hash-check); an
                               age-encrypted one (FILE.age, backup_encryption.local) is decrypted with
                               the identity into a temporary file; s3:// is downloaded from backup_remote,
                               checked against its record, decrypted and verified (both removed after)
      --members N              members of the throwaway cluster (default: the inventory's count)
      --timeout S              seconds for the members to reach quorum (default 60)
      --work-dir DIR           where the temporary folder goes (default: drill_work_dir, or $TMPDIR)
      --bump-revision N        revision bump when the restore tool supports it (etcdutl 3.5+;
                               default 1000000000, 0 turns it off)
      --metrics-file FILE      the backup metrics file; the drill's go beside it (orchestrate_drill.prom)
      --json                   one JSON object on stdout
  -h, --help                   this text

exit codes: 0 the snapshot restores and every check passed
            2 configuration or usage error
            3 the drill failed: the cluster did not start or reach quorum, or a check or an
              expectation failed (the message names it)
            5 refused before anything started: the snapshot fails verification, etcd or
              etcdutl/etcdctl is missing (the Debian package is named), not enough disk space
            130 interrupted: every process was stopped and the folder removed
`;

export async function drillCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('drill', args, {
    snapshot: { type: 'string' },
    members: { type: 'string' },
    timeout: { type: 'string' },
    'work-dir': { type: 'string' },
    'bump-revision': { type: 'string' },
    'metrics-file': { type: 'string' },
    json: { type: 'boolean' },
    ...helpOption,
  });
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  const inventoryFile = singleArgument(positionals, 'inventory', 'orchestrate drill INVENTORY [--snapshot latest|FILE] [--members N]');
  const members = values.members === undefined ? undefined : positiveInteger(values.members, '--members');
  if (members !== undefined && members > 9) throw new UsageError(`--members ${members}: a drill runs at most 9 members on this host`);
  const timeout = values.timeout === undefined ? undefined : positiveInteger(values.timeout, '--timeout');
  const bump = values['bump-revision'];
  if (bump !== undefined && !/^\d+$/.test(bump)) throw new UsageError(`--bump-revision must be a whole number (0 turns it off), not "${bump}"`);

  const { loadInventory } = await import('../config/inventory.js');
  const { formatProblems } = await import('../config/format-problems.js');
  const { inventory, warnings } = await loadInventory(resolve(inventoryFile), { requireEtcd: true });
  if (warnings.length && !values.json) process.stderr.write(formatProblems(warnings));
  const { drillSnapshot } = await import('../drill/drill-run.js');
  const { drillSnapshotOpener } = await import('./drill-opener.js');
  const { formatDrillEvent, formatDrillResult } = await import('../drill/drill-text.js');
  const json = values.json === true;
  const notices = {
    first: 'interrupted: stopping the drill members and removing their folder (Ctrl-C again to exit at once; the folder is still removed)',
    second: 'interrupted again: killing the drill members and exiting',
  };
  const result = await withInterrupts(notices, (signal) =>
    drillSnapshot({
      inventory,
      signal,
      opener: drillSnapshotOpener(inventory),
      ...(values.snapshot !== undefined ? { snapshot: values.snapshot } : {}),
      ...(members !== undefined ? { members } : {}),
      ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
      ...(values['work-dir'] !== undefined ? { workDir: resolve(values['work-dir']) } : {}),
      ...(bump !== undefined ? { bumpRevision: Number(bump) } : {}),
      ...(values['metrics-file'] !== undefined ? { metricsFile: values['metrics-file'] } : {}),
      ...(json ? {} : { emit: (event) => process.stdout.write(formatDrillEvent(event)) }),
    }),
  );
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : formatDrillResult(result));
  return result.exitCode;
}
