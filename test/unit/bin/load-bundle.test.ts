// bin/load-bundle.mjs: the bundled CLI runs with V8's code cache only when the cache was made for that very
// file, by this V8 and with these flags; otherwise it is compiled from source, never run from stale code.
// Each load runs in a child Node, as the CLI does: V8 keeps compiled code per process, which would hide
// whether the cache was used.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../helpers/cli.js';

const loader = pathToFileURL(join(repoRoot, 'bin', 'load-bundle.mjs')).href;

/** Loads `file` in a new Node (with `flags`), saving the cache afterwards when asked. */
function load(file: string, options: { save?: boolean; useCache?: boolean; flags?: string[] } = {}): { used: boolean; answer: string } {
  const script = [
    `import { loadBundle } from ${JSON.stringify(loader)};`,
    `const bundle = loadBundle(${JSON.stringify(file)}, { useCache: ${options.useCache ?? true} });`,
    `const answer = bundle.exports.answer();`,
    options.save ? 'bundle.saveCache();' : '',
    'process.stdout.write(JSON.stringify({ used: bundle.usedCache, answer }));',
  ].join('\n');
  // From a file, not -e: process.execArgv (part of what the cache is made for) would hold the script.
  const scriptFile = join(dirname(file), `load-${options.save ? 'save' : 'use'}.mjs`);
  writeFileSync(scriptFile, script);
  const out = execFileSync(process.execPath, [...(options.flags ?? []), scriptFile], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(out) as { used: boolean; answer: string };
}

/** A bundle-like CommonJS file with enough code for V8 to cache, answering `word`. */
function bundleSource(word: string): string {
  const helpers = Array.from({ length: 200 }, (_, i) => `function helper${i}(x) { return x + ${i}; }`).join('\n');
  return `${helpers}\nexports.answer = () => ${JSON.stringify(word)} + helper1(0);\n`;
}

describe('bin/load-bundle.mjs', function () {
  this.timeout(20_000);
  let dir: string;
  let file: string;
  const cacheData = (): string => `${file}.cache`;
  const cacheAbout = (): string => `${file}.cache.json`;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-load-bundle-'));
    file = join(dir, 'orchestrate.cjs');
    writeFileSync(file, bundleSource('first'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs without a cache, and uses the cache made for the file after that', () => {
    expect(load(file, { save: true })).to.deep.equal({ used: false, answer: 'first1' });
    expect(load(file)).to.deep.equal({ used: true, answer: 'first1' });
    expect(load(file, { useCache: false })).to.deep.equal({ used: false, answer: 'first1' });
  });

  it('never runs the old code of a bundle changed since its cache was made (same size)', () => {
    load(file, { save: true });
    writeFileSync(file, bundleSource('other'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(load(file)).to.deep.equal({ used: false, answer: 'other1' });
  });

  it('compiles from source when the cache was made under other Node flags', () => {
    load(file, { save: true, flags: ['--max-semi-space-size=2'] });
    expect(load(file, { flags: ['--max-semi-space-size=2'] }).used).to.equal(true);
    expect(load(file)).to.deep.equal({ used: false, answer: 'first1' });
  });

  it('compiles from source when the cache is broken: garbage V8 refuses, or an unreadable description', () => {
    load(file, { save: true });
    writeFileSync(cacheData(), Buffer.alloc(4096, 7));
    expect(load(file)).to.deep.equal({ used: false, answer: 'first1' });
    writeFileSync(cacheAbout(), '{ not json');
    expect(load(file)).to.deep.equal({ used: false, answer: 'first1' });
    rmSync(cacheData());
    expect(load(file)).to.deep.equal({ used: false, answer: 'first1' });
  });
});
