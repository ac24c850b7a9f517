// Files that ship next to the code (schemas/, playbooks/, src/lab/assets/, dist/validators/, bin/) are found
// from the package root, never relative to the calling file: that file may be src/<area>/x.ts (tsx),
// dist/<area>/x.js (tsc) or a chunk of the bundle (dist/orchestrate.mjs, dist/chunks/), each at a different
// depth below the root.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageName = 'orchestrate';
/** src/ and dist/ are one level below the root and the bundle's chunks two; a little slack for layouts to come. */
const maxLevelsUp = 6;

let root: string | undefined;

/** The folder that holds orchestrate's package.json. */
export function packageRoot(): string {
  root ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return root;
}

/** A path inside the package, e.g. `packagePath('schemas', 'inventory.schema.json')`. */
export function packagePath(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}

/** Walks up from `start` to the first package.json named orchestrate (a stray package.json, say {"type":"module"} in dist/, is passed over). */
export function findPackageRoot(start: string): string {
  let dir = start;
  for (let level = 0; level <= maxLevelsUp; level++) {
    if (nameOfPackageIn(dir) === packageName) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    `cannot find the ${packageName} package (its package.json) in ${start} or the ${maxLevelsUp} folders above it; reinstall orchestrate`,
  );
}

function nameOfPackageIn(dir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return typeof manifest.name === 'string' ? manifest.name : undefined;
  } catch {
    return undefined; // no package.json here, or not JSON: keep walking up
  }
}
