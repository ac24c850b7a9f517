// Wires sub-commands to their modules. Each command is loaded only when used, so start-up stays fast.
import { ExitCode, OrchestrateError } from '../errors.js';
import { printError } from './print-error.js';

type CommandFn = (args: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<CommandFn> }> = {
  validate: {
    summary: 'check inventories and playbooks (file:line:col errors)',
    load: async () => (await import('../commands/validate.js')).validateCommand,
  },
  run: { summary: 'run a playbook: orchestrate run PLAYBOOK -i INVENTORY', load: async () => (await import('../commands/run.js')).runCommand },
  backup: {
    summary: 'take a verified etcd snapshot: orchestrate backup INVENTORY',
    load: async () => (await import('../commands/backup.js')).backupCommand,
  },
  restore: {
    summary: 'restore every etcd member from a snapshot: orchestrate restore INVENTORY',
    load: async () => (await import('../commands/restore/index.js')).restoreCommand,
  },
  snapshots: { summary: 'list, verify and prune snapshots', load: async () => (await import('../commands/snapshots.js')).snapshotsCommand },
  status: { summary: 'cluster health and age of the newest good backup', load: async () => (await import('../commands/status.js')).statusCommand },
  drill: {
    summary: 'prove a snapshot restores, in a throwaway etcd cluster on this host',
    load: async () => (await import('../commands/drill.js')).drillCommand,
  },
  report: {
    summary: 'one self-contained HTML file: the last restore as a timeline, backups, drills, status',
    load: async () => (await import('../commands/report.js')).reportCommand,
  },
  lab: { summary: 'bring a local lab of real hosts up or down (root only)', load: async () => (await import('../commands/lab.js')).labCommand },
  demo: { summary: 'run the whole story on a local lab', load: async () => (await import('../commands/demo.js')).demoCommand },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: orchestrate <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`orchestrate <command> --help\` for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? ExitCode.ok : ExitCode.config;
  }
  if (name === '--version') {
    process.stdout.write('orchestrate 0.1.0\n');
    return ExitCode.ok;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`orchestrate: unknown command "${name}"\n\n${usage()}`);
    return ExitCode.config;
  }
  try {
    const run = await command.load();
    return await run(rest);
  } catch (error) {
    printError(error);
    return error instanceof OrchestrateError ? error.exitCode : ExitCode.internal;
  }
}
