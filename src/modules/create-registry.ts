// Builds a module catalog: lookup by name or alias (with Ansible's `ansible.builtin.` prefixes) and argument
// validation (validate-args.ts, each schema compiled once).
import type { AnyModule } from './define.js';
import { validateModuleArgs } from './validate-args.js';

export interface ModuleInfo {
  id: string;
  schema: Record<string, unknown>;
  freeForm?: string;
}

/** What the playbook loader needs (same shape as src/config/playbook.ts's ModuleCatalog). */
export interface ModuleCatalogView {
  lookup(name: string): ModuleInfo | undefined;
  names(): string[];
}

export interface ModuleRegistry extends ModuleCatalogView {
  /** The module with this canonical id; throws for an unknown id (a bug: ids come from lookup). */
  get(id: string): AnyModule;
  /** Schema and `check` problems of templated arguments, as one-line messages; [] when valid. */
  validate(id: string, args: Record<string, unknown>): string[];
}

const collectionPrefixes = ['ansible.builtin.', 'ansible.legacy.', 'ansible.posix.'];

export function createRegistry(modules: readonly AnyModule[]): ModuleRegistry {
  const byId = new Map<string, AnyModule>();
  const byName = new Map<string, AnyModule>();
  for (const module of modules) {
    if (byId.has(module.id)) throw new Error(`module ${module.id} is registered twice`);
    byId.set(module.id, module);
    for (const name of [module.id, ...(module.aliases ?? [])]) {
      if (byName.has(name)) throw new Error(`module name ${name} is used by two modules`);
      byName.set(name, module);
    }
  }

  function find(name: string): AnyModule | undefined {
    const direct = byName.get(name);
    if (direct) return direct;
    const prefix = collectionPrefixes.find((p) => name.startsWith(p));
    return prefix ? byName.get(name.slice(prefix.length)) : undefined;
  }

  const registry: ModuleRegistry = {
    lookup(name) {
      const definition = find(name);
      if (!definition) return undefined;
      return { id: definition.id, schema: definition.schema, ...(definition.freeForm ? { freeForm: definition.freeForm } : {}) };
    },
    names() {
      return [...byName.keys()].sort();
    },
    get(id) {
      const definition = byId.get(id) ?? find(id);
      if (!definition) throw new Error(`unknown module id ${id}`);
      return definition;
    },
    validate(id, args) {
      return validateModuleArgs(registry.get(id), args);
    },
  };
  return registry;
}
