import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compileAtRunTime, standaloneValidatorCode, validatorKey, type ValidatorKind } from '../../../src/config/compiled-validators.js';
import { configSchema, translateAjvErrors } from '../../../src/config/schema-validation.js';
import { packagePath } from '../../../src/package-root.js';
import { allModules } from '../../../src/modules/all.js';

// The build's standalone code (scripts/build-validators.mjs) and ajv compiling at run time must agree on
// every verdict and every error object: the messages users see are made from those objects.

const require = createRequire(import.meta.url);

/** Inside the package (node_modules/.cache), so that the generated code's require('ajv/...') finds this package's ajv. */
let scratchDir: string | undefined;

/** Writes generated code to a .cjs file and requires it, as compiledValidator loads the build's files. */
function loadStandalone(kind: ValidatorKind, schema: Record<string, unknown>, fragment = ''): ValidateFunction {
  if (scratchDir === undefined) {
    mkdirSync(packagePath('node_modules', '.cache'), { recursive: true });
    scratchDir = mkdtempSync(packagePath('node_modules', '.cache', 'orchestrate-validators-test-'));
  }
  const file = join(scratchDir, `${validatorKey(kind, schema, fragment)}.cjs`);
  if (!existsSync(file)) writeFileSync(file, standaloneValidatorCode(kind, schema, fragment));
  return require(file) as ValidateFunction;
}

/** Both validators on their own copy of the data (module validation coerces in place). */
function compare(kind: ValidatorKind, schema: Record<string, unknown>, fragment: string, data: unknown): { errors: ErrorObject[] } {
  const runtime = compileAtRunTime(kind, schema, fragment);
  const standalone = loadStandalone(kind, schema, fragment);
  const [a, b] = [structuredClone(data), structuredClone(data)];
  const verdict = runtime(a);
  expect(standalone(b), JSON.stringify(data)).to.equal(verdict);
  expect(standalone.errors ?? null).to.deep.equal(runtime.errors ?? null);
  expect(b).to.deep.equal(a);
  return { errors: runtime.errors ?? [] };
}

describe('generated validators (ajv standalone code) behave as run-time compiled ones', () => {
  after(() => {
    if (scratchDir !== undefined) rmSync(scratchDir, { recursive: true, force: true });
  });

  const inventory = configSchema('inventory');
  const playbook = configSchema('playbook');

  const inventories: unknown[] = [
    { all: { children: { etcd: { hosts: { a: { ansible_host: '127.0.0.1', ansible_port: 22 } } } } } },
    { all: { hostz: {} } },
    { all: { hosts: [] } },
    { all: { children: { etcd: { hosts: { a: { ansible_port: 'ssh' } } } }, vars: [] } },
    { all: { children: { 'bad name!': { hosts: { 'also bad!': null } } } } },
  ];
  const playbooks: unknown[] = [
    [{ hosts: 'etcd', gather_facts: false, tasks: [{ name: 'x', shell: 'echo hi' }] }],
    [{ hostz: 'etcd' }],
    [{ hosts: 'a', become: 'maybe', serial: -1, tasks: 'x', roles: [3] }],
    [{ hosts: 'a', tasks: [{ name: 1, shell: 'x', when: {}, loop: 3, delegate_to: [], async: 10, retries: 'many' }] }],
    [{ hosts: 'a', tasks: [{ block: [{ debug: {} }], rescue: 'x', with_items: {}, local_action: 'x' }] }],
  ];
  const taskLists: unknown[] = [[{ shell: 'x', register: 'bad name', until: [], tags: 5, vars: [] }], {}, [null]];

  it('the project schemas, whole and by fragment', () => {
    let failures = 0;
    for (const data of inventories) failures += compare('config', inventory, '', data).errors.length;
    for (const data of playbooks) failures += compare('config', playbook, '', data).errors.length;
    for (const data of taskLists) failures += compare('config', playbook, '#/$defs/taskList', data).errors.length;
    compare('config', playbook, '#/$defs/roleDefaults', { ok: 1 });
    compare('config', playbook, '#/$defs/roleDefaults', ['not a mapping']);
    expect(failures).to.be.greaterThan(20); // the table must exercise errors, not only valid files
  });

  it('every module schema: valid-looking, empty, unknown and wrongly typed arguments', () => {
    for (const module of allModules) {
      const properties = Object.keys(module.schema.properties ?? {});
      compare('module', module.schema, '', {});
      compare('module', module.schema, '', { no_such_argument: 1 });
      for (const property of properties) {
        for (const value of ['12', 12, true, null, [], { nested: 'x' }, '']) compare('module', module.schema, '', { [property]: value });
      }
    }
  });

  it('messages made from the errors are the same', () => {
    const data = [{ hosts: 'a', tasks: [{ name: 'x', shel: 'echo', become: 'maybe' }] }];
    const messages = (validate: ValidateFunction) => {
      validate(structuredClone(data));
      return translateAjvErrors(validate.errors, { codePrefix: 'playbook' });
    };
    const runtime = messages(compileAtRunTime('config', playbook));
    expect(runtime.length).to.be.greaterThan(0);
    expect(messages(loadStandalone('config', playbook))).to.deep.equal(runtime);
  });

  it('the key of a generated file changes with the schema, the fragment and the kind', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const key = validatorKey('module', schema);
    expect(validatorKey('module', structuredClone(schema))).to.equal(key);
    expect(validatorKey('module', { ...schema, required: ['a'] })).to.not.equal(key);
    expect(validatorKey('config', schema)).to.not.equal(key);
    expect(validatorKey('module', schema, '#/x')).to.not.equal(key);
  });
});
