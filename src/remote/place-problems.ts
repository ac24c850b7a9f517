// Remote-settings problems as the ConfigProblems every command prints: at file:line:col when the
// inventory came from a file, with the line and a caret.
import { problemAtOrigin, yamlOrigin, type Origin } from '../config/origin.js';
import type { Inventory } from '../config/types.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { inventoryValue } from './inventory-value.js';
import type { RemoteProblem } from './settings-types.js';

export function placeRemoteProblems(inventory: Inventory, problems: readonly RemoteProblem[]): ConfigProblem[] {
  return problems.map((p) => {
    const fields = {
      code: p.code,
      message: p.message,
      severity: p.severity,
      hint: p.fix,
      ...(p.expected !== undefined ? { expected: p.expected } : {}),
    };
    const [root, ...keys] = p.path;
    const base = root === undefined ? undefined : inventoryValue(inventory, root)?.origin;
    if (base) return problemAtOrigin(inside(base, keys, p.atKey ? 'key' : 'value'), fields);
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

/** The origin of a key inside a value: exact in YAML; in an INI file, the line the value is on. */
function inside(origin: Origin, keys: readonly (string | number)[], target: 'key' | 'value'): Origin {
  return origin.kind === 'yaml' ? yamlOrigin(origin.source, [...origin.path, ...keys], target) : origin;
}
