// The project's schemas and module argument schemas as validators, each made once (compiled-validators.ts
// says where they come from), and ajv errors turned into operator-facing messages with a path that
// yaml-source can locate.
import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { packagePath } from '../package-root.js';
import { compiledValidator } from './compiled-validators.js';
import { didYouMean } from './suggest.js';
import { pointerToPath, type ProblemFields } from './yaml-source.js';

export type SchemaName = 'inventory' | 'playbook';

const compiled = new Map<string, ValidateFunction>();

function schemaFile(name: SchemaName): string {
  return packagePath('schemas', `${name}.schema.json`);
}

const rawSchemas = new Map<SchemaName, Record<string, unknown>>();

/** The parsed JSON of one of the project's schemas (the loaders also read keyword lists from it). */
export function configSchema(name: SchemaName): Record<string, unknown> {
  let schema = rawSchemas.get(name);
  if (!schema) {
    schema = JSON.parse(readFileSync(schemaFile(name), 'utf8')) as Record<string, unknown>;
    rawSchemas.set(name, schema);
  }
  return schema;
}

/**
 * The validator for one of the project's schemas, or for one of its `$defs` (`fragment` such as
 * `#/$defs/taskList`, used for role and imported task files). Made on first use, then cached.
 */
export function configValidator(name: SchemaName, fragment = ''): ValidateFunction {
  const key = `${name}${fragment}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = compiledValidator('config', configSchema(name), fragment);
    compiled.set(key, validate);
  }
  return validate;
}

const moduleValidators = new WeakMap<object, ValidateFunction>();

/** Module argument schemas, each made once (keyed by the schema object the catalog hands out). */
export function moduleValidator(schema: Record<string, unknown>): ValidateFunction {
  let validate = moduleValidators.get(schema);
  if (!validate) {
    validate = compiledValidator('module', schema);
    moduleValidators.set(schema, validate);
  }
  return validate;
}

/** A schema violation ready to be located: a path into the validated value and where to point. */
export interface SchemaIssue {
  path: string[];
  target: 'key' | 'value';
  fields: ProblemFields;
}

export interface TranslateOptions {
  /** Prefix for codes, e.g. `inventory.schema`. */
  codePrefix: string;
  /** Skip errors about strings containing `{{` (templated at run time). */
  ignoreTemplated?: boolean;
  /** Name for the thing at a path, e.g. `play 2`, used when the path ends in an index. */
  describe?: (path: string[]) => string | undefined;
  /** What a mapping key is called in messages: `key` (default) or `argument` for module arguments. */
  keyNoun?: string;
}

type Annotated = Record<string, unknown> & { 'x-expected'?: string; 'x-hint'?: string; properties?: Record<string, unknown> };

/** Turn ajv errors into located issues; redundant errors (a missing key that is merely misspelt) are dropped. */
export function translateAjvErrors(allErrors: readonly ErrorObject[] | null | undefined, options: TranslateOptions): SchemaIssue[] {
  if (!allErrors) return [];
  let errors = [...allErrors];
  const issues: SchemaIssue[] = [];
  const misspelt = new Set<string>();
  // Inside anyOf/oneOf, each failed branch reports its own error; keep only the combined one.
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  errors = errors.filter((e) => !alternatives.some((prefix) => e.schemaPath.startsWith(prefix)));
  for (const error of errors) {
    if (error.keyword === 'additionalProperties') {
      const known = supportedKeys(error.parentSchema);
      const unknown = String(error.params.additionalProperty);
      const match = didYouMean(unknown, known);
      if (match) misspelt.add(`${error.instancePath}\u0000${match.slice(match.indexOf('"') + 1, match.lastIndexOf('"'))}`);
    }
  }
  for (const error of errors) {
    if (options.ignoreTemplated && typeof error.data === 'string' && error.data.includes('{{')) continue;
    if (error.keyword === 'propertyNames') continue; // its inner error, carrying propertyName, says more
    if (error.keyword === 'required' && misspelt.has(`${error.instancePath}\u0000${String(error.params.missingProperty)}`)) continue;
    const issue = translateOne(error, options);
    if (issue) issues.push(issue);
  }
  return issues;
}

function label(path: string[], options: TranslateOptions): string {
  const described = options.describe?.(path);
  if (described) return described;
  const last = path[path.length - 1];
  if (last === undefined) return 'the file';
  if (/^\d+$/.test(last)) {
    const parent = path[path.length - 2];
    return parent === undefined ? `item ${Number(last) + 1}` : `item ${Number(last) + 1} of ${parent}`;
  }
  return last;
}

function typeWords(type: unknown): string {
  const words: Record<string, string> = {
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
    object: 'a mapping',
    array: 'a list',
    null: 'empty',
  };
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => words[String(t)] ?? String(t)).join(' or ');
}

/** How a value reads in a message: `the string "x"`, `the number 3`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  if (typeof value === 'boolean') return String(value);
  return `the number ${typeof value === 'number' ? String(value) : typeof value}`;
}

/** Keys a schema accepts, leaving out the ones it lists only to refuse (`{ "not": {} }`). */
function supportedKeys(schema: Annotated | undefined): string[] {
  return Object.entries(schema?.properties ?? {})
    .filter(([, sub]) => !(typeof sub === 'object' && sub !== null && 'not' in sub))
    .map(([key]) => key);
}

function describeAlternatives(branches: unknown): string | undefined {
  if (!Array.isArray(branches)) return undefined;
  const parts = branches.map((branch: Record<string, unknown>) => {
    if (Array.isArray(branch.enum)) return `one of ${branch.enum.map((v) => JSON.stringify(v)).join(', ')}`;
    if (Array.isArray(branch.required)) return `the key${branch.required.length > 1 ? 's' : ''} ${branch.required.join(', ')}`;
    if (branch.type !== undefined) return typeWords(branch.type);
    return undefined;
  });
  return parts.every((part) => part !== undefined) ? parts.join(', or ') : undefined;
}

/** One ajv error with what every translation of it needs: where it points and the schema's own wording. */
interface ErrorScope {
  error: ErrorObject;
  options: TranslateOptions;
  path: string[];
  schema: Annotated;
  expected: string | undefined;
  hint: string | undefined;
  /** `<codePrefix>.<keyword>`, the code of most issues. */
  code: string;
}

/** Fills in the schema's `x-expected` and `x-hint` where the issue does not say better. */
function withSchemaText(scope: ErrorScope, fields: ProblemFields): ProblemFields {
  const out: ProblemFields = { ...fields };
  if (out.expected === undefined && scope.expected !== undefined) out.expected = scope.expected;
  if (out.hint === undefined && scope.hint !== undefined) out.hint = scope.hint;
  return out;
}

function translateOne(error: ErrorObject, options: TranslateOptions): SchemaIssue | undefined {
  const path = pointerToPath(error.instancePath);
  const schema = (error.parentSchema ?? {}) as Annotated;
  const scope: ErrorScope = {
    error,
    options,
    path,
    schema,
    expected: schema['x-expected'],
    hint: schema['x-hint'],
    code: `${options.codePrefix}.${error.keyword.toLowerCase()}`,
  };
  if (error.propertyName !== undefined) {
    const keyPath = [...path, error.propertyName];
    return {
      path: keyPath,
      target: 'key',
      fields: withSchemaText(scope, {
        code: `${options.codePrefix}.invalid-name`,
        message: `invalid name "${error.propertyName}" in ${label(path, options)}`,
      }),
    };
  }
  return translateKeyIssue(scope) ?? translateValueIssue(scope);
}

/** Errors about the keys of a mapping or about combinations of them; undefined for the other keywords. */
function translateKeyIssue(scope: ErrorScope): SchemaIssue | undefined {
  const { error, options, path, schema, expected, hint, code } = scope;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const known = supportedKeys(schema);
      const suggestion = didYouMean(key, known);
      return {
        path: [...path, key],
        target: 'key',
        fields: {
          code: `${options.codePrefix}.unknown-key`,
          message: `unknown ${options.keyNoun ?? 'key'} "${key}" in ${label(path, options)}`,
          expected: expected ?? `one of: ${known.join(', ')}`,
          hint: suggestion ?? hint ?? `remove "${key}"`,
        },
      };
    }
    case 'required':
      return {
        path,
        target: 'value',
        fields: withSchemaText(scope, {
          code: `${options.codePrefix}.missing-key`,
          message: `${label(path, options)} is missing the required ${options.keyNoun ?? 'key'} "${String(error.params.missingProperty)}"`,
          hint: hint ?? `add "${String(error.params.missingProperty)}:"`,
        }),
      };
    case 'not':
      // `"keyword": { "not": {} }` marks an Ansible keyword orchestrate deliberately does not support.
      if (path.length > 0 && Object.keys(error.schema as object).length === 0) {
        return {
          path,
          target: 'key',
          fields: withSchemaText(scope, {
            code: `${options.codePrefix}.unsupported`,
            message: `${path[path.length - 1]} is not supported by orchestrate`,
          }),
        };
      }
      return {
        path,
        target: 'value',
        fields: withSchemaText(scope, { code, message: `${label(path, options)}: these arguments cannot be used together` }),
      };
    default:
      return undefined;
  }
}

/** Errors about one value: its type, its range, its alternatives, its form. */
function translateValueIssue(scope: ErrorScope): SchemaIssue {
  const { error, options, path, expected, code } = scope;
  const where = label(path, options);
  const valueIssue = (fields: ProblemFields): SchemaIssue => ({ path, target: 'value', fields: withSchemaText(scope, fields) });
  switch (error.keyword) {
    case 'type':
      return valueIssue({
        code,
        message: `${where} must be ${typeWords(error.params.type)}, not ${describeValue(error.data)}`,
        expected: expected ?? typeWords(error.params.type),
      });
    case 'enum':
      return valueIssue({
        code,
        message: `${where} cannot be ${describeValue(error.data)}`,
        expected: expected ?? `one of: ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      });
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return valueIssue({ code, message: `${where} ${error.message ?? 'is out of range'}, not ${String(error.data)}` });
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      return valueIssue({ code, message: `${where} must not be empty` });
    case 'anyOf':
    case 'oneOf':
      return valueIssue({
        code,
        message: `${where} cannot be ${describeValue(error.data)}`,
        expected: expected ?? describeAlternatives(error.schema),
      });
    case 'pattern':
    case 'format':
      return valueIssue({ code, message: `${where} is not valid: ${describeValue(error.data)}` });
    default:
      return valueIssue({ code, message: `${where} ${error.message ?? 'is not valid'}` });
  }
}
