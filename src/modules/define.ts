// A module is data plus a generator: it declares the JSON Schema of its arguments and yields the steps it needs.
import type { Inventory, InventoryHost, Vars } from '../config/types.js';
import type { Step, StepResult } from '../engine/step.js';

export interface ModuleContext {
  /** The host the task runs for (its inventory vars; delegation changes where steps run, not this). */
  host: InventoryHost;
  inventory: Inventory;
  /** Every variable visible to the task, after templating scope rules. */
  vars: Vars;
  dryRun: boolean;
  /** The task's `become`. */
  become: boolean;
}

/** How a module ended, before changed_when / failed_when are applied. */
export interface ModuleOutcome {
  changed: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: string;
  /** Extra result fields visible through `register` (stdout, rc, stat, ...). */
  result?: Record<string, unknown>;
  /** Facts to set on the host (set_fact). */
  facts?: Vars;
}

export type ModulePlan = AsyncGenerator<Step, ModuleOutcome, StepResult>;

export interface ModuleDefinition<Args = Record<string, unknown>> {
  /** Ansible's name where one exists (`shell`, `file`), otherwise `area.action` (`etcd.snapshot`). */
  id: string;
  aliases?: string[];
  /** JSON Schema (draft 2020-12) of the arguments after templating. */
  schema: Record<string, unknown>;
  /** Name of the argument a free-form string (`shell: echo hi`) maps to, if the module accepts one. */
  freeForm?: string;
  /** Arguments rendered for a shell: every `{{ }}` value inside them is shell-quoted as one word. */
  shellArgs?: string[];
  /** Modules that never touch a host (set_fact, debug, assert) run once per host without a connection. */
  local?: boolean;
  /** Checks beyond the schema (e.g. an ambiguous file mode), run on the templated arguments before anything runs; each string is one problem. */
  check?(args: Args): string[];
  plan(ctx: ModuleContext, args: Args): ModulePlan;
}

export function defineModule<Args>(definition: ModuleDefinition<Args>): ModuleDefinition<Args> {
  return definition;
}
