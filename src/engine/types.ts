// The engine's public shapes: options of a run, results per host and task, progress events, the summary.
import type { ConnectionSpec, Inventory, Playbook, Vars } from '../config/types.js';
import type { LoadInventoryOptions } from '../config/inventory.js';
import type { ExitCodeValue, SourceLocation, UnreachableError } from '../errors.js';
import type { PlannedStep } from '../modules/step.js';
import type { Transport } from '../transport/types.js';
import type { HostKeyPolicy } from '../transport/host-key-policy.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { RunState } from '../modules/run-state.js';
import type { PhaseEvent, PhasedRun, PhasePolicy } from './phased.js';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export type { PlannedStep } from '../modules/step.js';

/** What the progress display shows of a result: short, masked. */
export interface ResultDisplay {
  msg?: string;
  rc?: number;
  stdoutTail?: string;
  stderrTail?: string;
}

interface HostResultBase {
  host: string;
  /** Set when the steps ran elsewhere (`delegate_to`). */
  delegatedTo?: string;
  durationMs: number;
  /** What `register` stores: the module's result fields plus changed, failed, msg, skipped, results (loops). */
  result: Record<string, unknown>;
  display: ResultDisplay;
  steps: PlannedStep[];
  /** --dry-run: at least one step that would change something was printed, not run. */
  planned?: boolean;
  /** --dry-run: what the plan depends on (a condition or loop known only at run time). */
  note?: string;
  /** The task ran once for the batch on this host (`run_once`); the result was given to every host. */
  runOnceFrom?: string;
}

export type HostTaskResult =
  | (HostResultBase & { status: 'ok' })
  | (HostResultBase & { status: 'changed' })
  | (HostResultBase & { status: 'failed'; msg: string; ignored: boolean })
  | (HostResultBase & { status: 'skipped'; reason: string })
  | (HostResultBase & { status: 'unreachable'; msg: string });

export interface TaskRef {
  play: string;
  task: string;
  module: string;
  loc: SourceLocation;
}

export type RunEvent =
  | { type: 'run_start'; playbook: string; dryRun: boolean }
  | { type: 'play_start'; play: string; hosts: string[] }
  | ({ type: 'task_start'; hosts: string[] } & TaskRef)
  | ({ type: 'host_retry'; host: string; attempt: number; retriesLeft: number; msg?: string } & TaskRef)
  | ({ type: 'host_result'; result: HostTaskResult } & TaskRef)
  | { type: 'warning'; message: string }
  | { type: 'recap'; summary: RunSummary };

/** Receives progress. `event` may return a promise; the engine awaits it (the live display does). */
export interface Reporter {
  event(event: RunEvent): void | Promise<void>;
  /** Called once, after the recap event. */
  close(): Promise<void>;
}

export type OutputMode = 'auto' | 'tty' | 'plain' | 'json' | 'silent';

export interface HostStats {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  ignored: number;
}

export interface PlannedTask extends TaskRef {
  status: TaskStatus;
  planned: boolean;
  steps: PlannedStep[];
  note?: string;
}

export interface HostPlan {
  host: string;
  tasks: PlannedTask[];
}

export interface RunSummary {
  exitCode: ExitCodeValue;
  interrupted: boolean;
  dryRun: boolean;
  durationMs: number;
  /** Per host, in the order hosts were first seen. */
  stats: Record<string, HostStats>;
  /** Each host's facts and registered values at the end (what later steps of a procedure read). */
  hostFacts: Record<string, Vars>;
  /** Every result, in the order they arrived. */
  results: (TaskRef & { result: HostTaskResult })[];
  /** --dry-run: per host, in order, what every task would do. */
  plan?: HostPlan[];
  /** With the journaled-phase strategy: each phase's outcome. */
  phased?: PhasedRun;
}

export type OpenTransportsFn = (
  specs: readonly ConnectionSpec[],
  options: {
    knownHostsFile?: string;
    acceptNewHostKeys?: boolean;
    connectTimeoutMs?: number;
    sshConfigFile?: string;
    hostKeyPolicy?: HostKeyPolicy;
    hostKeyPolicyReason?: string;
  },
) => Promise<Map<string, Transport | UnreachableError>>;

export interface RunPlaybookOptions {
  /** A file to load, or an inventory already loaded. */
  inventory: string | Inventory;
  /** A file to load (with the module catalog), or a playbook already loaded. */
  playbook: string | Playbook;
  /** `-e`: the highest precedence. */
  extraVars?: Vars;
  /** `--limit` host pattern. */
  limit?: string;
  /** Hosts worked on at once. Default 50. */
  forks?: number;
  dryRun?: boolean;
  /** How progress is shown when no reporter is given. Default `auto` (live tree on a TTY, plain lines otherwise or under CI). */
  output?: OutputMode;
  /** Receives progress instead of the built-in display (backup/restore reuse the runner with their own). */
  reporter?: Reporter;
  acceptNewHostKeys?: boolean;
  knownHostsFile?: string;
  /** `--ssh-config`: read this ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F). */
  sshConfigFile?: string;
  /** Overrides StrictHostKeyChecking of ssh_config (e.g. accept-new for ansible.cfg's `host_key_checking = False`). */
  hostKeyPolicy?: HostKeyPolicy;
  /** Why that policy, said once per run when it is accept-new, e.g. `host_key_checking = False in ./ansible.cfg`. */
  hostKeyPolicyReason?: string;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** `--tags` / `--skip-tags`. */
  tags?: string[];
  skipTags?: string[];
  /** Abort: no new task starts, running commands are signalled, the recap is printed, exit code 130. */
  signal?: AbortSignal;
  /** Replace how connections are made (tests use fakes). */
  openTransports?: OpenTransportsFn;
  /** Replace the module catalog (tests). */
  catalog?: ModuleRegistry;
  /** Typed values the modules share with the command (the backup attempt); a new one by default. */
  state?: RunState;
  /** Run the playbook as a procedure: the journaled-phase strategy under this policy (backup, restore). */
  phased?: { policy: PhasePolicy; onEvent?: (event: PhaseEvent) => void };
  /** How the inventory is loaded when given as a path (ansible.cfg's remote_user and private_key_file). */
  inventoryOptions?: LoadInventoryOptions;
  /** ansible.cfg's roles_path: where roles are looked for after `<playbook dir>/roles`. */
  rolesPath?: readonly string[];
}
