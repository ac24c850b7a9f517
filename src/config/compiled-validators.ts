// Where the ajv validators come from. Loading ajv (~90 files) and compiling the schemas took ~150 ms of every
// `orchestrate run` start, so the build writes ajv's standalone code for every schema it knows into
// dist/validators/ (scripts/build-validators.mjs). A validator is looked up there by a key made of everything
// that shapes its code: ajv's version, the options, the schema and the fragment. When nothing matches (src/
// under tsx before a build, a schema edited since), ajv compiles the same schema with the same options here.
// Standalone code is the very code ajv compiles at run time, so both paths give the same error objects
// (test/unit/config/compiled-validators.test.ts compares them).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Options, ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { packagePath } from '../package-root.js';

/** `config`: the project's schemas (strict); `module`: module argument schemas (lenient, coercing, formats). */
export type ValidatorKind = 'config' | 'module';

/** Schema keywords of our own: human text shown as `expected:` and `fix:`. */
const annotationKeywords = ['x-expected', 'x-hint'];

// validateSchema: false skips compiling the draft 2020-12 meta-schema; test/unit/config/schemas.test.ts checks
// our schemas against it instead. code.source keeps the generated code, which standalone output needs; it
// is on at run time too so that both paths use one set of options.
const ajvOptions: Record<ValidatorKind, Options> = {
  config: { allErrors: true, verbose: true, strict: true, allowUnionTypes: true, validateSchema: false, code: { source: true } },
  // Lenient about annotations module authors add; coercion as at run time ("8" for an integer is fine); a
  // schema's `default`s are filled in, so a module's argument type (derived from its schema) holds them.
  module: {
    allErrors: true,
    verbose: true,
    strict: false,
    allowUnionTypes: true,
    coerceTypes: true,
    useDefaults: true,
    validateSchema: false,
    code: { source: true },
  },
};

// A synchronous require: ajv is CommonJS, the validators are asked for synchronously, and ajv is needed only
// when a validator was not generated at build time.
const require = createRequire(import.meta.url);

/** dist/validators/ of the package, whether this code runs from src/, dist/ or the bundle. */
export const generatedValidatorsDir = packagePath('dist', 'validators');

let ajvVersion: string | undefined;

/** The name of a validator's generated file: a hash of everything that shapes its code. */
export function validatorKey(kind: ValidatorKind, schema: Record<string, unknown>, fragment = ''): string {
  ajvVersion ??= (require('ajv/package.json') as { version: string }).version;
  const shape = JSON.stringify([ajvVersion, kind, ajvOptions[kind], fragment, schema]);
  return createHash('sha256').update(shape).digest('hex').slice(0, 32);
}

export function generatedValidatorFile(key: string): string {
  return join(generatedValidatorsDir, `${key}.cjs`);
}

/**
 * The validator for a schema (or, for `config`, one of its `$defs`, e.g. `#/$defs/taskList`): the
 * generated one when the build wrote it, otherwise compiled here. Callers cache the result.
 */
export function compiledValidator(kind: ValidatorKind, schema: Record<string, unknown>, fragment = ''): ValidateFunction {
  const file = generatedValidatorFile(validatorKey(kind, schema, fragment));
  if (existsSync(file)) return require(file) as ValidateFunction;
  return compileAtRunTime(kind, schema, fragment);
}

/** ajv's standalone code for a validator, as a CommonJS module exporting the function (for the build). */
export function standaloneValidatorCode(kind: ValidatorKind, schema: Record<string, unknown>, fragment = ''): string {
  const standaloneCode = (require('ajv/dist/standalone/index.js') as typeof import('ajv/dist/standalone/index.js')).default;
  return standaloneCode(ajvFor(kind), compileAtRunTime(kind, schema, fragment));
}

const ajvs = new Map<ValidatorKind, Ajv2020>();

function ajvFor(kind: ValidatorKind): Ajv2020 {
  let ajv = ajvs.get(kind);
  if (!ajv) {
    const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    ajv = new Ajv2020(ajvOptions[kind]);
    if (kind === 'config') ajv.addVocabulary(annotationKeywords);
    else (require('ajv-formats') as typeof import('ajv-formats')).default(ajv);
    ajvs.set(kind, ajv);
  }
  return ajv;
}

/** ajv compiling here and now (the path without a generated file; exported for the test that compares both). */
export function compileAtRunTime(kind: ValidatorKind, schema: Record<string, unknown>, fragment = ''): ValidateFunction {
  const ajv = ajvFor(kind);
  if (kind === 'module') return ajv.compile(schema);
  // Config schemas are added once under their $id so that their fragments resolve against them.
  const id = String(schema.$id);
  if (!ajv.getSchema(id)) ajv.addSchema(schema);
  const validate = ajv.getSchema(`${id}${fragment}`);
  if (!validate) throw new Error(`schema ${id}${fragment} not found`);
  return validate;
}
