// Variables whose values are themselves templates, rendered when read (Ansible's lazy variable templating).
import type { Scope } from './values.js';

/**
 * Wrap a trusted variable value (inventory or play vars, not registered output) so that reading it
 * renders it against `scope`: `cluster_dir: "{{ base_dir }}/clusters"` resolves when used, in the
 * scope of the host it belongs to. Only meaningful as a property value of a scope object or Map.
 */
export class LazyTemplate {
  constructor(
    readonly value: unknown,
    readonly scope: Scope,
    /** The variable name, for error messages. */
    readonly name?: string,
  ) {}
}

type Resolver = (lazy: LazyTemplate) => unknown;
let resolver: Resolver | undefined;

/** Set once by the evaluator; kept here so that member access does not import the evaluator. */
export function installLazyResolver(resolve: Resolver): void {
  resolver = resolve;
}

export function resolveLazy(value: unknown): unknown {
  if (!(value instanceof LazyTemplate)) return value;
  if (!resolver) throw new Error('template evaluator not loaded');
  return resolver(value);
}
