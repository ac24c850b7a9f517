// Loads the bundled CLI (dist/orchestrate.cjs, scripts/bundle.mjs) as one script with V8's code cache
// from dist/orchestrate.cjs.cache when that cache belongs to it: made for this very file (size and
// modification time), by this V8 and with the same Node flags. Anything else and the bundle is compiled
// from source as usual; V8 itself also refuses data it did not make. The build makes the cache
// (scripts/build-code-cache.mjs, `produce`), the CLI uses it (bin/orchestrate.mjs).
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { Script, constants } from 'node:vm';

/** Where the cache of `bundle` and its description are kept. */
export function cacheFilesOf(bundle) {
  return { data: `${bundle}.cache`, about: `${bundle}.cache.json` };
}

/**
 * Runs the bundle's top level and returns its exports, with `saveCache()` to store the code compiled so
 * far (the build calls it after a warm-up, so that lazily compiled functions are in) and `usedCache`.
 */
export function loadBundle(bundle, { useCache = true } = {}) {
  const source = readFileSync(bundle, 'utf8');
  const info = statSync(bundle);
  const files = cacheFilesOf(bundle);
  const cachedData = useCache ? matchingCache(files, info) : undefined;
  const script = new Script(Module.wrap(source), {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return {
    exports: module.exports,
    usedCache: cachedData !== undefined && !script.cachedDataRejected,
    saveCache() {
      writeAtomically(files.data, script.createCachedData());
      writeAtomically(files.about, `${JSON.stringify(describe(info))}\n`);
    },
  };
}

function describe(info) {
  return { size: info.size, mtimeMs: info.mtimeMs, v8: process.versions.v8, execArgv: process.execArgv };
}

function matchingCache(files, info) {
  try {
    const about = JSON.parse(readFileSync(files.about, 'utf8'));
    if (JSON.stringify(about) !== JSON.stringify(describe(info))) return undefined;
    return readFileSync(files.data);
  } catch {
    return undefined; // no cache yet, or a broken one: compile from source
  }
}

function writeAtomically(file, data) {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, file);
}
