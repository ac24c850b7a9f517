// Builds a module catalog: lookup by name or alias (with Ansible's `ansible.builtin.` prefixes), argument
// validation with each schema compiled once, on first use.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { moduleValidator } from '../config/schema-validation.js';
import type { ModuleDefinition } from './define.js';

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
  get(id: string): ModuleDefinition;
  /** Schema and `check` problems of templated arguments, as one-line messages; [] when valid. */
  validate(id: string, args: Record<string, unknown>): string[];
}

const collectionPrefixes = ['ansible.builtin.', 'ansible.legacy.', 'ansible.posix.'];

export function createRegistry(modules: readonly ModuleDefinition<any>[]): ModuleRegistry {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const byId = new Map<string, ModuleDefinition>();
  const byName = new Map<string, ModuleDefinition>();
  for (const module of modules) {
    const definition = module as ModuleDefinition;
    if (byId.has(definition.id)) throw new Error(`module ${definition.id} is registered twice`);
    byId.set(definition.id, definition);
    for (const name of [definition.id, ...(definition.aliases ?? [])]) {
      if (byName.has(name)) throw new Error(`module name ${name} is used by two modules`);
      byName.set(name, definition);
    }
  }
  const validators = new Map<string, ValidateFunction>();

  function find(name: string): ModuleDefinition | undefined {
    const direct = byName.get(name);
    if (direct) return direct;
    const prefix = collectionPrefixes.find((p) => name.startsWith(p));
    return prefix ? byName.get(name.slice(prefix.length)) : undefined;
  }

  function validatorFor(definition: ModuleDefinition): ValidateFunction {
    let validate = validators.get(definition.id);
    if (!validate) {
      // The playbook loader's ajv, keyed by the same schema object: each schema is compiled once per process.
      validate = moduleValidator(definition.schema);
      validators.set(definition.id, validate);
    }
    return validate;
  }

  return {
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
      const definition = this.get(id);
      const validate = validatorFor(definition);
      if (!validate(args)) return describeAjvErrors(validate.errors ?? []);
      return definition.check ? definition.check(args) : [];
    },
  };
}

/** One message per problem; the branches of a `oneOf` of `required` lists become "give one of". */
function describeAjvErrors(errors: ErrorObject[]): string[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const inOneOf = (e: ErrorObject) => oneOfs.some((o) => e !== o && e.schemaPath.startsWith(`${o.schemaPath}/`));
  const messages = errors.filter((e) => !inOneOf(e)).map(describeAjvError);
  return [...new Set(messages)];
}

function describeAjvError(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : 'arguments';
  if (error.keyword === 'additionalProperties') return `unknown argument "${String(error.params.additionalProperty)}"`;
  if (error.keyword === 'required') return `missing argument "${String(error.params.missingProperty)}"`;
  if (error.keyword === 'enum') return `${where} must be one of: ${(error.params.allowedValues as unknown[]).map(String).join(', ')}`;
  if (error.keyword === 'oneOf') {
    const names = Array.isArray(error.schema) ? (error.schema as { required?: string[] }[]).flatMap((branch) => branch.required ?? []) : [];
    return names.length > 0 ? `give exactly one of: ${names.join(', ')}` : `${where} must match exactly one alternative`;
  }
  if (error.keyword === 'not' && error.schemaPath === '#/not') return 'these arguments cannot be used together';
  return `${where} ${error.message ?? 'is invalid'}`;
}
