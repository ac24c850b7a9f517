// Renders parsed templates: text, {{ }} output, if/for/set. Output parts stay Deferred until joined.
import { joinShellPieces, ShellContextError, type ShellPiece } from '../shell/shell-context.js';
import type { TemplateNode } from './ast.js';
import { Deferred, DeferredEncountered, isDeferred } from './deferred.js';
import { TemplateError } from './errors.js';
import type { EvalContext } from './evaluator.js';
import { describeDeferred, evaluateDefined, textOf } from './evaluator.js';
import { isTrue, toList, toText, typeName } from './values.js';

export interface RenderOptions {
  /** Quote every `{{ }}` result as one POSIX shell word; literal text is left as written. */
  shellQuote?: boolean;
}

/** A `{{ }}` result bound for a shell line: quoted for its place once the whole line is known (joinParts). */
export class ShellValue {
  constructor(
    readonly text: string,
    /** The expression ends in `| quote`: already one shell word. */
    readonly preQuoted: boolean,
  ) {}
}

export type Part = string | Deferred | ShellValue;

export function renderNodes(nodes: TemplateNode[], ctx: EvalContext, options: RenderOptions, out: Part[]): void {
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        out.push(node.text);
        break;
      case 'output':
        out.push(outputText(node.expr, ctx, options));
        break;
      case 'if':
        renderIf(node, ctx, options, out);
        break;
      case 'for':
        renderFor(node, ctx, options, out);
        break;
      case 'set':
        bind(node.targets, evaluateDefined(node.value, ctx), ctx.frames.at(-1) as Map<string, unknown>);
        break;
    }
  }
}

function outputText(expr: Extract<TemplateNode, { type: 'output' }>['expr'], ctx: EvalContext, options: RenderOptions): Part {
  const value = evaluateDefined(expr, ctx);
  if (isDeferred(value)) return value;
  let text: string;
  try {
    text = toText(value);
  } catch (error) {
    if (error instanceof DeferredEncountered) return describeDeferred(expr, ctx, []);
    throw error;
  }
  return options.shellQuote ? new ShellValue(text, expr.type === 'filter' && expr.name === 'quote') : text;
}

function renderIf(node: Extract<TemplateNode, { type: 'if' }>, ctx: EvalContext, options: RenderOptions, out: Part[]): void {
  for (const branch of node.branches) {
    const test = evaluateDefined(branch.test, ctx);
    if (isDeferred(test)) {
      out.push(new Deferred(`if ${test.source}`));
      return;
    }
    if (isTrue(test)) {
      renderNodes(branch.body, ctx, options, out);
      return;
    }
  }
  if (node.otherwise) renderNodes(node.otherwise, ctx, options, out);
}

/** Assign one value, or unpack a list into several names (`for key, value in d.items()`). */
function bind(targets: string[], value: unknown, frame: Map<string, unknown>): void {
  if (targets.length === 1) {
    frame.set(targets[0] as string, value);
    return;
  }
  if (!Array.isArray(value) || value.length !== targets.length) {
    const size = Array.isArray(value) ? `${value.length} items` : `a ${typeName(value)}`;
    throw new TemplateError(`cannot unpack ${size} into ${targets.length} names (${targets.join(', ')})`);
  }
  targets.forEach((target, i) => frame.set(target, value[i]));
}

function renderFor(node: Extract<TemplateNode, { type: 'for' }>, ctx: EvalContext, options: RenderOptions, out: Part[]): void {
  const iterable = evaluateDefined(node.iterable, ctx);
  if (isDeferred(iterable)) {
    out.push(new Deferred(`for ${node.targets.join(', ')} in ${iterable.source}`));
    return;
  }
  let items = toList(iterable);
  if (node.filter) {
    const filter = node.filter;
    const kept: unknown[] = [];
    for (const item of items) {
      const frame = new Map<string, unknown>();
      bind(node.targets, item, frame);
      const keep = evaluateDefined(filter, { ...ctx, frames: [...ctx.frames, frame] });
      if (isDeferred(keep)) {
        out.push(new Deferred(`for ${node.targets.join(', ')} in ${textOf(node.iterable, ctx)} if ${keep.source}`));
        return;
      }
      if (isTrue(keep)) kept.push(item);
    }
    items = kept;
  }
  if (items.length === 0 && node.otherwise) {
    renderNodes(node.otherwise, ctx, options, out);
    return;
  }
  items.forEach((item, index) => {
    const frame = new Map<string, unknown>();
    bind(node.targets, item, frame);
    const loop: Record<string, unknown> = {
      index: index + 1,
      index0: index,
      revindex: items.length - index,
      revindex0: items.length - index - 1,
      first: index === 0,
      last: index === items.length - 1,
      length: items.length,
    };
    if (index > 0) loop.previtem = items[index - 1];
    if (index < items.length - 1) loop.nextitem = items[index + 1];
    frame.set('loop', loop);
    renderNodes(node.body, { ...ctx, frames: [...ctx.frames, frame] }, options, out);
  });
}

/**
 * Join parts; any Deferred part makes the whole text Deferred, with `<deferred: ...>` in its place.
 * Shell values are escaped for where they land in the shell text around them (src/shell/shell-context.ts).
 */
export function joinParts(parts: Part[]): string | Deferred {
  const hasDeferred = parts.some(isDeferred);
  let text: string;
  if (parts.some((part) => part instanceof ShellValue)) {
    const pieces: ShellPiece[] = parts.map((part) =>
      typeof part === 'string'
        ? { text: part }
        : part instanceof ShellValue
          ? { value: part.text, preQuoted: part.preQuoted }
          : { value: part.toString(), verbatim: true },
    );
    try {
      text = joinShellPieces(pieces);
    } catch (error) {
      if (error instanceof ShellContextError) throw new TemplateError(error.message);
      throw error;
    }
  } else {
    text = parts.map((part) => (typeof part === 'string' ? part : part instanceof ShellValue ? part.text : part.toString())).join('');
  }
  return hasDeferred ? new Deferred(text) : text;
}
