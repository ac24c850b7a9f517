// Public API of the template engine: the Jinja subset Ansible playbooks use.
// Hand-written lexer, parser and evaluator; no eval, no Function, no prototype access.
// Not supported: macros, include/import/extends, {% set %}...{% endset %}, recursive loops,
// loop.cycle, lookup()/query(), Python str.format, `omit` (the engine defines it if it wants it).
// Lists and dicts print as JSON (`["a", "b"]`), where Ansible would print a Python repr.
import type { Expr, TemplateNode } from './ast.js';
import { isDeferred, isMissing } from './deferred.js';
import { TemplateError } from './errors.js';
import type { EvalContext } from './evaluator.js';
import { evaluateDefined } from './evaluator.js';
import { installLazyResolver, LazyTemplate } from './lazy.js';
import { parseExpressionText, parseTemplate } from './parser.js';
import { collectExpr, collectReferences } from './references.js';
import type { Part, RenderOptions } from './renderer.js';
import { joinParts, renderNodes } from './renderer.js';
import { isPlainObject, setOwn } from './access.js';
import { isTrue, toText } from './values.js';

export type Scope = Record<string, unknown>;
export type { RenderOptions } from './renderer.js';
export type { TemplatePosition } from './errors.js';
export { TemplateError } from './errors.js';
export { Deferred, isDeferred } from './deferred.js';
export { LazyTemplate } from './lazy.js';

const templateCache = new Map<string, TemplateNode[]>();
const expressionCache = new Map<string, Expr>();
const cacheLimit = 5000;

function cached<T>(cache: Map<string, T>, key: string, parse: (text: string) => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const parsed = parse(key);
  if (cache.size >= cacheLimit) cache.clear();
  cache.set(key, parsed);
  return parsed;
}

/** True when the text contains `{{`, `{%` or `{#`. */
export function isTemplated(text: string): boolean {
  return /\{[{%#]/.test(text);
}

/** The only `{{ }}` of a template that has nothing else but whitespace around it. */
function soleOutput(nodes: TemplateNode[]): Expr | undefined {
  const meaningful = nodes.filter((node) => !(node.type === 'text' && node.text.trim() === ''));
  const [only] = meaningful;
  return meaningful.length === 1 && only?.type === 'output' ? only.expr : undefined;
}

function context(source: string, scope: Scope): EvalContext {
  return { source, root: scope, frames: [new Map<string, unknown>()] };
}

/**
 * Render a template. A text that is exactly one `{{ expr }}` gives the expression's native value
 * (list, number, dict), as Ansible does; anything else gives a string. A Deferred anywhere gives a
 * Deferred whose source is the text with `<deferred: ...>` in its place.
 */
export function render(text: string, scope: Scope, options: RenderOptions = {}): unknown {
  if (!isTemplated(text)) return text;
  const nodes = cached(templateCache, text, parseTemplate);
  const ctx = context(text, scope);
  const sole = options.shellQuote ? undefined : soleOutput(nodes);
  if (sole) return evaluateDefined(sole, ctx);
  const parts: Part[] = [];
  renderNodes(nodes, ctx, options, parts);
  return joinParts(parts);
}

/** Render every string (keys included) in a structure of arrays and plain objects. */
export function renderDeep(value: unknown, scope: Scope, options: RenderOptions = {}, depth = 0): unknown {
  if (depth > 100) throw new TemplateError('value is nested too deeply (or refers to itself) to render');
  if (typeof value === 'string') return render(value, scope, options);
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, scope, options, depth + 1));
  if (value instanceof Map) {
    return new Map(
      [...value].map(([key, item]) => [typeof key === 'string' ? renderKey(key, scope) : key, renderDeep(item, scope, options, depth + 1)]),
    );
  }
  if (isPlainObject(value)) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) setOwn(result, renderKey(key, scope), renderDeep(item, scope, options, depth + 1));
    return result;
  }
  return value;
}

function renderKey(key: string, scope: Scope): string {
  if (!isTemplated(key)) return key;
  const rendered = render(key, scope);
  return isDeferred(rendered) ? rendered.toString() : toText(rendered);
}

/** Evaluate a bare expression (`when`, `until`, `changed_when`, `failed_when`, `that`). */
export function evaluate(expression: string, scope: Scope): unknown {
  const text = expression.trim();
  if (/^\{[{%#]/.test(text)) {
    // Ansible accepts `when: "{{ x }}"`: the braces are redundant there.
    const sole = soleOutput(cached(templateCache, text, parseTemplate));
    if (!sole) throw new TemplateError(`a condition is a bare expression: remove "{{ }}" and "{% %}" from ${JSON.stringify(text)}`);
    return evaluateDefined(sole, context(text, scope));
  }
  return evaluateDefined(cached(expressionCache, text, parseExpressionText), context(text, scope));
}

/**
 * Python/Jinja truthiness. A Deferred has no truth value before run time: check `isDeferred` first;
 * passing one here is an error rather than a guess.
 */
export function truthy(value: unknown): boolean {
  if (isDeferred(value)) throw new TemplateError(`the truth of ${value.toString()} is known only at run time`);
  if (isMissing(value)) throw value.error;
  return isTrue(value);
}

/** Top-level variable names a template (or, with `expression: true`, a bare expression) reads. */
export function referencedVariables(text: string, options: { expression?: boolean } = {}): string[] {
  const names = new Set<string>();
  if (options.expression && !isTemplated(text)) collectExpr(cached(expressionCache, text.trim(), parseExpressionText), names, new Set());
  else collectReferences(cached(templateCache, text, parseTemplate), names);
  return [...names];
}

const resolving = new Set<LazyTemplate>();
installLazyResolver((lazy) => {
  const name = lazy.name ?? 'a variable';
  if (resolving.has(lazy)) throw new TemplateError(`variable "${name}" refers to itself through its own template`, lazy.name);
  resolving.add(lazy);
  try {
    return renderDeep(lazy.value, lazy.scope);
  } catch (error) {
    if (error instanceof TemplateError && lazy.name && !error.message.includes(`(in variable "`)) {
      throw new TemplateError(`${error.message} (in variable "${lazy.name}")`, error.variable, error.position);
    }
    throw error;
  } finally {
    resolving.delete(lazy);
  }
});
