// The values of variables whose names say they are secret: masked wherever a step or result is printed.
import { LazyTemplate, renderDeep } from '../template/index.js';
import type { Scope } from './scope.js';

/** Variable names whose values are masked wherever they appear in printed commands and output. */
const secretNamePattern = /(password|passwd|passphrase|secret|private_key_content|api_key)/i;

/** Values of the scope's secret-named variables (templated ones rendered; one that cannot be is skipped). */
export function secretsInScope(scope: Scope): string[] {
  const found: string[] = [];
  for (const name of Object.keys(scope)) {
    if (!secretNamePattern.test(name)) continue;
    let value = scope[name];
    if (value instanceof LazyTemplate) {
      try {
        value = renderDeep(value.value, value.scope);
      } catch {
        continue;
      }
    }
    if (typeof value === 'string') found.push(value);
  }
  return found;
}
