// Python's ast.literal_eval, as Ansible's INI inventory applies it to every value: what Python reads as a
// literal (a number, True/False/None, a quoted string, a list, tuple, dict or set of literals) becomes that
// value; anything else (a bare word, `yes`, a path, an expression) stays the text as written.
//
// Where Ansible itself fails, the value is refused with the reason: a list or dict as a dict key or set item
// (a TypeError in Python), and what ansible-inventory cannot print as JSON (sets, complex numbers, `...`, tuple
// keys). `\N{name}` escapes stay text (no Unicode name table here). Tuples become lists, as in JSON. Integers
// beyond 2^53 lose precision like any JSON number, and a float that is a whole number reads as an integer.

type Token =
  | { kind: 'num'; value: number | typeof COMPLEX }
  | { kind: 'str'; value: string; bytes: boolean; fstring: boolean }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string }
  | { kind: 'end' };

class NotLiteral extends Error {}
/** One instance, thrown for every value that is not a literal: most INI values are plain words, and a stack trace each is costly. */
const NOT_LITERAL = new NotLiteral('not a Python literal');

/** Values with no JSON form; a literal holding one is refused, the placeholder never leaves this module. */
const COMPLEX = Symbol('complex');
const UNSUPPORTED = Symbol('unsupported');

/** Python's limits: brackets nest at most 200 deep (its tokenizer), a decimal integer has at most 4300 digits. */
const MAX_NESTING = 200;
const MAX_INT_DIGITS = 4300;

/** What Python's ast.literal_eval makes of a value: a literal, one Ansible fails on (with why), or undefined where it is no literal (Ansible keeps the text). */
export type LiteralReading = { value: unknown } | { refused: string } | undefined;

export function pythonLiteral(text: string): LiteralReading {
  // Python refuses source with NUL characters before reading it.
  if (text.includes('\0')) return undefined;
  try {
    const tokens = tokenize(text.replace(/^[ \t]+/, ''));
    const parser = new LiteralParser(tokens);
    const value = parser.expression();
    parser.expectEnd();
    return parser.refusal === undefined ? { value } : { refused: parser.refusal };
  } catch (error) {
    if (error instanceof NotLiteral) return undefined;
    throw error;
  }
}

/** Ansible's INI value: the literal if Python reads one, else the text itself; or why Ansible fails on it. */
export function iniValue(text: string): { value: unknown } | { refused: string } {
  return pythonLiteral(text) ?? { value: text };
}

const NAME_START = /[\p{L}_]/u;
const NAME_PART = /[\p{L}\p{N}\p{Mn}\p{Mc}\p{Pc}]/u;
const STRING_PREFIX = /^(?:r|u|b|br|rb|f|fr|rf)$/i;
const NUMBER =
  /(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?)/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let nesting = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === ' ' || char === '\t' || char === '\f') {
      i++;
    } else if (char === '#') {
      break;
    } else if (/[0-9]/.test(char) || (char === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) throw NOT_LITERAL;
      tokens.push({ kind: 'num', value: numberValue(match[0]) });
      i += match[0].length;
    } else if (char === '"' || char === "'") {
      i = readString(text, i, '', tokens);
    } else if (NAME_START.test(char)) {
      let end = i + 1;
      while (end < text.length && NAME_PART.test(text[end] as string)) end++;
      const word = text.slice(i, end);
      const next = text[end];
      if ((next === '"' || next === "'") && STRING_PREFIX.test(word)) i = readString(text, end, word.toLowerCase(), tokens);
      else {
        tokens.push({ kind: 'name', value: word });
        i = end;
      }
    } else if (text.startsWith('...', i)) {
      tokens.push({ kind: 'op', value: '...' });
      i += 3;
    } else if ('()[]{},:+-'.includes(char)) {
      if ('([{'.includes(char) && ++nesting > MAX_NESTING) throw NOT_LITERAL;
      if (')]}'.includes(char)) nesting--;
      tokens.push({ kind: 'op', value: char });
      i++;
    } else {
      throw NOT_LITERAL;
    }
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

function numberValue(written: string): number | typeof COMPLEX {
  if (/[jJ]$/.test(written)) return COMPLEX;
  const digits = written.replaceAll('_', '');
  if (/^0[xXoObB]/.test(digits)) return Number(BigInt(digits));
  if (/^\d+$/.test(digits)) {
    // Python 3 refuses leading zeros in a decimal integer (`010`), but not in `00` or in floats (`010.5`).
    if (/^0+[1-9]/.test(digits) || digits.length > MAX_INT_DIGITS) throw NOT_LITERAL;
    return Number(digits);
  }
  return Number(digits);
}

