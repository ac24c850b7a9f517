// Entry point of the engine: load, check everything before touching a host, connect in parallel,
// run the plays, report, close. `orchestrate run`, `backup` and `restore` all go through here.
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import type { Inventory, Playbook } from '../config/types.js';
import { moduleCatalog } from '../modules/registry.js';
import { ConnectionPool } from './connections.js';
import { FactStore } from './facts.js';
import { exitCodeOf, runLinear } from './linear.js';
import { precheck } from './precheck.js';
import { createReporter } from './reporters/create.js';
import type { RunPlaybookOptions, RunSummary } from './types.js';

export const defaultForks = 50;

export async function runPlaybook(options: RunPlaybookOptions): Promise<RunSummary> {
  const started = performance.now();
  const phase = phaseTimer(started);
  const catalog = options.catalog ?? moduleCatalog;
  const dryRun = options.dryRun ?? false;
  const extraVars = options.extraVars ?? {};
  const tags = { ...(options.tags ? { tags: options.tags } : {}), ...(options.skipTags ? { skipTags: options.skipTags } : {}) };

  // Load the SSH client while the files are read and checked (loading it touches no host).
  const sshLoaded = options.openTransports ? undefined : import('../transport/ssh-transport.js').catch(() => undefined);
  const { inventory, warnings } = await inventoryFrom(options.inventory);
  phase('inventory loaded');
  const playbook = await playbookFrom(options.playbook, catalog);
  phase('playbook loaded');
  const checked = precheck({ inventory, playbook, catalog, extraVars, tags, dryRun, ...(options.limit !== undefined ? { limit: options.limit } : {}) });

  phase('pre-check done');
  const reporter = options.reporter ?? (await createReporter(options.output ?? 'auto', { dryRun }));
  for (const warning of [...warnings, ...(await playbookWarnings(playbook))]) await reporter.event({ type: 'warning', message: warning });
  await reporter.event({ type: 'run_start', playbook: playbook.file, dryRun });

  const signal = options.signal ?? new AbortController().signal;
  const connections = new ConnectionPool(inventory, {
    acceptNewHostKeys: options.acceptNewHostKeys ?? false,
    ...(options.knownHostsFile !== undefined ? { knownHostsFile: options.knownHostsFile } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.openTransports ? { openTransports: options.openTransports } : {}),
  });
  const facts = new FactStore();
  let outcome;
  try {
    await sshLoaded;
    await connections.openAll(checked.connect);
    phase(`${checked.connect.length} connections open`);
    outcome = await runLinear({
      run: { inventory, catalog, connections, dryRun, signal },
      playbook,
      playHosts: checked.playHosts,
      extraVars,
      facts,
      forks: Math.max(1, options.forks ?? defaultForks),
      tags,
      reporter,
    });
    phase('tasks done');
  } finally {
    await connections.closeAll();
    phase('connections closed');
  }
  const summary: RunSummary = {
    exitCode: exitCodeOf(outcome.stats, outcome.interrupted),
    interrupted: outcome.interrupted,
    dryRun,
    durationMs: performance.now() - started,
    stats: outcome.stats,
    hostFacts: facts.snapshot(),
    results: outcome.results,
    ...(dryRun ? { plan: outcome.plan } : {}),
  };
  await reporter.event({ type: 'recap', summary });
  await reporter.close();
  return summary;
}

/** ORCHESTRATE_TIMING=1: where the time of a run goes, on stderr (start-up work is measured by the benchmark). */
function phaseTimer(started: number): (name: string) => void {
  if (process.env.ORCHESTRATE_TIMING !== '1') return () => undefined;
  process.stderr.write(`timing: ${performance.now().toFixed(0)} ms since process start: engine loaded\n`);
  return (name) => process.stderr.write(`timing: +${(performance.now() - started).toFixed(0)} ms ${name}\n`);
}

async function inventoryFrom(source: string | Inventory): Promise<{ inventory: Inventory; warnings: string[] }> {
  if (typeof source !== 'string') return { inventory: source, warnings: [] };
  const { loadInventory } = await import('../config/inventory.js');
  const { formatProblems } = await import('../config/format-problems.js');
  const loaded = await loadInventory(resolve(source));
  return { inventory: loaded.inventory, warnings: loaded.warnings.map((w) => formatProblems([w]).trimEnd()) };
}

async function playbookWarnings(playbook: Playbook): Promise<string[]> {
  const warnings = (playbook.warnings ?? []).filter((p) => p.severity === 'warning');
  if (warnings.length === 0) return [];
  const { formatProblems } = await import('../config/format-problems.js');
  return warnings.map((w) => formatProblems([w]).trimEnd());
}

async function playbookFrom(source: string | Playbook, catalog: RunPlaybookOptions['catalog'] & object): Promise<Playbook> {
  if (typeof source !== 'string') return source;
  const { loadPlaybook } = await import('../config/playbook.js');
  return loadPlaybook(resolve(source), catalog);
}
