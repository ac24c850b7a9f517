// Entry point of the engine: load, check everything before touching a host, connect in parallel,
// run the plays, report, close. `orchestrate run`, `backup` and `restore` all go through here.
import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatProblems } from '../config/format-problems.js';
import { loadInventory, type LoadInventoryOptions } from '../config/inventory.js';
import { loadPlaybook } from '../config/playbook.js';
import type { Inventory, Playbook } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { coreCatalog } from '../modules/core-catalog.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { ConnectionOptions } from './connections.js';
import { exitCodeOf, runLinear } from './linear.js';
import { runPhased, type PhaseEvent, type PhasedRun, type PhasePolicy } from './phased.js';
import { RunRecorder } from './recorder.js';
import { createReporter } from './reporters/create.js';
import type { TagFilter } from './selection.js';
import { EngineSession } from './session.js';
import type { HostPlan, HostStats, Reporter, RunPlaybookOptions, RunSummary } from './types.js';

export const defaultForks = 50;

export async function runPlaybook(options: RunPlaybookOptions): Promise<RunSummary> {
  const started = performance.now();
  const phase = phaseTimer(started);
  const dryRun = options.dryRun ?? false;
  const tags = { ...(options.tags ? { tags: options.tags } : {}), ...(options.skipTags ? { skipTags: options.skipTags } : {}) };

  const { inventory, warnings } = await inventoryFrom(options.inventory, options.inventoryOptions);
  phase('inventory loaded');
  // Our SSH transport module is fetched while the playbook is read (ssh2 itself loads on the first connection).
  if (!options.openTransports && reachedOverSsh(inventory)) void import('../transport/ssh-transport.js').catch(() => undefined);
  const { playbook, catalog } = await playbookFrom(options.playbook, options.catalog, options.rolesPath);
  phase('playbook loaded');
  const session = new EngineSession({
    inventory,
    catalog,
    extraVars: options.extraVars ?? {},
    connection: connectionOptionsOf(options),
    ...(options.state ? { state: options.state } : {}),
  });
  const checked = session.check(playbook, { tags, dryRun, ...(options.limit !== undefined ? { limit: options.limit } : {}) });
  phase('pre-check done');

  // Connections start as soon as the pre-check has passed, not earlier, by choice: a playbook with a
  // configuration error ends (exit 2) before any host is contacted, not even for an SSH login, and only the
  // hosts the pre-check found to need a connection are contacted. Starting on a guess made from the
  // inventory alone would save only the loading and checking of the playbook (~20 ms), and would log in to
  // hosts the run never uses; a connection still pending to such a host cannot be called off, so a silent
  // one would hold the process until its connect timeout. What needs no connection is done while the
  // handshakes run (~100 ms, mostly the servers' work): the reporter (listr2 on a terminal), the warnings and
  // the run_start event. The first task waits for the connections, so its duration does not include them.
  let reporter: Reporter;
  let pass: PassOutcome;
  try {
    const connecting = session.connections.openAll(checked.connect);
    // Awaited below; should it fail before that (a broken installation), that is not an unhandled rejection.
    connecting.catch(() => undefined);
    reporter = options.reporter ?? (await createReporter(options.output ?? 'auto', { dryRun }));
    for (const warning of [...warnings, ...playbookWarnings(playbook)]) await reporter.event({ type: 'warning', message: warning });
    await reporter.event({ type: 'run_start', playbook: playbook.file, dryRun });
    await connecting;
    phase(`${checked.connect.length} connections open`);
    const signal = options.signal ?? new AbortController().signal;
    pass = await runPass(session, playbook, checked.playHosts, {
      dryRun,
      signal,
      tags,
      forks: Math.max(1, options.forks ?? defaultForks),
      reporter,
      ...(options.phased ? { phased: options.phased } : {}),
    });
    phase('tasks done');
  } finally {
    await session.close();
    phase('connections closed');
  }
  const summary: RunSummary = {
    exitCode: exitCodeOf(pass.stats, pass.interrupted),
    interrupted: pass.interrupted,
    dryRun,
    durationMs: performance.now() - started,
    stats: pass.stats,
    hostFacts: session.facts.snapshot(),
    results: pass.results,
    ...(dryRun ? { plan: pass.plan } : {}),
    ...(pass.phased ? { phased: pass.phased } : {}),
  };
  await reporter.event({ type: 'recap', summary });
  await reporter.close();
  return summary;
}

export interface PassOptions {
  dryRun: boolean;
  signal: AbortSignal;
  tags: TagFilter;
  forks: number;
  reporter: Reporter;
  /** Run with the journaled-phase strategy under this policy instead of the linear one. */
  phased?: { policy: PhasePolicy; onEvent?: (event: PhaseEvent) => void; onlyHosts?: ReadonlySet<string> };
}

export interface PassOutcome {
  stats: Record<string, HostStats>;
  results: RunSummary['results'];
  plan: HostPlan[];
  interrupted: boolean;
  phased?: PhasedRun;
}

