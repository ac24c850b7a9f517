// A module is data plus a generator, as an ESLint rule is `{ meta, schema, create }`: it declares what it is
// (meta), the JSON Schema of its arguments (from which their TypeScript type is derived, so the two cannot
// drift apart), and a plan that yields the steps it needs and receives their typed results.
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { Inventory, InventoryHost, Vars } from '../config/types.js';
import type { RunState } from './run-state.js';
import type { Step } from './step.js';

/** What the driver and the engine need to know about a module, declared instead of tested by id. */
export interface ModuleMeta {
  /**
   * `host`: its steps run on the task's host (or delegate) over its connection. `deploy-host`: it works in
   * this process (etcd client calls, files on the deploy host, templating) and needs no connection.
   */
  runsOn: 'host' | 'deploy-host';
  /** Its outcome's `facts` become host variables (set_fact); the pre-check treats its argument names as set. */
  setsFacts?: boolean;
  /** It only shows a message (debug): the dry-run prints that message as the task's note. */
  prints?: boolean;
}

export interface ModuleContext {
  /** The host the task runs for (its inventory vars; delegation changes where steps run, not this). */
  host: InventoryHost;
  inventory: Inventory;
  /** Every variable visible to the task, after templating scope rules. */
  vars: Vars;
  dryRun: boolean;
  /** The task's `become`. */
  become: boolean;
  /** Typed values the modules of one run share (the backup attempt, ...), instead of facts parsed back. */
  state: RunState;
}

/** How a module ended, before changed_when / failed_when are applied. */
export interface ModuleOutcome {
  changed: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: string;
  /** Extra result fields visible through `register` (stdout, rc, stat, ...). */
  result?: Record<string, unknown>;
  /** Facts to set on the host (modules whose meta says setsFacts). */
  facts?: Vars;
}

export type ModulePlan = AsyncGenerator<Step, ModuleOutcome, unknown>;

export interface ModuleDefinition<Args = Record<string, unknown>> {
  /** Ansible's name where one exists (`shell`, `file`), otherwise `area.action` (`etcd.snapshot`). */
  id: string;
  aliases?: string[];
  meta: ModuleMeta;
  /** JSON Schema (draft 2020-12) of the arguments after templating; `default`s are filled in before `plan`. */
  schema: Record<string, unknown>;
  /** Name of the argument a free-form string (`shell: echo hi`) maps to, if the module accepts one. */
  freeForm?: string;
  /** Arguments rendered for a shell: every `{{ }}` value inside them is shell-quoted as one word. */
  shellArgs?: string[];
  /** Checks beyond the schema (e.g. an ambiguous file mode), run on the templated arguments before anything runs; each string is one problem. */
  check?(args: Args): string[];
  plan(ctx: ModuleContext, args: Args): ModulePlan;
}

/** Any module, whatever its arguments: what catalogs and drivers hold. */
export type AnyModule = ModuleDefinition<never>;

/** The arguments a schema describes, after validation and defaults. */
export type ArgsOf<S extends JSONSchema> = FromSchema<S>;

/** Define a module whose argument type is derived from its schema (written inline or `as const`). */
export function defineModule<const S extends JSONSchema, Args = FromSchema<S>>(
  definition: ModuleDefinition<Args> & { schema: S },
): ModuleDefinition<Args> {
  return definition;
}
