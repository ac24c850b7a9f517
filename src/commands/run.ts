// `orchestrate run PLAYBOOK -i INVENTORY`: run an Ansible-style playbook over SSH.
import { ExitCode } from '../errors.js';
import { acceptNewHostKeys, ansibleDefaults, inventoryArgument } from './ansible-defaults.js';
import { connectionOptions, helpOption, parseCommandLine, positiveInteger, singleArgument, withInterrupts } from './command-line.js';

const usage = `usage: orchestrate run PLAYBOOK -i INVENTORY [options]

Runs an Ansible-style playbook over SSH: each task on all its hosts before the next.

options:
  -i, --inventory FILE     the inventory: YAML or INI, or a folder holding one (a kubeasz
                           cluster folder); default: inventory in ansible.cfg
  -l, --limit PATTERN      only these hosts/groups (a:b union, a:&b, a:!b)
  -e, --extra-vars VARS    key=value, a JSON/YAML mapping, or @file.yml (repeatable; highest precedence)
  -f, --forks N            hosts worked on at once (default: forks in ansible.cfg, else 50)
  -t, --tags TAGS          only tasks with these tags (comma-separated)
      --skip-tags TAGS     leave out tasks with these tags
  -n, --dry-run            print, per host and in order, the exact commands and transfers; change nothing
      --json               one JSON object per line on stdout (events, then the recap)
      --accept-new-host-keys  trust and record host keys not seen before (never changed ones;
                           also when ansible.cfg says host_key_checking = False)
      --known-hosts FILE   known hosts file (default ~/.ssh/known_hosts)
      --connect-timeout S  seconds to connect to each host (default: timeout in ansible.cfg, else
                           ConnectTimeout of ssh_config, else 10)
      --ssh-config FILE    read this ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F)
  -h, --help               this text

exit codes: 0 ok, 2 configuration or usage error (nothing ran), 3 a task failed,
            4 a host was unreachable, 130 interrupted
`;

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('run', args, {
    inventory: { type: 'string', short: 'i' },
    limit: { type: 'string', short: 'l' },
    'extra-vars': { type: 'string', short: 'e', multiple: true },
    forks: { type: 'string', short: 'f' },
    tags: { type: 'string', short: 't', multiple: true },
    'skip-tags': { type: 'string', multiple: true },
    'dry-run': { type: 'boolean', short: 'n' },
    check: { type: 'boolean' },
    json: { type: 'boolean' },
    ...connectionOptions,
    ...helpOption,
  });
  if (values.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  const playbook = singleArgument(positionals, 'playbook', 'orchestrate run PLAYBOOK -i INVENTORY');
  const defaults = await ansibleDefaults();
  const inventory = await inventoryArgument(values.inventory, defaults.settings, 'add -i INVENTORY');
  const forks = values.forks === undefined ? defaults.settings.forks?.value : positiveInteger(values.forks, '--forks');
  const connectTimeout =
    values['connect-timeout'] === undefined ? defaults.settings.timeout?.value : positiveInteger(values['connect-timeout'], '--connect-timeout');

  const { parseExtraVars, runPlaybook } = await import('../engine/index.js');
  const extraVars = await parseExtraVars(values['extra-vars'] ?? []);
  const notices = {
    first: 'interrupted: stopping running commands, no new task starts (Ctrl-C again to exit at once)',
    second: 'interrupted again: exiting now',
  };
  const summary = await withInterrupts(notices, (signal) =>
    runPlaybook({
      playbook,
      inventory,
      inventoryOptions: defaults.inventoryOptions,
      rolesPath: defaults.settings.rolesPath.value,
      extraVars,
      dryRun: values['dry-run'] === true || values.check === true,
      output: values.json ? 'json' : 'auto',
      acceptNewHostKeys: acceptNewHostKeys(values['accept-new-host-keys'] === true, defaults.hostKeys),
      signal,
      ...(values.limit !== undefined ? { limit: values.limit } : {}),
      ...(forks !== undefined ? { forks } : {}),
      ...(connectTimeout !== undefined ? { connectTimeoutMs: connectTimeout * 1000 } : {}),
      ...(values['known-hosts'] !== undefined ? { knownHostsFile: values['known-hosts'] } : {}),
      ...(values['ssh-config'] !== undefined ? { sshConfigFile: values['ssh-config'] } : {}),
      ...(values.tags ? { tags: splitList(values.tags) } : {}),
      ...(values['skip-tags'] ? { skipTags: splitList(values['skip-tags']) } : {}),
    }),
  );
  return summary.exitCode;
}

function splitList(values: string[]): string[] {
  return values
    .flatMap((value) => value.split(','))
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}
