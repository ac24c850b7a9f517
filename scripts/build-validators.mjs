// After `tsc -p tsconfig.build.json`: writes dist/validators/<key>.cjs, ajv's standalone code for the
// project's schemas (each whole and each of its $defs) and for every module's argument schema, so that
// `orchestrate` validates without loading ajv or compiling at start-up (see src/config/compiled-validators.ts).
// Anything not written here is compiled at run time with the same options: missing files cost time, never behaviour.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = (path) => import(join(root, 'dist', path));

const { generatedValidatorFile, generatedValidatorsDir, standaloneValidatorCode, validatorKey } = await dist('config/compiled-validators.js');
const { configSchema } = await dist('config/schema-validation.js');
const { allModules } = await dist('modules/all.js');

/** [kind, schema, fragment] for every validator the loaders and the engine may ask for. */
const wanted = [];
for (const name of ['inventory', 'playbook']) {
  const schema = configSchema(name);
  wanted.push(['config', schema, '']);
  for (const def of Object.keys(schema.$defs ?? {})) wanted.push(['config', schema, `#/$defs/${def}`]);
}
for (const module of allModules) wanted.push(['module', module.schema, '']);

// Start from an empty folder so that no file of an older build lingers.
rmSync(generatedValidatorsDir, { recursive: true, force: true });
mkdirSync(generatedValidatorsDir, { recursive: true });
const written = new Set();
for (const [kind, schema, fragment] of wanted) {
  const key = validatorKey(kind, schema, fragment);
  if (written.has(key)) continue; // modules may share a schema object
  const file = generatedValidatorFile(key);
  // Written aside and renamed, so that a process starting meanwhile never requires half a file.
  writeFileSync(`${file}.tmp`, `${standaloneValidatorCode(kind, schema, fragment)}\n`);
  renameSync(`${file}.tmp`, file);
  written.add(key);
}
process.stderr.write(`build-validators: ${written.size} validators in ${generatedValidatorsDir}\n`);
