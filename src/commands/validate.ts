// `orchestrate validate FILE...`: check inventories and playbooks, print every problem, exit 0 only if all are valid.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode, UsageError, type ConfigProblem } from '../errors.js';
import { formatProblems } from '../config/format-problems.js';
import { isValid, validateFile } from '../config/validate-files.js';
import { moduleCatalog } from '../modules/registry.js';
import type { LoadInventoryOptions } from '../config/inventory.js';

const usage = `usage: orchestrate validate FILE...

Checks each inventory and playbook (told apart by content: a list of plays is a playbook,
a mapping of groups or an INI file with [group] sections is an inventory, a folder is an
inventory folder such as a kubeasz cluster). Roles are found beside the playbook and through
roles_path in ansible.cfg. Prints every problem as file:line:col with the offending line;
exits 0 when all files are valid, 2 otherwise.
`;

export async function validateCommand(args: string[]): Promise<number> {
  let files: string[];
  try {
    const parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
    if (parsed.values.help) {
      process.stdout.write(usage);
      return ExitCode.ok;
    }
    files = parsed.positionals;
  } catch (error) {
    throw new UsageError((error as Error).message, 'run orchestrate validate --help');
  }
  if (files.length === 0)
    throw new UsageError(
      'validate needs at least one file',
      'name the files, e.g. orchestrate validate inventories/example.yml playbooks/backup.yml',
    );

  const { ansibleDefaults } = await import('./ansible-defaults.js');
  const { settings, inventoryOptions } = await ansibleDefaults();
  const reports = [];
  for (const file of files) {
    const report = await validateFile(file, moduleCatalog, { rolesPath: settings.rolesPath.value, inventoryOptions });
    // backup_remote and backup_encryption are checked as every command that reads them checks them.
    if (report.kind === 'inventory' && isValid(report)) report.problems.push(...(await remoteSettingsProblems(file, inventoryOptions)));
    reports.push(report);
  }
  const problems = reports.flatMap((report) => report.problems);
  if (problems.length > 0) process.stderr.write(formatProblems(problems));
  for (const report of reports) {
    if (isValid(report)) process.stdout.write(`OK ${report.file} (${report.summary ?? report.kind})\n`);
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const invalid = reports.filter((report) => !isValid(report)).length;
  if (errors > 0 || warnings > 0) {
    const counts = [
      errors > 0 ? `${errors} error${errors === 1 ? '' : 's'}` : '',
      warnings > 0 ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    process.stderr.write(`${counts}${invalid > 0 ? ` (${invalid} of ${reports.length} file${reports.length === 1 ? '' : 's'} invalid)` : ''}\n`);
  }
  return invalid > 0 ? ExitCode.config : ExitCode.ok;
}

async function remoteSettingsProblems(file: string, options: LoadInventoryOptions): Promise<ConfigProblem[]> {
  const { loadInventory } = await import('../config/inventory.js');
  const { readRemoteSettings } = await import('../remote/settings.js');
  const { placeRemoteProblems } = await import('../remote/place-problems.js');
  const { inventory } = await loadInventory(resolve(file), options);
  return placeRemoteProblems(inventory, readRemoteSettings(inventory).problems);
}
