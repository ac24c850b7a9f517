// Bundles the CLI into dist/orchestrate.mjs (bin/orchestrate runs it when present) with esbuild.
// Why: to start `orchestrate run`, Node otherwise loads ~200 small files one by one (our ~100 modules, 72 of
// `yaml`). Measured here (2 cores, load ~3.5, medians of 21 alternating runs): `orchestrate run` of a playbook
// with one local task 216 -> 158 ms, the 20-task benchmark playbook on 3 hosts 528 -> 474 ms.
// Parts a run may never need stay out of the entry file: every dynamic import (commands, the engine, the
// live reporter with listr2, the restore/backup code, execa) becomes its own chunk in dist/chunks/.
// Kept external, loaded by Node from node_modules as before:
//   ssh2          CommonJS that loads its native crypto binding relative to its own files; bundling it
//                 saved ~10 ms, within the noise, for that risk
//   cpu-features  ssh2's optional native dependency
//   etcd3         grpc-js/protobufjs read .proto files relative to __dirname; loaded only for etcd work
//   ajv*          only the run-time fallback when dist/validators/ has no generated validator
// Files shipped next to the code (schemas/, playbooks/, dist/validators/, src/lab/assets/) are found from
// the package root by src/package-root.ts, so they resolve the same from src/, dist/ and the bundle.
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, 'dist');
const chunksDir = join(outdir, 'chunks');
const entry = join(outdir, 'orchestrate.mjs');
/** Chunks of earlier builds are kept this long: a CLI started before a rebuild may still import them lazily. */
const keepOldChunksMs = 30 * 60_000;

const started = performance.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: { orchestrate: 'src/cli/main.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // yaml's "node" export is CommonJS: bundled CommonJS that requires a Node built-in needs a real require.
  banner: { js: "import { createRequire as __orchestrateCreateRequire } from 'node:module'; const require = __orchestrateCreateRequire(import.meta.url);" },
  external: ['ssh2', 'cpu-features', 'etcd3', 'ajv', 'ajv/*', 'ajv-formats'],
  sourcemap: 'linked',
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});

// Written so that a CLI starting meanwhile sees either the old bundle or the new one, never half of one:
// each file under a temporary name then renamed, the chunks first, the entry last.
mkdirSync(chunksDir, { recursive: true });
const isEntry = (path) => path === entry || path === `${entry}.map`;
const files = [...result.outputFiles.filter((file) => !isEntry(file.path)), ...result.outputFiles.filter((file) => isEntry(file.path))];
for (const file of files) {
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}

const written = new Set(result.outputFiles.map((file) => file.path));
for (const name of readdirSync(chunksDir)) {
  const path = join(chunksDir, name);
  if (!written.has(path) && Date.now() - statSync(path).mtimeMs > keepOldChunksMs) unlinkSync(path);
}

const code = result.outputFiles.filter((file) => !file.path.endsWith('.map'));
const kib = code.reduce((sum, file) => sum + file.contents.byteLength, 0) / 1024;
process.stderr.write(`bundle: ${relative(root, entry)} and ${code.length - 1} chunks (${kib.toFixed(0)} KiB) in ${(performance.now() - started).toFixed(0)} ms\n`);
