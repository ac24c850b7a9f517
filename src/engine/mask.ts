// Secrets never reach the screen, the JSON stream or the plan: step-declared secrets and the values of
// variables whose names say they are secret.
import { LazyTemplate, renderDeep } from '../template/index.js';
import type { Scope } from './scope.js';

export const maskText = '********';

/** Variable names whose values are masked wherever they appear in printed commands and output. */
const secretNamePattern = /(password|passwd|passphrase|secret|private_key_content|api_key)/i;

/** Shorter values would mask ordinary words. */
const minSecretLength = 4;

export class Masker {
  private readonly secrets: string[] = [];

  constructor(initial: Iterable<string> = []) {
    for (const secret of initial) this.add(secret);
  }

  add(secret: string | undefined): void {
    if (typeof secret !== 'string' || secret.length < minSecretLength || this.secrets.includes(secret)) return;
    this.secrets.push(secret);
    // Longest first, so a secret containing another is masked whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join(maskText);
    return result;
  }

  get size(): number {
    return this.secrets.length;
  }
}

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
