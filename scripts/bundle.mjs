// Bundles the CLI, ssh2 included, into one CommonJS file, dist/orchestrate.cjs, which bin/orchestrate runs
// (through bin/load-bundle.mjs) with V8's code cache made by scripts/build-code-cache.mjs.
// Why one CommonJS file: Node 20 can reuse compiled code only for a script it is handed with
// `vm.Script`'s `cachedData` (its module compile cache arrives in Node 22), and only for CommonJS; and one
// file spares Node resolving and reading ~230 small ones (ours, yaml's, ssh2's). Measured here (2 cores,
// medians of 20 alternating runs), the 20-task benchmark playbook on 3 hosts: 277 ms with the earlier
// ES-module bundle (lazy chunks, ssh2 from node_modules), 256 ms with this file compiled from source,
// 208 ms with its code cache.
// Parts a run may never need cost little in one file: each module's code runs only when first imported
// (the bundle keeps every dynamic import lazy) and V8 compiles a function only when it is first called.
// Kept external, loaded by Node from node_modules:
//   *.node        native addons (ssh2's ciphers): see nativeAddonsFromNodeModules
//   cpu-features  ssh2's optional native dependency
//   etcd3         grpc-js/protobufjs read .proto files relative to __dirname; loaded only for etcd work
//   ajv*          only the run-time fallback when dist/validators/ has no generated validator
//   @aws-sdk/*, @smithy/*, age-encryption  loaded only when an inventory configures backup_remote (src/remote/)
// Files shipped next to the code (schemas/, playbooks/, dist/validators/, src/lab/assets/) are found from
// the package root by src/package-root.ts, so they resolve the same from src/, dist/ and the bundle.
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outfile = join(root, 'dist', 'orchestrate.cjs');

/**
 * A native addon (ssh2's sshcrypto.node: its AES-GCM and ChaCha20 ciphers) cannot be bundled: its
 * `require('./x.node')` becomes `require('<package>/x.node')`, which Node resolves in node_modules.
 */
const nativeAddonsFromNodeModules = {
  name: 'native-addons-from-node-modules',
  setup(build) {
    build.onResolve({ filter: /\.node$/ }, (args) => {
      const absolute = join(args.resolveDir, args.path);
      const inPackage = absolute.split(`${sep}node_modules${sep}`).at(-1);
      return { path: inPackage.split(sep).join('/'), external: true };
    });
  },
};

const started = performance.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Every import() becomes a lazy require(): the whole program is one script, so one code cache covers it.
  supported: { 'dynamic-import': false },
  // The sources use import.meta.url to find the package root and to make a require.
  define: { 'import.meta.url': '__orchestrateModuleUrl' },
  banner: { js: "var __orchestrateModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  external: ['cpu-features', 'etcd3', 'ajv', 'ajv/*', 'ajv-formats', '@aws-sdk/*', '@smithy/*', 'age-encryption'],
  plugins: [nativeAddonsFromNodeModules],
  sourcemap: 'linked',
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});

// Written under a temporary name then renamed, the map first: a CLI starting meanwhile sees the old
// bundle or the new one, never half of one. The code cache of the old bundle no longer matches the new
// one's size and time, so it is not used until scripts/build-code-cache.mjs has made a new one.
const files = [...result.outputFiles].sort((a, b) => Number(a.path === outfile) - Number(b.path === outfile));
for (const file of files) {
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}

const kib = result.outputFiles.find((file) => file.path === outfile).contents.byteLength / 1024;
process.stderr.write(`bundle: ${relative(root, outfile)} (${kib.toFixed(0)} KiB) in ${(performance.now() - started).toFixed(0)} ms\n`);