/** One pass of a playbook over a session's connections, with either strategy. */
export async function runPass(session: EngineSession, playbook: Playbook, playHosts: string[][], options: PassOptions): Promise<PassOutcome> {
  const recorder = new RunRecorder(options.reporter, session.catalog, options.dryRun);
  const input = {
    session,
    run: session.runContext(options.dryRun, options.signal),
    playbook,
    playHosts,
    forks: options.forks,
    tags: options.tags,
    reporter: options.reporter,
    recorder,
  };
  let interrupted: boolean;
  let phased: PhasedRun | undefined;
  if (options.phased) {
    const { policy, onEvent, onlyHosts } = options.phased;
    phased = await runPhased({ ...input, policy, interrupt: options.signal, ...(onEvent ? { onEvent } : {}), ...(onlyHosts ? { onlyHosts } : {}) });
    interrupted = phased.interrupted;
  } else {
    interrupted = await runLinear(input);
  }
  return {
    stats: Object.fromEntries(recorder.stats),
    results: recorder.results,
    plan: recorder.plan(),
    interrupted: interrupted || options.signal.aborted,
    ...(phased ? { phased } : {}),
  };
}

export function connectionOptionsOf(
  options: Pick<
    RunPlaybookOptions,
    'acceptNewHostKeys' | 'knownHostsFile' | 'sshConfigFile' | 'hostKeyPolicy' | 'hostKeyPolicyReason' | 'connectTimeoutMs' | 'openTransports'
  >,
): ConnectionOptions {
  return {
    acceptNewHostKeys: options.acceptNewHostKeys ?? false,
    ...(options.knownHostsFile !== undefined ? { knownHostsFile: options.knownHostsFile } : {}),
    ...(options.sshConfigFile !== undefined ? { sshConfigFile: options.sshConfigFile } : {}),
    ...(options.hostKeyPolicy !== undefined ? { hostKeyPolicy: options.hostKeyPolicy } : {}),
    ...(options.hostKeyPolicyReason !== undefined ? { hostKeyPolicyReason: options.hostKeyPolicyReason } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.openTransports ? { openTransports: options.openTransports } : {}),
  };
}

/** ORCHESTRATE_TIMING=1: where the time of a run goes, on stderr (start-up work is measured by the benchmark). */
function phaseTimer(started: number): (name: string) => void {
  if (process.env.ORCHESTRATE_TIMING !== '1') return () => undefined;
  process.stderr.write(`timing: ${performance.now().toFixed(0)} ms since process start: engine loaded\n`);
  return (name) => process.stderr.write(`timing: +${(performance.now() - started).toFixed(0)} ms ${name}\n`);
}

function reachedOverSsh(inventory: Inventory): boolean {
  for (const host of inventory.hosts.values()) if (host.vars.ansible_connection !== 'local') return true;
  return false;
}

async function inventoryFrom(source: string | Inventory, options?: LoadInventoryOptions): Promise<{ inventory: Inventory; warnings: string[] }> {
  if (typeof source !== 'string') return { inventory: source, warnings: [] };
  const loaded = await loadInventory(resolve(source), options);
  return { inventory: loaded.inventory, warnings: loaded.warnings.map((w) => formatProblems([w]).trimEnd()) };
}

function playbookWarnings(playbook: Playbook): string[] {
  const warnings = (playbook.warnings ?? []).filter((p) => p.severity === 'warning');
  if (warnings.length === 0) return [];
  return warnings.map((w) => formatProblems([w]).trimEnd());
}

/**
 * The playbook and the catalog to run it with. Unless told which catalog, a playbook that uses only core
 * modules is loaded with the core catalog (the etcd/backup/restore modules are then never loaded, which
 * keeps start-up short); if it names any other module, or loading with the core catalog finds an unknown
 * module (one used in a role file, say), the full catalog is used.
 */
export async function playbookFrom(
  source: string | Playbook,
  given: ModuleRegistry | undefined,
  rolesPath: readonly string[] = [],
): Promise<{ playbook: Playbook; catalog: ModuleRegistry }> {
  const full = async (): Promise<ModuleRegistry> => (await import('../modules/registry.js')).moduleCatalog;
  if (typeof source !== 'string') {
    if (given) return { playbook: source, catalog: given };
    const coreOnly = source.plays.every((play) => play.tasks.every((task) => coreCatalog.lookup(task.module) !== undefined));
    return { playbook: source, catalog: coreOnly ? coreCatalog : await full() };
  }
  const file = resolve(source);
  if (given) return { playbook: await loadPlaybook(file, given, { rolesPath }), catalog: given };
  if (!(await namesNonCoreModule(file))) {
    try {
      return { playbook: await loadPlaybook(file, coreCatalog, { rolesPath }), catalog: coreCatalog };
    } catch (error) {
      const unknownName =
        error instanceof ConfigError && error.problems.some((p) => p.code === 'playbook.unknown-module' || p.code === 'playbook.unknown-keyword');
      if (!unknownName) throw error;
    }
  }
  const catalog = await full();
  return { playbook: await loadPlaybook(file, catalog, { rolesPath }), catalog };
}

/** A task key like `etcd.snapshot:` (dotted, not `ansible.*`) in the playbook file itself. */
async function namesNonCoreModule(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const match of text.matchAll(/^[\s-]*([A-Za-z_][\w-]*\.[\w.-]+)\s*:/gm)) {
    if (!match[1]?.startsWith('ansible.')) return true;
  }
  return false;
}
