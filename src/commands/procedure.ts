// A built-in procedure (restore, its rollback) run from its YAML through the engine: loaded and checked
// against the inventory before any host is contacted, every host it needs connected at once (one
// unreachable host refuses the whole procedure), then run in passes over the same connections: a dry pass
// for the preflight and the preview, a real pass under the command's journal policy.
import { resolve } from 'node:path';
import { loadPlaybook } from '../config/playbook.js';
import type { Inventory, Playbook, Vars } from '../config/types.js';
import { ConfigError, UnreachableError } from '../errors.js';
import type { ConnectionOptions } from '../engine/connections.js';
import type { PhaseEvent, PhasedRun, PhasePolicy } from '../engine/phased.js';
import { proceduresPhases } from '../engine/phases.js';
import { runPass } from '../engine/run-playbook.js';
import { SilentReporter } from '../engine/reporters/plain.js';
import { EngineSession } from '../engine/session.js';
import { moduleCatalog } from '../modules/registry.js';
import type { RunState } from '../modules/run-state.js';

export interface ProcedureOptions {
  inventory: Inventory;
  /** Groups the procedure's plays name that an inventory may leave out (a cluster without kube_node hosts). */
  optionalGroups?: readonly string[];
  /** The procedure's YAML (a built-in one, or the operator's copy given with --playbook). */
  playbookFile: string;
  extraVars: Vars;
  /** Per-host values the command knows before the run (run-time ones may be Deferred placeholders). */
  hostFacts?: ReadonlyMap<string, Vars>;
  /** Phases the command's logic relies on: a copy of the procedure without one of them is refused. */
  requiredPhases?: readonly string[];
  connection: ConnectionOptions;
  forks?: number;
  /** Keep going when hosts are unreachable (a read-only diagnosis reports them): they are listed in `unreachable`. */
  allowUnreachable?: boolean;
  /** Typed values the modules start from (what a journal recorded). */
  state?: RunState;
}

export interface PassRequest {
  dryRun: boolean;
  tags?: string[];
  skipTags?: string[];
  policy?: PhasePolicy;
  signal?: AbortSignal;
  onEvent?: (event: PhaseEvent) => void;
  /** Run only on these hosts. */
  onlyHosts?: ReadonlySet<string>;
}

export class Procedure {
  private constructor(
    readonly session: EngineSession,
    readonly playbook: Playbook,
    private readonly playHosts: string[][],
    private readonly forks: number,
    /** Hosts that could not be connected (only with allowUnreachable): host -> why. */
    readonly unreachable: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** Load and check the procedure, then connect to every host it runs on (or use `over`'s connections); nothing is changed anywhere. */
  static async open(options: ProcedureOptions, nothingChanged: boolean, over?: Procedure): Promise<Procedure> {
    const playbook = await loadPlaybook(resolve(options.playbookFile), moduleCatalog);
    requirePhases(playbook, options.requiredPhases ?? []);
    const session = new EngineSession({
      inventory: withGroups(options.inventory, options.optionalGroups ?? []),
      catalog: moduleCatalog,
      extraVars: options.extraVars,
      connection: options.connection,
      ...(over ? { sharedConnections: over.session.connections } : {}),
      ...(options.state ? { state: options.state } : {}),
    });
    for (const [host, vars] of options.hostFacts ?? []) session.facts.merge(host, vars);
    const checked = session.check(playbook, { dryRun: false });
    await session.connections.openAll(checked.connect);
    const failed: UnreachableError[] = [];
    for (const host of checked.connect) {
      const entry = await session.connections.get(host);
      if (entry instanceof UnreachableError) failed.push(entry);
    }
    if (failed.length > 0 && options.allowUnreachable) {
      return new Procedure(session, playbook, checked.playHosts, options.forks ?? 50, new Map(failed.map((f) => [f.host, f.message])));
    }
    if (failed.length > 0) {
      await session.close();
      throw new UnreachableError(
        failed.map((f) => f.host).join(', '),
        `${failed.length === 1 ? 'is' : 'are'} unreachable (${failed.map((f) => f.message).join('; ')})${nothingChanged ? '; nothing was changed' : ''}`,
        failed.find((f) => f.hint)?.hint ?? 'every member and kube host must be reachable before the procedure starts',
      );
    }
    return new Procedure(session, playbook, checked.playHosts, options.forks ?? 50);
  }

  /** One pass of the procedure's phases (a dry pass runs only read-only steps). */
  async pass(request: PassRequest): Promise<PhasedRun> {
    const outcome = await runPass(this.session, this.playbook, this.playHosts, {
      dryRun: request.dryRun,
      signal: request.signal ?? new AbortController().signal,
      tags: { ...(request.tags ? { tags: request.tags } : {}), ...(request.skipTags ? { skipTags: request.skipTags } : {}) },
      forks: this.forks,
      reporter: new SilentReporter(),
      phased: {
        policy: request.policy ?? {},
        ...(request.onEvent ? { onEvent: request.onEvent } : {}),
        ...(request.onlyHosts ? { onlyHosts: request.onlyHosts } : {}),
      },
    });
    if (!outcome.phased) throw new Error('a procedure pass ran without the phased strategy');
    return outcome.phased;
  }

  /** Every inventory host the phases left after these tags run on. */
  hostsOf(tags: { tags?: string[]; skipTags?: string[] }): Set<string> {
    const phases = proceduresPhases(this.playbook, tags, this.session.catalog);
    return new Set(phases.flatMap((phase) => this.playHosts[phase.playIndex] ?? []));
  }

  setHostFact(host: string, name: string, value: unknown): void {
    this.session.facts.set(host, name, value);
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

/** The inventory with an empty group for each optional group it does not have: its plays then run on no host. */
function withGroups(inventory: Inventory, groups: readonly string[]): Inventory {
  const missing = groups.filter((group) => !inventory.groups.has(group));
  if (missing.length === 0) return inventory;
  return { ...inventory, groups: new Map([...inventory.groups, ...missing.map((group): [string, string[]] => [group, []])]) };
}

/** A copy of a procedure that lost a phase the command relies on would run without its safety: refuse it. */
function requirePhases(playbook: Playbook, required: readonly string[]): void {
  const ids = new Set(proceduresPhases(playbook, {}, moduleCatalog).map((phase) => phase.id));
  const missing = required.filter((id) => !ids.has(id));
  if (missing.length === 0) return;
  throw new ConfigError([
    {
      severity: 'error',
      code: 'procedure.missing-phase',
      message: `${playbook.file} has no task tagged ${missing.map((id) => `"${id}"`).join(', ')}: the command relies on ${missing.length === 1 ? 'that phase' : 'those phases'}`,
      expected: `the phases of the built-in procedure, each task's first tag naming its phase`,
      hint: 'start from a copy of the built-in file and keep its tags; add your own tasks with tags of their own',
      loc: { file: playbook.file, line: 1, col: 1 },
    },
  ]);
}