/** Reads a (possibly triple-quoted) string literal starting at `start`; returns the index after it. */
function readString(text: string, start: number, prefix: string, tokens: Token[]): number {
  const quote = text[start] as string;
  const triple = text.startsWith(quote.repeat(3), start);
  const delimiter = triple ? quote.repeat(3) : quote;
  const raw = prefix.includes('r');
  const bytes = prefix.includes('b');
  let i = start + delimiter.length;
  let body = '';
  for (;;) {
    if (i >= text.length) throw NOT_LITERAL; // unterminated
    if (text.startsWith(delimiter, i)) break;
    const char = text[i] as string;
    if (char === '\\') {
      const next = text[i + 1];
      if (next === undefined) throw NOT_LITERAL;
      body += char + next;
      i += 2;
      continue;
    }
    if (bytes && char.charCodeAt(0) > 0x7f) throw NOT_LITERAL; // bytes can only contain ASCII literal characters
    body += char;
    i++;
  }
  const value = raw ? body : unescape(body, bytes);
  tokens.push({ kind: 'str', value, bytes, fstring: prefix.includes('f') });
  return i + delimiter.length;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\u0007',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function unescape(body: string, bytes: boolean): string {
  let out = '';
  const byteValues: number[] = [];
  const emit = (text: string): void => {
    if (bytes) for (const char of text) byteValues.push(char.charCodeAt(0));
    else out += text;
  };
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char !== '\\') {
      emit(char);
      continue;
    }
    const next = body[i + 1] as string;
    i++;
    if (next in SIMPLE_ESCAPES) emit(SIMPLE_ESCAPES[next] as string);
    else if (/[0-7]/.test(next)) {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(body[i + digits.length] ?? '')) digits += body[i + digits.length] as string;
      i += digits.length - 1;
      const code = Number.parseInt(digits, 8);
      if (bytes) byteValues.push(code & 0xff);
      else out += String.fromCodePoint(code);
    } else if (next === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw NOT_LITERAL;
      i += 2;
      if (bytes) byteValues.push(Number.parseInt(hex, 16));
      else out += String.fromCodePoint(Number.parseInt(hex, 16));
    } else if (!bytes && (next === 'u' || next === 'U')) {
      const length = next === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + length);
      if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) throw NOT_LITERAL;
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) throw NOT_LITERAL;
      out += String.fromCodePoint(code);
      i += length;
    } else if (!bytes && next === 'N') {
      throw NOT_LITERAL; // \N{NAME}: needs Unicode's name table
    } else {
      emit(`\\${next}`); // unknown escapes keep their backslash, as in Python
    }
  }
  // Ansible turns bytes into text (UTF-8, invalid sequences replaced).
  return bytes ? new TextDecoder('utf-8').decode(Uint8Array.from(byteValues)) : out;
}

class LiteralParser {
  private index = 0;
  /** Why Ansible fails on the literal read so far (the first reason); it only counts if the whole text is a literal. */
  refusal: string | undefined;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isOp(value: string): boolean {
    const token = this.peek();
    return token.kind === 'op' && token.value === value;
  }

  private expectOp(value: string): void {
    if (!this.isOp(value)) throw NOT_LITERAL;
    this.take();
  }

  expectEnd(): void {
    if (this.peek().kind !== 'end') throw NOT_LITERAL;
  }

  private refuse(reason: string): typeof UNSUPPORTED {
    this.refusal ??= reason;
    return UNSUPPORTED;
  }

