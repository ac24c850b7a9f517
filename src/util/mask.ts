// Secrets never reach the screen, the JSON stream or the plan: every printer masks what the Masker holds.

export const maskText = '********';

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
