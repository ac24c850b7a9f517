// Values placed into shell text written by a playbook's author (`shell: echo "{{ msg }}"`). Quoting a
// value as one word is only safe where a word may start: inside "..." the shell reads '...' as plain
// characters, so `$(...)` in the value would run. This scanner follows the author's text like sh does
// (quotes, $( ), ${ }, $(( )), backquotes, comments, here-documents) and escapes each value for the
// place it lands in, so it stays literal text. Places where no escaping is reliable are refused.
import { CommandWords } from './command-words.js';
import { shellQuote } from './quote.js';

/** Literal shell text from the playbook, or a value to insert. */
export type ShellPiece =
  | { text: string }
  /** `preQuoted`: already one shell word (Ansible's `| quote`), used as is where a word may start. `verbatim`: shown, never run (a dry-run placeholder). */
  | { value: string; preQuoted?: boolean; verbatim?: boolean };

/** A value cannot be placed safely where it stands. The message says where and what to write instead. */
export class ShellContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellContextError';
  }
}

interface Heredoc {
  delimiter: string;
  expands: boolean;
  stripTabs: boolean;
}

type Frame =
  | { kind: 'top'; pending: Heredoc[] }
  | { kind: 'cmdsub'; pending: Heredoc[]; depth: number }
  | { kind: 'double' }
  | { kind: 'single' }
  | { kind: 'backquote' }
  | { kind: 'param' }
  | { kind: 'arith'; depth: number }
  | { kind: 'comment' }
  | ({ kind: 'heredoc'; line: string; lineHasValue: boolean } & Heredoc);

const SAFE_LITERAL = /^[A-Za-z0-9_@%+:,./-]*$/;
const OPERATOR_OR_BLANK = /[\s;&|<>()]/;

/** Join the pieces; every value is escaped for its place so that the shell reads it as the literal text. */
export function joinShellPieces(pieces: readonly ShellPiece[]): string {
  const scanner = new Scanner();
  const merged = mergeTexts(pieces);
  let out = '';
  merged.forEach((piece, index) => {
    if ('text' in piece) {
      scanner.feed(piece.text, index + 1 < merged.length);
      out += piece.text;
    } else {
      out += scanner.insert(piece);
    }
  });
  return out;
}

function mergeTexts(pieces: readonly ShellPiece[]): ShellPiece[] {
  const merged: ShellPiece[] = [];
  for (const piece of pieces) {
    const last = merged.at(-1);
    if ('text' in piece && last && 'text' in last) merged[merged.length - 1] = { text: last.text + piece.text };
    else merged.push(piece);
  }
  return merged;
}

