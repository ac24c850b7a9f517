// Started by bin/orchestrate (a shell script, which says why). Runs the bundled CLI (dist/orchestrate.cjs,
// scripts/bundle.mjs: starts faster, with V8's code cache through bin/load-bundle.mjs) or else the compiled
// one (dist/cli/). `npm run build` (done by scripts/setup.sh) produces both. A bundle older than
// dist/cli/main.js was left behind by a bare `tsc` build after a source change, so then the compiled CLI
// is the current one. ORCHESTRATE_CODE_CACHE=0 compiles the bundle from source.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadBundle } from './load-bundle.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, 'dist', 'cli', 'main.js');
const bundle = join(root, 'dist', 'orchestrate.cjs');
const modified = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;

const compiledAt = modified(compiled);
const bundledAt = modified(bundle);
const entry = bundledAt !== undefined && (compiledAt === undefined || bundledAt >= compiledAt) ? bundle : compiled;
if (entry === compiled && compiledAt === undefined) {
  process.stderr.write(`orchestrate: ${compiled} is missing. Run \`npm run setup\` (or \`npm run build\`) in ${root} first.\n`);
  process.exit(2);
}
// bin/orchestrate kept NODE_EXTRA_CA_CERTS from Node's start-up; the commands we start get it back.
const savedExtraCaCerts = process.env.ORCHESTRATE_NODE_EXTRA_CA_CERTS;
if (savedExtraCaCerts !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = savedExtraCaCerts;
  delete process.env.ORCHESTRATE_NODE_EXTRA_CA_CERTS;
}
const { main } = entry === bundle ? loadBundle(bundle, { useCache: process.env.ORCHESTRATE_CODE_CACHE !== '0' }).exports : await import(entry);
process.exitCode = await main(process.argv.slice(2));
