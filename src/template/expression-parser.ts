// Recursive-descent parser for Jinja expressions, following Jinja's precedence:
// conditional < or < and < not < comparisons < + - < ~ < * / // % < ** < unary < filters/tests.
import type { CallArguments, Expr } from './ast.js';
import type { TemplateError } from './errors.js';
import { syntaxError } from './errors.js';
import type { Token } from './lexer.js';
import { filterNames, testNames } from './registry.js';
import { didYouMean } from './suggest.js';

const compareOps = new Set(['==', '!=', '<', '<=', '>', '>=']);
/** Words after `is name` that end the test instead of being its argument. */
const testArgumentStops = new Set(['and', 'or', 'else', 'if', 'in', 'is', 'not']);

export class ExpressionParser {
  protected index = 0;

  constructor(
    protected readonly source: string,
    protected readonly tokens: Token[],
  ) {}

  protected peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  protected next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }

  protected isOp(value: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'op' && token.value === value;
  }

  protected isName(value: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'name' && token.value === value;
  }

  protected fail(token: Token, problem: string): TemplateError {
    return syntaxError(this.source, token.start, problem);
  }

  protected describe(token: Token): string {
    if (token.kind === 'eof') return 'the end of the text';
    if (token.kind === 'text') return 'text';
    return JSON.stringify(this.source.slice(token.start, token.end));
  }

  expectKind(kind: Token['kind'], what: string): Token {
    const token = this.peek();
    if (token.kind !== kind) throw this.fail(token, `expected ${what} but found ${this.describe(token)}`);
    return this.next();
  }

  protected expectOp(value: string): Token {
    if (!this.isOp(value)) throw this.fail(this.peek(), `expected "${value}" but found ${this.describe(this.peek())}`);
    return this.next();
  }

  protected expectNameToken(what: string): Token {
    return this.expectKind('name', what);
  }

  parseExpression(withConditional = true): Expr {
    return withConditional ? this.parseConditional() : this.parseOr();
  }

  private parseConditional(): Expr {
    let expr = this.parseOr();
    while (this.isName('if')) {
      this.next();
      const test = this.parseOr();
      let otherwise: Expr | undefined;
      if (this.isName('else')) {
        this.next();
        otherwise = this.parseConditional();
      }
      expr = { type: 'conditional', test, then: expr, otherwise, start: expr.start, end: (otherwise ?? test).end };
    }
    return expr;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isName('or')) {
      this.next();
      const right = this.parseAnd();
      left = { type: 'binary', op: 'or', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isName('and')) {
      this.next();
      const right = this.parseNot();
      left = { type: 'binary', op: 'and', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isName('not')) {
      const token = this.next();
      const operand = this.parseNot();
      return { type: 'unary', op: 'not', operand, start: token.start, end: operand.end };
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    const first = this.parseMath1();
    const rest: [string, Expr][] = [];
    for (;;) {
      const token = this.peek();
      let op: string | undefined;
      if (token.kind === 'op' && compareOps.has(token.value)) op = token.value;
      else if (this.isName('in')) op = 'in';
      else if (this.isName('not') && this.isName('in', 1)) {
        this.next();
        op = 'not in';
      }
      if (op === undefined) break;
      this.next();
      rest.push([op, this.parseMath1()]);
    }
    if (rest.length === 0) return first;
    return { type: 'compare', first, rest, start: first.start, end: (rest.at(-1)?.[1] ?? first).end };
  }

  private parseBinaryLevel(ops: string[], operand: () => Expr): Expr {
    let left = operand();
    while (this.peek().kind === 'op' && ops.includes(this.peek().value)) {
      const op = this.next().value;
      const right = operand();
      left = { type: 'binary', op, left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parseMath1(): Expr {
    return this.parseBinaryLevel(['+', '-'], () => this.parseConcat());
  }

  private parseConcat(): Expr {
    return this.parseBinaryLevel(['~'], () => this.parseMath2());
  }

  private parseMath2(): Expr {
    return this.parseBinaryLevel(['*', '/', '//', '%'], () => this.parsePow());
  }

  private parsePow(): Expr {
    return this.parseBinaryLevel(['**'], () => this.parseUnary(true));
  }

  private parseUnary(withFilters: boolean): Expr {
    let expr: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      const token = this.next();
      const operand = this.parseUnary(false);
      expr = { type: 'unary', op: token.value as '-' | '+', operand, start: token.start, end: operand.end };
    } else {
      expr = this.parsePostfix(this.parsePrimary());
    }
    return withFilters ? this.parseFiltersAndTests(expr) : expr;
  }

  private parsePrimary(): Expr {
    const token = this.next();
    const span = { start: token.start, end: token.end };
    switch (token.kind) {
      case 'name':
        if (token.value === 'true' || token.value === 'True') return { type: 'literal', value: true, ...span };
        if (token.value === 'false' || token.value === 'False') return { type: 'literal', value: false, ...span };
        if (token.value === 'none' || token.value === 'None') return { type: 'literal', value: null, ...span };
        return { type: 'name', name: token.value, ...span };
      case 'string': {
        let value = token.value;
        let end = token.end;
        while (this.peek().kind === 'string') {
          const more = this.next();
          value += more.value;
          end = more.end;
        }
        return { type: 'literal', value, start: token.start, end };
      }
      case 'number':
        return { type: 'literal', value: token.number, ...span };
      case 'op':
        if (token.value === '(') return this.parseParenthesised(token);
        if (token.value === '[') {
          const items = this.parseSequence(']');
          return { type: 'list', items, start: token.start, end: this.expectOp(']').end };
        }
        if (token.value === '{') return this.parseDict(token);
        break;
      default:
        break;
    }
    throw this.fail(token, `expected a value but found ${this.describe(token)}`);
  }

  private parseParenthesised(open: Token): Expr {
    if (this.isOp(')')) return { type: 'list', items: [], start: open.start, end: this.next().end };
    const first = this.parseExpression();
    if (this.isOp(',')) {
      this.next();
      const items = [first, ...this.parseSequence(')')];
      return { type: 'list', items, start: open.start, end: this.expectOp(')').end };
    }
    // Widen the span to the parentheses so that descriptions built from the text stay balanced.
    return { ...first, start: open.start, end: this.expectOp(')').end };
  }

  /** Comma-separated expressions up to (not including) `close`; a trailing comma is allowed. */
  private parseSequence(close: string): Expr[] {
    const items: Expr[] = [];
    while (!this.isOp(close)) {
      items.push(this.parseExpression());
      if (!this.isOp(',')) break;
      this.next();
    }
    return items;
  }

  private parseDict(open: Token): Expr {
    const entries: [Expr, Expr][] = [];
    while (!this.isOp('}')) {
      const key = this.parseExpression();
      this.expectOp(':');
      entries.push([key, this.parseExpression()]);
      if (!this.isOp(',')) break;
      this.next();
    }
    return { type: 'dict', entries, start: open.start, end: this.expectOp('}').end };
  }

  private parsePostfix(expr: Expr): Expr {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const token = this.next();
        if (token.kind === 'name') {
          expr = { type: 'attr', object: expr, name: token.value, start: expr.start, end: token.end };
        } else if (token.kind === 'number' && Number.isInteger(token.number)) {
          const index: Expr = { type: 'literal', value: token.number, start: token.start, end: token.end };
          expr = { type: 'item', object: expr, index, start: expr.start, end: token.end };
        } else {
          throw this.fail(token, `expected an attribute name after "." but found ${this.describe(token)}`);
        }
      } else if (this.isOp('[')) {
        this.next();
        expr = this.parseSubscript(expr);
      } else if (this.isOp('(')) {
        const call = this.parseCallArguments();
        expr = { type: 'call', callee: expr, ...call.args, start: expr.start, end: call.end };
      } else {
        return expr;
      }
    }
  }

  private parseSubscript(object: Expr): Expr {
    const parts: (Expr | undefined)[] = [];
    let isSlice = false;
    let current: Expr | undefined;
    while (!this.isOp(']')) {
      if (this.isOp(':')) {
        this.next();
        parts.push(current);
        current = undefined;
        isSlice = true;
        if (parts.length > 2) throw this.fail(this.peek(), 'a slice has at most three parts');
        continue;
      }
      if (current) throw this.fail(this.peek(), `expected "]" but found ${this.describe(this.peek())}`);
      current = this.parseExpression();
    }
    const end = this.next().end;
    if (!isSlice) {
      if (!current) throw this.fail(this.peek(), 'expected an index inside "[]"');
      return { type: 'item', object, index: current, start: object.start, end };
    }
    parts.push(current);
    return { type: 'slice', object, lower: parts[0], upper: parts[1], step: parts[2], start: object.start, end };
  }

  private parseCallArguments(): { args: CallArguments; end: number } {
    this.expectOp('(');
    const args: Expr[] = [];
    const kwargs: [string, Expr][] = [];
    while (!this.isOp(')')) {
      if (this.peek().kind === 'name' && this.isOp('=', 1)) {
        const name = this.next().value;
        this.next();
        kwargs.push([name, this.parseExpression()]);
      } else {
        if (kwargs.length > 0) throw this.fail(this.peek(), 'a positional argument cannot follow a keyword argument');
        args.push(this.parseExpression());
      }
      if (!this.isOp(',')) break;
      this.next();
    }
    return { args: { args, kwargs }, end: this.expectOp(')').end };
  }

  /** A filter or test name, `ansible.builtin.` prefixes accepted. */
  private parseQualifiedName(kinds: ReadonlySet<string>, what: string): string {
    const first = this.expectNameToken(`a ${what} name`);
    let name = first.value;
    while (this.isOp('.')) {
      this.next();
      name += '.' + this.expectNameToken(`a ${what} name`).value;
    }
    const bare = name.replace(/^ansible\.builtin\./, '');
    if (!kinds.has(bare)) throw this.fail(first, `unknown ${what} "${name}"${didYouMean(bare, kinds)}`);
    return bare;
  }

  private parseFiltersAndTests(expr: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) {
        this.next();
        const name = this.parseQualifiedName(filterNames, 'filter');
        const call = this.isOp('(')
          ? this.parseCallArguments()
          : { args: { args: [], kwargs: [] }, end: this.tokens[this.index - 1]?.end ?? expr.end };
        expr = { type: 'filter', input: expr, name, ...call.args, start: expr.start, end: call.end };
      } else if (this.isName('is')) {
        this.next();
        const negated = this.isName('not');
        if (negated) this.next();
        const name = this.parseQualifiedName(testNames, 'test');
        let end = this.tokens[this.index - 1]?.end ?? expr.end;
        let args: CallArguments = { args: [], kwargs: [] };
        if (this.isOp('(')) {
          const call = this.parseCallArguments();
          args = call.args;
          end = call.end;
        } else if (this.startsTestArgument()) {
          const arg = this.parsePostfix(this.parsePrimary());
          args = { args: [arg], kwargs: [] };
          end = arg.end;
        }
        expr = { type: 'test', input: expr, name, negated, ...args, start: expr.start, end };
      } else {
        return expr;
      }
    }
  }

  private startsTestArgument(): boolean {
    const token = this.peek();
    if (token.kind === 'name') return !testArgumentStops.has(token.value);
    if (token.kind === 'string' || token.kind === 'number') return true;
    return token.kind === 'op' && (token.value === '[' || token.value === '{');
  }
}