  /** A top-level expression; `1, 2` without brackets is a tuple. */
  expression(): unknown {
    const first = this.operand();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.take();
      if (this.peek().kind === 'end') break;
      items.push(this.operand());
    }
    return items;
  }

  /** One literal, with its sign; `a + bj` must be a real number plus or minus an imaginary one, as literal_eval wants. */
  private operand(): unknown {
    const value = this.signed();
    if (!this.isOp('+') && !this.isOp('-')) return value;
    this.take();
    const imaginary = this.atom();
    if (typeof value !== 'number' || imaginary !== COMPLEX) throw NOT_LITERAL;
    return UNSUPPORTED;
  }

  private signed(): unknown {
    if (this.isOp('+') || this.isOp('-')) {
      const sign = (this.take() as { value: string }).value;
      // literal_eval allows a sign only directly on a number (`-((1))` is the same tree as `-1`).
      let parentheses = 0;
      while (this.isOp('(')) {
        this.take();
        parentheses++;
      }
      const operand = this.take();
      for (; parentheses > 0; parentheses--) this.expectOp(')');
      if (operand.kind !== 'num') throw NOT_LITERAL;
      if (operand.value === COMPLEX) return this.refuse('a complex number');
      return sign === '-' ? -operand.value : operand.value;
    }
    return this.atom();
  }

  private atom(): unknown {
    const token = this.take();
    switch (token.kind) {
      case 'num':
        // A bare `2j` is returned as such, for `1 + 2j` to see it; any complex number makes the literal refused.
        if (token.value === COMPLEX) this.refuse('a complex number');
        return token.value;
      case 'str':
        return this.strings(token);
      case 'name':
        if (token.value === 'True') return true;
        if (token.value === 'False') return false;
        if (token.value === 'None') return null;
        throw NOT_LITERAL;
      case 'op':
        if (token.value === '(') return this.parenthesized();
        if (token.value === '[') return this.sequence(']');
        if (token.value === '{') return this.braces();
        if (token.value === '...') return this.refuse('Ellipsis (...)');
        throw NOT_LITERAL;
      case 'end':
        throw NOT_LITERAL;
    }
  }

  /** Adjacent string literals concatenate (`'a' 'b'`); bytes and text cannot mix; f-strings are not literals. */
  private strings(first: Token & { kind: 'str' }): string {
    let value = first.value;
    let fstring = first.fstring;
    for (let next = this.peek(); next.kind === 'str'; next = this.peek()) {
      if (next.bytes !== first.bytes) throw NOT_LITERAL;
      fstring ||= next.fstring;
      value += next.value;
      this.take();
    }
    if (fstring) throw NOT_LITERAL;
    return value;
  }

  private parenthesized(): unknown {
    if (this.isOp(')')) {
      this.take();
      return [];
    }
    const first = this.operand();
    if (this.isOp(')')) {
      this.take();
      return first;
    }
    this.expectOp(',');
    const items = [first];
    while (!this.isOp(')')) {
      items.push(this.operand());
      if (!this.isOp(')')) this.expectOp(',');
    }
    this.take();
    return items;
  }

  private sequence(close: string): unknown[] {
    const items: unknown[] = [];
    while (!this.isOp(close)) {
      items.push(this.operand());
      if (!this.isOp(close)) this.expectOp(',');
    }
    this.take();
    return items;
  }

  /** `{}` is a dict; `{a, b}` a set, which ansible-inventory cannot print. */
  private braces(): unknown {
    if (this.isOp('}')) {
      this.take();
      return {};
    }
    const first = this.operand();
    if (this.isOp(':')) return this.dict(first);
    while (!this.isOp('}')) {
      this.expectOp(',');
      if (this.isOp('}')) break;
      this.operand();
    }
    this.take();
    return this.refuse('a set');
  }

  private dict(firstKey: unknown): unknown {
    // Python compares keys by value: 1, 1.0 and True are one key, which keeps its first spelling.
    const entries = new Map<string | number, [string, unknown]>();
    let key = firstKey;
    for (;;) {
      this.expectOp(':');
      const value = this.operand();
      const identity = pythonIdentity(key) ?? entries.size;
      if (typeof identity === 'number') this.refuse('a list, dict or tuple as a dict key');
      entries.set(identity, [entries.get(identity)?.[0] ?? dictKey(key), value]);
      if (this.isOp('}')) break;
      this.expectOp(',');
      if (this.isOp('}')) break;
      key = this.operand();
    }
    this.take();
    return Object.fromEntries(entries.values());
  }
}

/** A dict key as JSON writes it (`True` -> "true", `None` -> "null"). */
function dictKey(key: unknown): string {
  if (key === null) return 'null';
  return typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean' ? String(key) : '';
}

/** What Python's hash equality sees: `1`, `1.0` and `True` are equal; undefined for what JSON cannot key on. */
function pythonIdentity(value: unknown): string | undefined {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return `n:${Number(value)}`;
  if (typeof value === 'number') return `n:${value}`;
  if (typeof value === 'string') return `s:${value}`;
  return undefined;
}
