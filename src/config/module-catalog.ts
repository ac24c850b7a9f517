// What the playbook loader needs to know about modules; src/modules/registry.ts implements it.

export interface ModuleCatalogEntry {
  /** Canonical id, e.g. `shell` for `ansible.builtin.shell`. */
  id: string;
  /** JSON Schema (draft 2020-12) of the module's arguments. */
  schema: Record<string, unknown>;
  /** The argument a free-form string (`shell: echo hi`) maps to, if the module takes one. */
  freeForm?: string;
}

export interface ModuleCatalog {
  /** By id, alias or prefixed name (`ansible.builtin.shell`); undefined when unknown. */
  lookup(name: string): ModuleCatalogEntry | undefined;
  /** Every name `lookup` accepts, for "did you mean" suggestions. */
  names(): string[];
}
