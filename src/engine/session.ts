// What the passes of one command share: the inventory, the module catalog, the connections (opened once),
// the facts and registered results, and the typed run state. `orchestrate run` makes one pass; `restore`
// makes several over one session (the preflight, the preview, the run, perhaps the rollback).
import type { Inventory, Playbook, Vars } from '../config/types.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { hostRunnerKey } from '../modules/host-runner.js';
import { RunState } from '../modules/run-state.js';
import { UnreachableError } from '../errors.js';
import { ConnectionPool, type ConnectionOptions } from './connections.js';
import { FactStore } from './facts.js';
import type { RunContext } from './invocation.js';
import { precheck, type PrecheckResult } from './precheck.js';
import type { TagFilter } from './selection.js';

export interface EngineSessionOptions {
  inventory: Inventory;
  catalog: ModuleRegistry;
  /** `-e` and the command's own variables: the highest precedence. */
  extraVars?: Vars;
  connection?: ConnectionOptions;
  /** Connections of another session to run over (a rollback over the restore's); the other session closes them. */
  sharedConnections?: ConnectionPool;
  state?: RunState;
}

export interface CheckOptions {
  limit?: string;
  tags?: TagFilter;
  dryRun: boolean;
}

export class EngineSession {
  readonly inventory: Inventory;
  readonly catalog: ModuleRegistry;
  readonly extraVars: Vars;
  readonly facts = new FactStore();
  readonly state: RunState;
  readonly connections: ConnectionPool;

  constructor(options: EngineSessionOptions) {
    this.inventory = options.inventory;
    this.catalog = options.catalog;
    this.extraVars = options.extraVars ?? {};
    this.state = options.state ?? new RunState();
    this.connections = options.sharedConnections ?? new ConnectionPool(options.inventory, options.connection ?? {});
    this.ownsConnections = options.sharedConnections === undefined;
    const connections = this.connections;
    this.state.set(hostRunnerKey, async (host, command, timeoutMs) => {
      const transport = await connections.get(host);
      if (transport instanceof UnreachableError) throw transport;
      return transport.exec(command, { timeoutMs, become: connections.specFor(host).become });
    });
  }

  private readonly ownsConnections: boolean;

  /** Every task rendered for every host before anything is contacted (throws ConfigError); which hosts need a connection. */
  check(playbook: Playbook, options: CheckOptions): PrecheckResult {
    return precheck({
      inventory: this.inventory,
      playbook,
      catalog: this.catalog,
      extraVars: this.extraVars,
      tags: options.tags ?? {},
      dryRun: options.dryRun,
      facts: this.facts,
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    });
  }

  /** The context a strategy gives the tasks of one pass. */
  runContext(dryRun: boolean, signal: AbortSignal, stepSignal?: AbortSignal): RunContext {
    return {
      inventory: this.inventory,
      catalog: this.catalog,
      connections: this.connections,
      dryRun,
      signal,
      state: this.state,
      ...(stepSignal ? { stepSignal } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.ownsConnections) await this.connections.closeAll();
  }
}
