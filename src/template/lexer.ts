// Splits template text into literal text and the tokens of {{ }} and {% %} tags; drops {# #} comments.
// Whitespace control: `{%-`/`-%}` strip whitespace; like Ansible (trim_blocks) the first newline
// after a block tag or comment is removed.
import { syntaxError } from './errors.js';

export type TokenKind = 'text' | 'var_begin' | 'var_end' | 'block_begin' | 'block_end' | 'name' | 'string' | 'number' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Decoded text for strings and text, the spelling otherwise. */
  value: string;
  number?: number;
  /** Offsets into the template text. */
  start: number;
  end: number;
}

const tagOpener = /\{[{%#]/g;
const rawTag = /\s*raw\s*(-?)%\}/y;
const endRawTag = /\{%(-?)\s*endraw\s*(-?)%\}/g;
const namePattern = /[A-Za-z_][A-Za-z0-9_]*/y;
const floatPattern = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const integerPattern = /\d+/y;
const twoCharOps = new Set(['//', '**', '==', '!=', '<=', '>=']);
const oneCharOps = new Set(Array.from('+-*/%~<>=.,:|()[]{}'));

interface Layout {
  /** The previous tag ended with `-`. */
  stripStart: boolean;
  /** The previous tag was a block tag or a comment. */
  dropNewline: boolean;
}

function shapeText(text: string, layout: Layout, stripEnd: boolean): string {
  let shaped = text;
  if (layout.stripStart) shaped = shaped.trimStart();
  else if (layout.dropNewline) shaped = shaped.replace(/^\r?\n/, '');
  return stripEnd ? shaped.trimEnd() : shaped;
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const layout: Layout = { stripStart: false, dropNewline: false };
  let pos = 0;
  for (;;) {
    tagOpener.lastIndex = pos;
    const opener = tagOpener.exec(source);
    const tagStart = opener ? opener.index : source.length;
    const stripBefore = opener !== null && source[tagStart + 2] === '-';
    const text = shapeText(source.slice(pos, tagStart), layout, stripBefore);
    if (text) tokens.push({ kind: 'text', value: text, start: pos, end: tagStart });
    if (!opener) break;
    const inner = tagStart + 2 + (stripBefore ? 1 : 0);
    const kind = source[tagStart + 1];
    if (kind === '#') {
      const close = source.indexOf('#}', inner);
      if (close < 0) throw syntaxError(source, tagStart, 'comment is not closed with "#}"');
      layout.stripStart = close > inner && source[close - 1] === '-';
      layout.dropNewline = true;
      pos = close + 2;
      continue;
    }
    if (kind === '%') {
      rawTag.lastIndex = inner;
      const raw = rawTag.exec(source);
      if (raw) {
        pos = lexRaw(source, tagStart, rawTag.lastIndex, raw[1] === '-', tokens, layout);
        continue;
      }
    }
    const isVar = kind === '{';
    tokens.push({ kind: isVar ? 'var_begin' : 'block_begin', value: source.slice(tagStart, inner), start: tagStart, end: inner });
    const close = lexTag(source, inner, tagStart, isVar ? '}}' : '%}', tokens);
    tokens.push({ kind: isVar ? 'var_end' : 'block_end', value: source.slice(close.start, close.end), start: close.start, end: close.end });
    layout.stripStart = close.strip;
    layout.dropNewline = !isVar;
    pos = close.end;
  }
  tokens.push({ kind: 'eof', value: '', start: source.length, end: source.length });
  return tokens;
}

/** `{% raw %}...{% endraw %}`: the content is literal text. */
function lexRaw(source: string, tagStart: number, contentStart: number, stripAfterOpen: boolean, tokens: Token[], layout: Layout): number {
  endRawTag.lastIndex = contentStart;
  const end = endRawTag.exec(source);
  if (!end) throw syntaxError(source, tagStart, '{% raw %} is not closed with {% endraw %}');
  const text = shapeText(source.slice(contentStart, end.index), { stripStart: stripAfterOpen, dropNewline: true }, end[1] === '-');
  if (text) tokens.push({ kind: 'text', value: text, start: contentStart, end: end.index });
  layout.stripStart = end[2] === '-';
  layout.dropNewline = true;
  return end.index + end[0].length;
}

interface TagClose {
  start: number;
  end: number;
  strip: boolean;
}

/** The tokens of a bare expression (`when:` conditions), ending with `eof`. */
export function tokenizeExpression(source: string): Token[] {
  const tokens: Token[] = [];
  lexTag(source, 0, 0, null, tokens);
  tokens.push({ kind: 'eof', value: '', start: source.length, end: source.length });
  return tokens;
}

/** Tokens up to `close` (`}}` or `%}` outside brackets), or to the end of the text when `close` is null. */
function lexTag(source: string, pos: number, tagStart: number, close: string | null, tokens: Token[]): TagClose {
  // Offsets of the open brackets: `}}` inside `{'a': {'b': 1}}` does not end the tag.
  const open: number[] = [];
  for (;;) {
    while (pos < source.length && /\s/.test(source[pos] ?? '')) pos++;
    if (pos >= source.length) {
      const unclosed = open.at(-1);
      if (unclosed !== undefined) throw syntaxError(source, unclosed, `"${source[unclosed]}" is never closed`);
      if (close === null) return { start: pos, end: pos, strip: false };
      throw syntaxError(source, tagStart, `tag is not closed with "${close}"`);
    }
    if (close !== null && open.length === 0) {
      if (source.startsWith('-' + close, pos)) return { start: pos, end: pos + 3, strip: true };
      if (source.startsWith(close, pos)) return { start: pos, end: pos + 2, strip: false };
    }
    const char = source[pos] ?? '';
    const start = pos;
    if (char === "'" || char === '"') {
      const string = readString(source, pos);
      tokens.push({ kind: 'string', value: string.value, start, end: string.end });
      pos = string.end;
      continue;
    }
    if (/\d/.test(char)) {
      // `foo.0.1` is two index steps, not the float 0.1 (Jinja's rule).
      const pattern = tokens.at(-1)?.value === '.' && tokens.at(-1)?.kind === 'op' ? integerPattern : floatPattern;
      pattern.lastIndex = pos;
      const match = pattern.exec(source)?.[0] ?? char;
      tokens.push({ kind: 'number', value: match, number: Number(match), start, end: pos + match.length });
      pos += match.length;
      continue;
    }
    namePattern.lastIndex = pos;
    const name = namePattern.exec(source);
    if (name) {
      tokens.push({ kind: 'name', value: name[0], start, end: pos + name[0].length });
      pos += name[0].length;
      continue;
    }
    const two = source.slice(pos, pos + 2);
    const op = twoCharOps.has(two) ? two : oneCharOps.has(char) ? char : undefined;
    if (op === undefined) throw syntaxError(source, pos, `unexpected character ${JSON.stringify(char)}`);
    if ('([{'.includes(op)) open.push(pos);
    else if (')]}'.includes(op)) {
      const opener = open.pop();
      const expected = opener === undefined ? undefined : { '(': ')', '[': ']', '{': '}' }[source[opener] as '(' | '[' | '{'];
      if (expected !== op) throw syntaxError(source, pos, `unexpected "${op}"${expected ? ` (expected "${expected}")` : ''}`);
    }
    tokens.push({ kind: 'op', value: op, start, end: pos + op.length });
    pos += op.length;
  }
}

const simpleEscapes: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '\n': '',
};

/** A Python string literal; unknown escapes such as `\d` keep their backslash, as in Python. */
function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  let value = '';
  let pos = start + 1;
  while (pos < source.length) {
    const char = source[pos] ?? '';
    if (char === quote) return { value, end: pos + 1 };
    if (char !== '\\') {
      value += char;
      pos++;
      continue;
    }
    const next = source[pos + 1] ?? '';
    const simple = simpleEscapes[next];
    if (simple !== undefined) {
      value += simple;
      pos += 2;
      continue;
    }
    const hexLength = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
    const hex = source.slice(pos + 2, pos + 2 + hexLength);
    if (hexLength > 0 && hex.length === hexLength && /^[0-9a-fA-F]+$/.test(hex)) {
      const codePoint = parseInt(hex, 16);
      if (codePoint > 0x10ffff) throw syntaxError(source, pos, `invalid escape \\${next}${hex}`);
      value += String.fromCodePoint(codePoint);
      pos += 2 + hexLength;
      continue;
    }
    value += char + next;
    pos += 2;
  }
  throw syntaxError(source, start, 'string is not closed');
}
