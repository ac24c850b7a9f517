// Finds the lab's stand-in systemctl script. tsc copies no .sh files into dist/, so the script is resolved
// relative to the package root, which is two levels above this file both in src/lab/ and in dist/lab/.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export function systemctlAssetPath(): string {
  return fileURLToPath(new URL('../../src/lab/assets/systemctl.sh', import.meta.url));
}

export async function readSystemctlAsset(): Promise<string> {
  return readFile(systemctlAssetPath(), 'utf8');
}
