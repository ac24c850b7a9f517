// Values that exist only at run time (registered results under --dry-run) and the undefined marker.
import type { TemplateError } from './errors.js';

/** A value known only at run time. Every operation on it yields another Deferred describing the expression. */
export class Deferred {
  constructor(readonly source: string) {}
  toString(): string {
    return `<deferred: ${this.source}>`;
  }
  toJSON(): string {
    return this.toString();
  }
}

export function isDeferred(value: unknown): value is Deferred {
  return value instanceof Deferred;
}

/**
 * Thrown by value helpers that need a concrete value but found a Deferred inside a container
 * (a list being joined, compared or serialised); the evaluator turns the whole expression into a Deferred.
 */
export class DeferredEncountered extends Error {
  constructor(readonly deferred: Deferred) {
    super(`value known only at run time: ${deferred.source}`);
  }
}

/**
 * An undefined variable or missing attribute. It travels through attribute access so that
 * `x.y | default(z)` and `x.y is defined` work; any other use raises its error.
 */
export class Missing {
  constructor(readonly error: TemplateError) {}
}

export function isMissing(value: unknown): value is Missing {
  return value instanceof Missing;
}
