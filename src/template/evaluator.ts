// Evaluates expression trees. Undefined names travel as `Missing` until something needs their value;
// Deferred values turn every operation that touches them into a Deferred describing that operation.
import { keysOf, objectFromEntries, readMember } from './access.js';
import type { Expr } from './ast.js';
import { Deferred, DeferredEncountered, isDeferred, isMissing, Missing } from './deferred.js';
import { TemplateError } from './errors.js';
import type { FilterContext } from './filter-types.js';
import { bindArguments } from './filter-types.js';
import { callMethod, globalFunctions, methodNames } from './methods.js';
import { binaryOperation } from './operators.js';
import { missingMember } from './paths.js';
import { pythonSlice } from './slice.js';
import { filterNames, lookupFilter, lookupTest, testNames } from './registry.js';
import { didYouMean } from './suggest.js';
import type { Scope } from './values.js';
import { compare, contains, equals, isTrue, toJson, toText, typeName } from './values.js';

export interface EvalContext {
  /** The template text the node offsets point into. */
  source: string;
  root: Scope;
  /** Local variables (for loops, set), innermost last. */
  frames: Map<string, unknown>[];
}

export function textOf(node: Expr, ctx: EvalContext): string {
  return ctx.source.slice(node.start, node.end).trim();
}

/** The node's text with each Deferred operand's text replaced by that operand's own description. */
export function describeDeferred(node: Expr, ctx: EvalContext, operands: [Expr, unknown][]): Deferred {
  let text = '';
  let position = node.start;
  const deferred = operands.filter((pair): pair is [Expr, Deferred] => isDeferred(pair[1])).sort(([a], [b]) => a.start - b.start);
  for (const [operand, value] of deferred) {
    if (operand.start < position) continue;
    text += ctx.source.slice(position, operand.start) + value.source;
    position = operand.end;
  }
  return new Deferred((text + ctx.source.slice(position, node.end)).trim());
}

/** The value of a node that must be defined. */
export function evaluateDefined(node: Expr, ctx: EvalContext): unknown {
  const value = evaluateNode(node, ctx);
  if (isMissing(value)) throw value.error;
  return value;
}

export function evaluateNode(node: Expr, ctx: EvalContext): unknown {
  try {
    return evaluateUnguarded(node, ctx);
  } catch (error) {
    if (error instanceof DeferredEncountered) return describeDeferred(node, ctx, []);
    throw error;
  }
}

function evaluateUnguarded(node: Expr, ctx: EvalContext): unknown {
  switch (node.type) {
    case 'literal':
      return node.value;
    case 'name':
      return lookupName(node.name, ctx);
    case 'list': {
      const items = node.items.map((item) => evaluateDefined(item, ctx));
      return items.some(isDeferred)
        ? describeDeferred(
            node,
            ctx,
            node.items.map((item, i) => [item, items[i]]),
          )
        : items;
    }
    case 'dict':
      return evaluateDict(node, ctx);
    case 'attr':
      return evaluateAttribute(node.object, node.name, node, ctx);
    case 'item':
      return evaluateItem(node, ctx);
    case 'slice':
      return evaluateSlice(node, ctx);
    case 'call':
      return evaluateCall(node, ctx);
    case 'filter':
      return evaluateFilter(node, ctx);
    case 'test':
      return evaluateTest(node, ctx);
    case 'unary':
      return evaluateUnary(node, ctx);
    case 'binary':
      return evaluateBinary(node, ctx);
    case 'compare':
      return evaluateCompare(node, ctx);
    case 'conditional': {
      const test = evaluateDefined(node.test, ctx);
      if (isDeferred(test)) return describeDeferred(node, ctx, [[node.test, test]]);
      if (isTrue(test)) return evaluateNode(node.then, ctx);
      return node.otherwise ? evaluateNode(node.otherwise, ctx) : '';
    }
  }
}

