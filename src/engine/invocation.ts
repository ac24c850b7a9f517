// What a strategy hands to the task executor: the run's shared parts and one task of one play.
import type { Inventory, Play, Task } from '../config/types.js';
import type { AnyModule } from '../modules/define.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { RunState } from '../modules/run-state.js';
import type { ConnectionPool } from './connections.js';
import type { PlayScope } from './scope.js';
import type { TaskRef } from './types.js';

export interface RunContext {
  inventory: Inventory;
  catalog: ModuleRegistry;
  connections: ConnectionPool;
  dryRun: boolean;
  /** An interrupt: no new task or step starts (cleanup steps still run). */
  signal: AbortSignal;
  /** What running steps get to abort them; defaults to `signal` (a phase whose commands must finish passes another). */
  stepSignal?: AbortSignal;
  /** Typed values the modules of this run share. */
  state: RunState;
}

export interface TaskInvocation {
  run: RunContext;
  play: Play;
  playScope: PlayScope;
  task: Task;
  module: AnyModule;
  ref: TaskRef;
  onRetry(host: string, attempt: number, retriesLeft: number, msg: string | undefined): void | Promise<void>;
}
