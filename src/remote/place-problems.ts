// Remote-settings problems as the ConfigProblems every command prints: at file:line:col when the
// inventory came from a file, with the line and a caret.
import { inventoryMeta } from '../config/inventory-meta.js';
import type { Inventory } from '../config/types.js';
import { problemAt, type YamlPath } from '../config/yaml-source.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { inventoryValue } from './inventory-value.js';
import type { RemoteProblem } from './settings-types.js';

export function placeRemoteProblems(inventory: Inventory, problems: readonly RemoteProblem[]): ConfigProblem[] {
  const meta = inventoryMeta(inventory);
  return problems.map((p) => {
    const fields = {
      code: p.code,
      message: p.message,
      severity: p.severity,
      hint: p.fix,
      ...(p.expected !== undefined ? { expected: p.expected } : {}),
    };
    const [root, ...keys] = p.path;
    const base: YamlPath | undefined = root === undefined ? undefined : inventoryValue(inventory, root)?.path;
    if (meta && base) return problemAt(meta.source, [...base, ...keys], fields, p.atKey ? 'key' : 'value');
    const plain: ConfigProblem = { severity: p.severity, code: p.code, message: `${inventory.file}: ${p.message}`, hint: p.fix };
    if (p.expected !== undefined) plain.expected = p.expected;
    return plain;
  });
}

/** A ConfigError (exit 2, nothing changed) when any problem is an error; undefined otherwise. */
export function remoteConfigError(inventory: Inventory, problems: readonly RemoteProblem[]): ConfigError | undefined {
  if (!problems.some((p) => p.severity === 'error')) return undefined;
  return new ConfigError(placeRemoteProblems(inventory, problems));
}