function lookupName(name: string, ctx: EvalContext): unknown {
  for (let i = ctx.frames.length - 1; i >= 0; i--) {
    const frame = ctx.frames[i] as Map<string, unknown>;
    if (frame.has(name)) return frame.get(name);
  }
  const lookup = readMember(ctx.root, name);
  if (lookup.found) return lookup.value;
  const known = [...ctx.frames.flatMap((frame) => [...frame.keys()]), ...keysOf(ctx.root)];
  return new Missing(new TemplateError(`undefined variable "${name}"${didYouMean(name, known)}`, name));
}

function describeType(value: unknown): string {
  return ['dict', 'list'].includes(typeName(value)) ? '' : ` (a ${typeName(value)})`;
}

function evaluateAttribute(objectNode: Expr, name: string, node: Expr, ctx: EvalContext): unknown {
  const object = evaluateNode(objectNode, ctx);
  if (isMissing(object)) return object;
  if (isDeferred(object)) return describeDeferred(node, ctx, [[objectNode, object]]);
  const lookup = readMember(object, name);
  if (lookup.found) return lookup.value;
  const missing = missingMember(textOf(objectNode, ctx), object, name);
  return describeType(object)
    ? new Missing(new TemplateError(missing.error.message.replace(' has no', `${describeType(object)} has no`), missing.error.variable))
    : missing;
}

function evaluateItem(node: Extract<Expr, { type: 'item' }>, ctx: EvalContext): unknown {
  const object = evaluateNode(node.object, ctx);
  if (isMissing(object)) return object;
  const index = evaluateDefined(node.index, ctx);
  if (isDeferred(object) || isDeferred(index))
    return describeDeferred(node, ctx, [
      [node.object, object],
      [node.index, index],
    ]);
  const lookup = readMember(object, index);
  if (lookup.found) return lookup.value;
  const subject = JSON.stringify(textOf(node.object, ctx));
  const variable = `${textOf(node.object, ctx)}[${toJson(index)}]`;
  if (Array.isArray(object) || typeof object === 'string') {
    return new Missing(new TemplateError(`${subject} has no index ${toJson(index)} (it has ${Array.from(object).length} items)`, variable));
  }
  const known = keysOf(object);
  return new Missing(
    new TemplateError(
      `${subject}${describeType(object)} has no key ${toJson(index)}${typeof index === 'string' ? didYouMean(index, known) : ''}`,
      variable,
    ),
  );
}

function evaluateSlice(node: Extract<Expr, { type: 'slice' }>, ctx: EvalContext): unknown {
  const object = evaluateDefined(node.object, ctx);
  const bounds = [node.lower, node.upper, node.step].map((part) => (part ? evaluateDefined(part, ctx) : null));
  const operands: [Expr, unknown][] = [[node.object, object]];
  [node.lower, node.upper, node.step].forEach((part, i) => part && operands.push([part, bounds[i]]));
  if (operands.some(([, value]) => isDeferred(value))) return describeDeferred(node, ctx, operands);
  if (typeof object !== 'string' && !Array.isArray(object)) throw new TemplateError(`cannot slice ${typeName(object)} "${textOf(node.object, ctx)}"`);
  const items = typeof object === 'string' ? Array.from(object) : object;
  const picked = pythonSlice(items, bounds[0], bounds[1], bounds[2]);
  return typeof object === 'string' ? picked.join('') : picked;
}

function evaluateDict(node: Extract<Expr, { type: 'dict' }>, ctx: EvalContext): unknown {
  const operands: [Expr, unknown][] = [];
  const entries = node.entries.map(([keyNode, valueNode]) => {
    const key = evaluateDefined(keyNode, ctx);
    const value = evaluateDefined(valueNode, ctx);
    operands.push([keyNode, key], [valueNode, value]);
    return [key, value] as const;
  });
  if (operands.some(([, value]) => isDeferred(value))) return describeDeferred(node, ctx, operands);
  return objectFromEntries(
    entries.map(([key, value]) => {
      if (key !== null && typeof key === 'object') throw new TemplateError(`a dictionary key cannot be a ${typeName(key)}`);
      return [typeof key === 'string' ? key : toText(key), value] as const;
    }),
  );
}

