// Finds the lab's stand-in systemctl script. tsc copies no .sh files into dist/ (nor does the bundle), so the
// script is read from src/lab/assets/ under the package root.
import { readFile } from 'node:fs/promises';
import { packagePath } from '../package-root.js';

export function systemctlAssetPath(): string {
  return packagePath('src', 'lab', 'assets', 'systemctl.sh');
}

export async function readSystemctlAsset(): Promise<string> {
  return readFile(systemctlAssetPath(), 'utf8');
}
