// Python's ast.literal_eval, as Ansible's INI inventory applies it to every value: what Python reads as a
// literal (a number, True/False/None, a quoted string, a list, tuple, dict or set of literals) becomes that
// value; anything else (a bare word, `yes`, a path, an expression) stays the text as written.
//
// Where Ansible itself cannot go on, this reader keeps the text instead: complex numbers and `...` (Ansible
// 2.14 fails on them in JSON; later versions keep them as text), `\N{name}` escapes (no Unicode name table
// here), dict keys or set items that are lists or dicts (a TypeError in Python). Tuples and sets become lists,
// as in JSON. Integers beyond 2^53 lose precision like any JSON number.

type Token =
  | { kind: 'num'; value: number | 'complex' }
  | { kind: 'str'; value: string; bytes: boolean; fstring: boolean }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string }
  | { kind: 'end' };

class NotLiteral extends Error {}

/** The value Python's ast.literal_eval gives `text`, or undefined where it gives up (Ansible then keeps the text). */
export function pythonLiteral(text: string): { value: unknown } | undefined {
  try {
    const tokens = tokenize(text.replace(/^[ \t]+/, ''));
    const parser = new LiteralParser(tokens);
    const value = parser.expression();
    parser.expectEnd();
    return { value };
  } catch (error) {
    if (error instanceof NotLiteral) return undefined;
    throw error;
  }
}

/** Ansible's INI value: the literal if Python reads one, else the text itself. */
export function iniValue(text: string): unknown {
  const literal = pythonLiteral(text);
  return literal === undefined ? text : literal.value;
}

const NAME_START = /[\p{L}_]/u;
const NAME_PART = /[\p{L}\p{N}\p{Mn}\p{Mc}\p{Pc}]/u;
const STRING_PREFIX = /^(?:r|u|b|br|rb|f|fr|rf)$/i;
const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?)/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === ' ' || char === '\t' || char === '\f') {
      i++;
    } else if (char === '#') {
      break;
    } else if (/[0-9]/.test(char) || (char === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const match = NUMBER.exec(text.slice(i));
      if (!match) throw new NotLiteral();
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
      tokens.push({ kind: 'op', value: char });
      i++;
    } else {
      throw new NotLiteral();
    }
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

function numberValue(written: string): number | 'complex' {
  if (/[jJ]$/.test(written)) return 'complex';
  const digits = written.replaceAll('_', '');
  if (/^0[xXoObB]/.test(digits)) return Number(BigInt(digits));
  if (/^\d+$/.test(digits)) {
    // Python 3 refuses leading zeros in a decimal integer (`010`), but not in `00` or in floats (`010.5`).
    if (/^0+[1-9]/.test(digits)) throw new NotLiteral();
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
    if (i >= text.length) throw new NotLiteral(); // unterminated
    if (text.startsWith(delimiter, i)) break;
    const char = text[i] as string;
    if (char === '\\') {
      const next = text[i + 1];
      if (next === undefined) throw new NotLiteral();
      body += char + next;
      i += 2;
      continue;
    }
    if (bytes && char.charCodeAt(0) > 0x7f) throw new NotLiteral(); // bytes can only contain ASCII literal characters
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
      const digits = /^[0-7]{1,3}/.exec(body.slice(i))?.[0] ?? next;
      i += digits.length - 1;
      const code = Number.parseInt(digits, 8);
      if (bytes) byteValues.push(code & 0xff);
      else out += String.fromCodePoint(code);
    } else if (next === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new NotLiteral();
      i += 2;
      if (bytes) byteValues.push(Number.parseInt(hex, 16));
      else out += String.fromCodePoint(Number.parseInt(hex, 16));
    } else if (!bytes && (next === 'u' || next === 'U')) {
      const length = next === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + length);
      if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) throw new NotLiteral();
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) throw new NotLiteral();
      out += String.fromCodePoint(code);
      i += length;
    } else if (!bytes && next === 'N') {
      throw new NotLiteral(); // \N{NAME}: needs Unicode's name table
    } else {
      emit(`\\${next}`); // unknown escapes keep their backslash, as in Python
    }
  }
  // Ansible turns bytes into text (UTF-8, invalid sequences replaced).
  return bytes ? new TextDecoder('utf-8').decode(Uint8Array.from(byteValues)) : out;
}

class LiteralParser {
  private index = 0;

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
    if (!this.isOp(value)) throw new NotLiteral();
    this.take();
  }

  expectEnd(): void {
    if (this.peek().kind !== 'end') throw new NotLiteral();
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

  /** One literal, with its sign; `a + bj` (a complex number) is not kept. */
  private operand(): unknown {
    const value = this.signed();
    if (this.isOp('+') || this.isOp('-')) throw new NotLiteral();
    return value;
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
      if (operand.kind !== 'num' || operand.value === 'complex') throw new NotLiteral();
      return sign === '-' ? -operand.value : operand.value;
    }
    return this.atom();
  }

  private atom(): unknown {
    const token = this.take();
    switch (token.kind) {
      case 'num':
        if (token.value === 'complex') throw new NotLiteral();
        return token.value;
      case 'str':
        return this.strings(token);
      case 'name':
        if (token.value === 'True') return true;
        if (token.value === 'False') return false;
        if (token.value === 'None') return null;
        throw new NotLiteral();
      case 'op':
        if (token.value === '(') return this.parenthesized();
        if (token.value === '[') return this.sequence(']');
        if (token.value === '{') return this.braces();
        throw new NotLiteral();
      case 'end':
        throw new NotLiteral();
    }
  }

  /** Adjacent string literals concatenate (`'a' 'b'`); bytes and text cannot mix; f-strings are not literals. */
  private strings(first: Token & { kind: 'str' }): string {
    let value = first.value;
    let fstring = first.fstring;
    for (let next = this.peek(); next.kind === 'str'; next = this.peek()) {
      if (next.bytes !== first.bytes) throw new NotLiteral();
      fstring ||= next.fstring;
      value += next.value;
      this.take();
    }
    if (fstring) throw new NotLiteral();
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

  /** `{}` is a dict; `{a, b}` a set (kept as a list, first occurrence of each value). */
  private braces(): unknown {
    if (this.isOp('}')) {
      this.take();
      return {};
    }
    const first = this.operand();
    if (this.isOp(':')) return this.dict(first);
    const items = [first];
    while (!this.isOp('}')) {
      this.expectOp(',');
      if (this.isOp('}')) break;
      items.push(this.operand());
    }
    this.take();
    const seen = new Set<string>();
    return items.filter((item) => {
      const identity = pythonIdentity(item);
      if (seen.has(identity)) return false;
      seen.add(identity);
      return true;
    });
  }

  private dict(firstKey: unknown): Record<string, unknown> {
    // Python compares keys by value: 1, 1.0 and True are one key, which keeps its first spelling.
    const entries = new Map<string, [string, unknown]>();
    let key = firstKey;
    for (;;) {
      this.expectOp(':');
      const value = this.operand();
      const identity = pythonIdentity(key);
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

/** A dict key as JSON writes it (`True` -> "true", `None` -> "null"); lists and dicts cannot be keys in Python. */
function dictKey(key: unknown): string {
  if (key === null) return 'null';
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'boolean') return String(key);
  throw new NotLiteral(); // unhashable
}

/** What Python's hash equality sees: `1`, `1.0` and `True` are equal; lists and dicts cannot be hashed. */
function pythonIdentity(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return `n:${Number(value)}`;
  if (typeof value === 'number') return `n:${value}`;
  if (typeof value === 'string') return `s:${value}`;
  throw new NotLiteral(); // unhashable
}