interface EvaluatedArguments {
  args: unknown[];
  kwargs: Map<string, unknown>;
  operands: [Expr, unknown][];
}

function evaluateArguments(node: { args: Expr[]; kwargs: [string, Expr][] }, ctx: EvalContext): EvaluatedArguments {
  const operands: [Expr, unknown][] = [];
  const args = node.args.map((arg) => {
    const value = evaluateDefined(arg, ctx);
    operands.push([arg, value]);
    return value;
  });
  const kwargs = new Map<string, unknown>();
  for (const [name, arg] of node.kwargs) {
    const value = evaluateDefined(arg, ctx);
    operands.push([arg, value]);
    kwargs.set(name, value);
  }
  return { args, kwargs, operands };
}

function evaluateCall(node: Extract<Expr, { type: 'call' }>, ctx: EvalContext): unknown {
  const { callee } = node;
  if (callee.type === 'attr') {
    const self = evaluateDefined(callee.object, ctx);
    const call = evaluateArguments(node, ctx);
    if (isDeferred(self) || call.operands.some(([, value]) => isDeferred(value))) {
      return describeDeferred(node, ctx, [[callee.object, self], ...call.operands]);
    }
    const result = callMethod(self, callee.name, call.args, call.kwargs);
    if (result.found) return result.value;
    const subject = textOf(callee.object, ctx);
    throw new TemplateError(`"${subject}" (a ${typeName(self)}) has no method "${callee.name}"${didYouMean(callee.name, methodNames(self))}`);
  }
  if (callee.type === 'name' && isMissing(lookupName(callee.name, ctx)) && Object.hasOwn(globalFunctions, callee.name)) {
    const call = evaluateArguments(node, ctx);
    if (call.operands.some(([, value]) => isDeferred(value))) return describeDeferred(node, ctx, call.operands);
    const fn = globalFunctions[callee.name];
    return fn?.call(undefined as never, bindArguments(`${callee.name}()`, fn.params, call.args, call.kwargs));
  }
  throw new TemplateError(`"${textOf(callee, ctx)}" is not callable (only filters, tests, range() and string/dict methods can be called)`);
}

export function filterContext(ctx: EvalContext, inputText: string, argTexts: string[]): FilterContext {
  return {
    inputText,
    argTexts,
    applyFilter: (name, input, args, kwargs, texts = []) => applyFilter(name, input, args, kwargs, filterContext(ctx, inputText, texts)),
    applyTest: (name, value, args, kwargs, texts = []) => applyTest(name, value, args, kwargs, filterContext(ctx, inputText, texts)),
  };
}

function applyFilter(name: string, input: unknown, args: unknown[], kwargs: Map<string, unknown>, ctx: FilterContext): unknown {
  const spec = lookupFilter(name);
  if (!spec) throw new TemplateError(`unknown filter "${name}"${didYouMean(name, filterNames)}`);
  if (isMissing(input) && !spec.acceptsUndefined) throw input.error;
  if (isDeferred(input)) return new Deferred(`${input.source} | ${name}`);
  try {
    return spec.apply(input, bindArguments(`filter "${name}"`, spec.params, args, kwargs), ctx);
  } catch (error) {
    if (error instanceof TemplateError || error instanceof DeferredEncountered) throw error;
    throw new TemplateError(`filter "${name}" failed: ${(error as Error).message}`);
  }
}

function applyTest(name: string, value: unknown, args: unknown[], kwargs: Map<string, unknown>, ctx: FilterContext): boolean {
  const spec = lookupTest(name);
  if (!spec) throw new TemplateError(`unknown test "${name}"${didYouMean(name, testNames)}`);
  if (isMissing(value) && !spec.acceptsUndefined) throw value.error;
  if (isDeferred(value)) throw new DeferredEncountered(value);
  return spec.apply(value, bindArguments(`test "${name}"`, spec.params, args, kwargs), ctx);
}