function describeValue(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

class Scanner {
  /** The outermost frame: pop() never removes it, so the stack is never empty. */
  private readonly root: Frame = { kind: 'top', pending: [] };
  private readonly stack: Frame[] = [this.root];
  private atWordStart = true;
  private readonly commandWords = new CommandWords();

  private get top(): Frame {
    return this.stack[this.stack.length - 1] ?? this.root;
  }

  /** Follow the author's text. `valueFollows`: a value is inserted right after this text. */
  feed(text: string, valueFollows: boolean): void {
    let i = 0;
    while (i < text.length) i = this.step(text, i, valueFollows);
  }

  /** Returns how far the scan got (the index of the next character to look at). */
  private step(text: string, i: number, valueFollows: boolean): number {
    const frame = this.top;
    const c = text.charAt(i);
    const atEnd = i + 1 >= text.length;
    const refuseAtEnd = (what: string): void => {
      if (atEnd && valueFollows) throw new ShellContextError(`a {{ }} value cannot follow ${what} in a shell command`);
    };
    switch (frame.kind) {
      case 'single':
        if (c === "'") this.pop();
        return i + 1;
      case 'comment':
        if (c === '\n') {
          this.pop();
          return i; // the parent sees the newline too (it may start a here-document body)
        }
        return i + 1;
      case 'backquote':
        if (c === '\\') {
          refuseAtEnd('a backslash');
          return i + 2;
        }
        if (c === '`') this.pop();
        return i + 1;
      case 'param':
        if (c === '\\') {
          refuseAtEnd('a backslash');
          return i + 2;
        }
        if (c === '}') this.pop();
        return i + 1;
      case 'arith':
        if (c === '(') frame.depth++;
        else if (c === ')') {
          if (frame.depth === 0 && text[i + 1] === ')') {
            this.pop();
            return i + 2;
          }
          frame.depth = Math.max(0, frame.depth - 1);
        }
        return i + 1;
      case 'double':
        if (c === '\\') {
          refuseAtEnd('a backslash');
          return i + 2;
        }
        if (c === '"') {
          this.pop();
          this.atWordStart = false;
          return i + 1;
        }
        if (c === '`') {
          this.stack.push({ kind: 'backquote' });
          return i + 1;
        }
        if (c === '$') return this.dollar(text, i, valueFollows);
        return i + 1;
      case 'heredoc':
        return this.heredocChar(frame, text, i, valueFollows);
      case 'top':
      case 'cmdsub':
        return this.commandChar(frame, text, i, valueFollows);
    }
  }

  private commandChar(frame: Extract<Frame, { kind: 'top' | 'cmdsub' }>, text: string, i: number, valueFollows: boolean): number {
    const c = text.charAt(i);
    const atEnd = i + 1 >= text.length;
    // Quotes, `$`, `\` and the like make the word something other than a plain keyword or name.
    this.commandWords.track(/[\\'"`$#]/.test(c) ? '\u0000' : c);
    if (c === '\\') {
      if (atEnd && valueFollows) throw new ShellContextError('a {{ }} value cannot follow a backslash in a shell command');
      this.atWordStart = false;
      return i + 2;
    }
    if (c === "'" || c === '"' || c === '`') {
      this.stack.push({ kind: c === "'" ? 'single' : c === '"' ? 'double' : 'backquote' });
      this.atWordStart = false;
      return i + 1;
    }
    if (c === '$') {
      this.atWordStart = false;
      return this.dollar(text, i, valueFollows);
    }
    if (c === '#' && this.atWordStart) {
      this.stack.push({ kind: 'comment' });
      return i + 1;
    }
    if (c === '(' && text[i + 1] === '(' && this.atWordStart) {
      // bash's `(( ... ))` command evaluates its text as arithmetic, like $(( ... )): whole numbers only.
      this.stack.push({ kind: 'arith', depth: 0 });
      return i + 2;
    }
    if (c === '<' && text[i + 1] === '<') {
      if (text[i + 2] === '<') {
        this.atWordStart = true;
        return i + 3; // bash's here-string: its word is an ordinary word
      }
      return this.heredocOperator(frame, text, i, valueFollows);
    }
    if (c === '\n' && frame.pending.length > 0) {
      // Here-document bodies start on the next line, in the order their operators were written.
      for (const heredoc of [...frame.pending].reverse()) this.stack.push({ kind: 'heredoc', line: '', lineHasValue: false, ...heredoc });
      frame.pending = [];
      this.atWordStart = true;
      return i + 1;
    }
    if (frame.kind === 'cmdsub') {
      if (c === '(') frame.depth++;
      else if (c === ')') {
        if (frame.depth === 0) {
          this.pop();
          this.atWordStart = false;
          return i + 1;
        }
        frame.depth--;
      }
    }
    this.atWordStart = OPERATOR_OR_BLANK.test(c);
    return i + 1;
  }

  /** `$(`, `$((`, `${` open a frame; a bare `$` before a value would glue onto it (`$'...'` in bash). */
  private dollar(text: string, i: number, valueFollows: boolean): number {
    const next = text[i + 1];
    if (next === undefined) {
      if (valueFollows) throw new ShellContextError('a {{ }} value cannot follow a bare "$" in a shell command');
      return i + 1;
    }
    if (next === '(' && text[i + 2] === '(') {
      this.stack.push({ kind: 'arith', depth: 0 });
      return i + 3;
    }
    if (next === '(') {
      this.stack.push({ kind: 'cmdsub', pending: [], depth: 0 });
      this.commandWords.newCommand();
      this.atWordStart = true;
      return i + 2;
    }
    if (next === '{') {
      this.stack.push({ kind: 'param' });
      return i + 2;
    }
    return i + 1;
  }

  /** `<<WORD`, `<<-WORD`, `<<'WORD'`: remember the delimiter; the body starts after the next newline. */
  private heredocOperator(frame: Extract<Frame, { kind: 'top' | 'cmdsub' }>, text: string, i: number, valueFollows: boolean): number {
    let j = i + 2;
    const stripTabs = text[j] === '-';
    if (stripTabs) j++;
    while (text[j] === ' ' || text[j] === '\t') j++;
    let delimiter = '';
    let quoted = false;
    while (j < text.length && !OPERATOR_OR_BLANK.test(text.charAt(j))) {
      const c = text.charAt(j);
      if (c === "'" || c === '"') {
        const close = text.indexOf(c, j + 1);
        if (close < 0) break;
        delimiter += text.slice(j + 1, close);
        quoted = true;
        j = close + 1;
      } else if (c === '\\') {
        delimiter += text[j + 1] ?? '';
        quoted = true;
        j += 2;
      } else {
        delimiter += c;
        j++;
      }
    }
    if (j >= text.length && valueFollows) throw new ShellContextError('a here-document delimiter (<<WORD) cannot be a {{ }} value');
    if (delimiter !== '') frame.pending.push({ delimiter, expands: !quoted, stripTabs });
    this.atWordStart = true;
    return Math.max(j, i + 2);
  }

  private heredocChar(frame: Extract<Frame, { kind: 'heredoc' }>, text: string, i: number, valueFollows: boolean): number {
    const c = text.charAt(i);
    if (c === '\n') {
      if (this.endsHeredoc(frame, frame.line)) {
        if (frame.lineHasValue) throw new ShellContextError(`a {{ }} value would end the here-document early (a line reading ${frame.delimiter})`);
        this.pop();
        this.atWordStart = true;
      } else {
        frame.line = '';
        frame.lineHasValue = false;
      }
      return i + 1;
    }
    if (frame.expands) {
      if (c === '\\') {
        if (i + 1 >= text.length && valueFollows) throw new ShellContextError('a {{ }} value cannot follow a backslash in a here-document');
        frame.line += text.slice(i, i + 2);
        return i + 2;
      }
      if (c === '`') {
        frame.line += c;
        this.stack.push({ kind: 'backquote' });
        return i + 1;
      }
      if (c === '$') {
        frame.line += c;
        const next = this.dollar(text, i, valueFollows);
        frame.line += text.slice(i + 1, next);
        return next;
      }
    }
    frame.line += c;
    return i + 1;
  }

  private endsHeredoc(frame: Extract<Frame, { kind: 'heredoc' }>, line: string): boolean {
    return (frame.stripTabs ? line.replace(/^\t+/, '') : line) === frame.delimiter;
  }

  private pop(): void {
    if (this.stack.length > 1) this.stack.pop();
  }

  /** The value escaped for the current place. */
  insert(piece: Extract<ShellPiece, { value: string }>): string {
    const { value } = piece;
    if (piece.verbatim) {
      // A dry-run placeholder: shown as is, but its place must be one a real value could take.
      this.insert({ value: 'x' });
      return value;
    }
    if (value.includes('\0')) throw new ShellContextError('a value for the shell cannot contain a NUL byte');
    if (value.includes('[') && this.commandWords.inBashArithmetic())
      throw new ShellContextError(
        `the value ${describeValue(value)} cannot be placed in a [[ ... ]] or let command: bash evaluates such operands as arithmetic, where a[...] runs what the brackets hold, even quoted; compare it in [ ... ] or case instead`,
      );
    const frame = this.top;
    switch (frame.kind) {
      case 'top':
      case 'cmdsub': {
        // `for ip in {{ ips }}` loops over the words of the value, as over an unquoted $ips in sh; each word
        // stays literal text. Anywhere else a value is one word (a flag list is not split into flags).
        const list =
          this.atWordStart && this.commandWords.inForList() && !piece.preQuoted ? value.split(/[ \t\n]+/).filter((w) => w !== '') : undefined;
        this.atWordStart = false;
        this.commandWords.track('\u0000');
        if (list) return list.length > 0 ? list.map(shellQuote).join(' ') : '';
        return piece.preQuoted ? value : shellQuote(value);
      }
      case 'double':
        // Close the "...", add the value as one shellQuote'd word part, reopen: "a"'$(id)'"b" is one word.
        return `"${shellQuote(value)}"`;
      case 'single':
        // Likewise for '...': 'a''it'\''s''b' is one word.
        return `'${shellQuote(value)}'`;
      case 'comment':
        if (/[\n\r]/.test(value))
          throw new ShellContextError(
            `a {{ }} value with a line break cannot stand in a shell comment: ${describeValue(value)} would end the comment`,
          );
        return value;
      case 'heredoc':
        return this.insertInHeredoc(frame, value);
      case 'param':
      case 'arith':
        if (SAFE_LITERAL.test(value) && (frame.kind === 'param' || /^-?[0-9]+$/.test(value))) return value;
        throw new ShellContextError(
          frame.kind === 'param'
            ? `the value ${describeValue(value)} cannot be placed inside \${...} safely; set it in a shell variable first or move it out of the braces`
            : `only whole numbers can be placed inside $((...)), not ${describeValue(value)}`,
        );
      case 'backquote':
        throw new ShellContextError('a {{ }} value cannot be placed inside `...` safely; write $(...) instead of backquotes');
    }
  }

  private insertInHeredoc(frame: Extract<Frame, { kind: 'heredoc' }>, value: string): string {
    // An unquoted delimiter (<<EOF) expands $, ` and \ in the body; a quoted one (<<'EOF') takes it literally.
    const escaped = frame.expands ? value.replace(/[\\$`]/g, '\\$&') : value;
    const lines = escaped.split('\n');
    const complete = lines.slice(0, -1);
    complete.forEach((line, index) => {
      const whole = index === 0 ? frame.line + line : line;
      if (this.endsHeredoc(frame, whole))
        throw new ShellContextError(`a {{ }} value would end the here-document early (a line reading ${frame.delimiter})`);
    });
    frame.line = complete.length > 0 ? escaped.slice(escaped.lastIndexOf('\n') + 1) : frame.line + escaped;
    frame.lineHasValue = true;
    return escaped;
  }
}
