// Parser for templates: text, {{ expressions }} and the {% if %}, {% for %} and {% set %} tags.
import type { Expr, TemplateNode } from './ast.js';
import { ExpressionParser } from './expression-parser.js';
import type { Token } from './lexer.js';
import { tokenize, tokenizeExpression } from './lexer.js';
import { didYouMean } from './suggest.js';

const knownTags = ['if', 'elif', 'else', 'endif', 'for', 'endfor', 'set', 'raw', 'endraw'];

export function parseTemplate(source: string): TemplateNode[] {
  return new TemplateParser(source, tokenize(source)).parseBody([]).nodes;
}

/** A bare expression (`when:`, `that:`), not wrapped in `{{ }}`. */
export function parseExpressionText(source: string): Expr {
  const parser = new ExpressionParser(source, tokenizeExpression(source));
  const expr = parser.parseExpression();
  parser.expectKind('eof', 'end of expression');
  return expr;
}

class TemplateParser extends ExpressionParser {
  /** Nodes up to one of `endTags` (whose name token is consumed and returned) or the end. */
  parseBody(endTags: string[], opener?: Token): { nodes: TemplateNode[]; tag?: string } {
    const nodes: TemplateNode[] = [];
    for (;;) {
      const token = this.next();
      switch (token.kind) {
        case 'text':
          nodes.push({ type: 'text', text: token.value });
          break;
        case 'var_begin': {
          if (this.peek().kind === 'var_end') throw this.fail(this.peek(), 'expected an expression inside "{{ }}"');
          const expr = this.parseExpression();
          this.expectKind('var_end', '"}}"');
          nodes.push({ type: 'output', expr });
          break;
        }
        case 'block_begin': {
          const tag = this.expectNameToken('a tag name such as "if", "for" or "set"');
          if (endTags.includes(tag.value)) return { nodes, tag: tag.value };
          nodes.push(this.parseTag(tag));
          break;
        }
        case 'eof':
          if (opener && endTags.length > 0) {
            throw this.fail(opener, `{% ${opener.value} %} is not closed (expected {% ${endTags.at(-1)} %})`);
          }
          return { nodes };
        default:
          throw this.fail(token, `unexpected ${this.describe(token)}`);
      }
    }
  }

  private parseTag(tag: Token): TemplateNode {
    switch (tag.value) {
      case 'if':
        return this.parseIf(tag);
      case 'for':
        return this.parseFor(tag);
      case 'set':
        return this.parseSet();
      default: {
        const where = knownTags.includes(tag.value)
          ? `{% ${tag.value} %} without a matching opening tag`
          : `unknown tag "${tag.value}"${didYouMean(tag.value, knownTags)}`;
        throw this.fail(tag, where);
      }
    }
  }

  private parseIf(opener: Token): TemplateNode {
    const branches: { test: Expr; body: TemplateNode[] }[] = [];
    let test = this.parseExpression();
    for (;;) {
      this.expectKind('block_end', '"%}"');
      const { nodes, tag } = this.parseBody(['elif', 'else', 'endif'], opener);
      branches.push({ test, body: nodes });
      if (tag === 'elif') {
        test = this.parseExpression();
        continue;
      }
      if (tag === 'else') {
        this.expectKind('block_end', '"%}"');
        const otherwise = this.parseBody(['endif'], opener).nodes;
        this.expectKind('block_end', '"%}"');
        return { type: 'if', branches, otherwise };
      }
      this.expectKind('block_end', '"%}"');
      return { type: 'if', branches };
    }
  }

  private parseTargets(): string[] {
    const targets = [this.expectNameToken('a variable name').value];
    while (this.isOp(',')) {
      this.next();
      targets.push(this.expectNameToken('a variable name').value);
    }
    return targets;
  }

  private parseFor(opener: Token): TemplateNode {
    const targets = this.parseTargets();
    if (!this.isName('in')) throw this.fail(this.peek(), `expected "in" but found ${this.describe(this.peek())}`);
    this.next();
    const iterable = this.parseExpression(false);
    let filter: Expr | undefined;
    if (this.isName('if')) {
      this.next();
      filter = this.parseExpression();
    }
    if (this.isName('recursive')) throw this.fail(this.peek(), 'recursive loops are not supported');
    this.expectKind('block_end', '"%}"');
    const { nodes, tag } = this.parseBody(['else', 'endfor'], opener);
    this.expectKind('block_end', '"%}"');
    if (tag === 'else') {
      const otherwise = this.parseBody(['endfor'], opener).nodes;
      this.expectKind('block_end', '"%}"');
      return { type: 'for', targets, iterable, filter, body: nodes, otherwise };
    }
    return { type: 'for', targets, iterable, filter, body: nodes };
  }

  private parseSet(): TemplateNode {
    const targets = this.parseTargets();
    if (!this.isOp('=')) {
      throw this.fail(this.peek(), 'expected "=" ({% set x = value %}; block assignments with {% endset %} are not supported)');
    }
    this.next();
    const value = this.parseExpression();
    this.expectKind('block_end', '"%}"');
    return { type: 'set', targets, value };
  }
}