function evaluateFilter(node: Extract<Expr, { type: 'filter' }>, ctx: EvalContext): unknown {
  const input = evaluateNode(node.input, ctx);
  const call = evaluateArguments(node, ctx);
  const operands: [Expr, unknown][] = [[node.input, input], ...call.operands];
  if (operands.some(([, value]) => isDeferred(value))) return describeDeferred(node, ctx, operands);
  const context = filterContext(
    ctx,
    textOf(node.input, ctx),
    node.args.map((arg) => textOf(arg, ctx)),
  );
  return applyFilter(node.name, input, call.args, call.kwargs, context);
}

function evaluateTest(node: Extract<Expr, { type: 'test' }>, ctx: EvalContext): unknown {
  const value = evaluateNode(node.input, ctx);
  const call = evaluateArguments(node, ctx);
  const operands: [Expr, unknown][] = [[node.input, value], ...call.operands];
  if (operands.some(([, operand]) => isDeferred(operand))) return describeDeferred(node, ctx, operands);
  const context = filterContext(
    ctx,
    textOf(node.input, ctx),
    node.args.map((arg) => textOf(arg, ctx)),
  );
  return applyTest(node.name, value, call.args, call.kwargs, context) !== node.negated;
}

function evaluateUnary(node: Extract<Expr, { type: 'unary' }>, ctx: EvalContext): unknown {
  const operand = evaluateDefined(node.operand, ctx);
  if (isDeferred(operand)) return describeDeferred(node, ctx, [[node.operand, operand]]);
  if (node.op === 'not') return !isTrue(operand);
  if (typeof operand !== 'number' && typeof operand !== 'boolean')
    throw new TemplateError(`bad operand type for unary ${node.op}: ${typeName(operand)}`);
  return node.op === '-' ? -Number(operand) : Number(operand);
}

function evaluateBinary(node: Extract<Expr, { type: 'binary' }>, ctx: EvalContext): unknown {
  const left = evaluateDefined(node.left, ctx);
  if (node.op === 'and' || node.op === 'or') {
    // The right side of a run-time left side may never run: leave it unevaluated.
    if (isDeferred(left)) return describeDeferred(node, ctx, [[node.left, left]]);
    // Python semantics: the deciding operand itself is the result.
    if (isTrue(left) === (node.op === 'or')) return left;
    const right = evaluateDefined(node.right, ctx);
    return isDeferred(right) ? describeDeferred(node, ctx, [[node.right, right]]) : right;
  }
  const right = evaluateDefined(node.right, ctx);
  if (isDeferred(left) || isDeferred(right))
    return describeDeferred(node, ctx, [
      [node.left, left],
      [node.right, right],
    ]);
  return binaryOperation(node.op, left, right);
}

function compareValues(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return equals(a, b);
    case '!=':
      return !equals(a, b);
    case '<':
      return compare(a, b) < 0;
    case '<=':
      return compare(a, b) <= 0;
    case '>':
      return compare(a, b) > 0;
    case '>=':
      return compare(a, b) >= 0;
    case 'in':
      return contains(b, a);
    case 'not in':
      return !contains(b, a);
    default:
      throw new TemplateError(`unknown comparison ${op}`);
  }
}

function evaluateCompare(node: Extract<Expr, { type: 'compare' }>, ctx: EvalContext): unknown {
  const operands: [Expr, unknown][] = [node.first, ...node.rest.map(([, operand]) => operand)].map((operand) => [
    operand,
    evaluateDefined(operand, ctx),
  ]);
  if (operands.some(([, value]) => isDeferred(value))) return describeDeferred(node, ctx, operands);
  return node.rest.every(([op], i) => compareValues(op, operands[i]?.[1], operands[i + 1]?.[1]));
}
