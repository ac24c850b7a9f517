// A module's templated arguments checked against its schema (defaults filled in, as ajv's useDefaults does)
// and its own `check`, as one-line problems. The driver and the catalog both call this.
import type { ErrorObject } from 'ajv';
import { moduleValidator } from '../config/schema-validation.js';
import type { AnyModule } from './define.js';

/** Problems with `args` ([] when valid); fills in the schema's defaults in place. */
export function validateModuleArgs(module: AnyModule, args: Record<string, unknown>): string[] {
  const validate = moduleValidator(module.schema);
  if (!validate(args)) return describeAjvErrors(validate.errors ?? []);
  return module.check ? (module.check as (a: Record<string, unknown>) => string[])(args) : [];
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
