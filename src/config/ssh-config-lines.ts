// One ssh_config line as OpenSSH splits it (readconf.c, misc.c): a keyword, then `=` or white space,
// then arguments with "double" or 'single' quotes and backslash escapes; `#` starts a comment.

export interface SplitLine {
  /** Lower-cased, as OpenSSH compares keywords. */
  keyword: string;
  /** 1-based column of the keyword. */
  col: number;
  /** Everything after the keyword and its separator, trailing white space removed (ProxyJump and ProxyCommand read this raw). */
  rest: string;
  /** 1-based column where `rest` starts. */
  restCol: number;
}

export type LineResult = { kind: 'blank' } | { kind: 'line'; line: SplitLine } | { kind: 'error'; message: string; col: number };

/** Leading white space, the keyword (up to white space or `=`), white space, at most one `=`, white space. */
const linePattern = /^([ \t\r\n\f]*)([^ \t\r\n\f=]*)[ \t\r\n\f]*(?:=[ \t\r\n\f]*)?/;

/** Splits the keyword off a line (strdelim): white space or one `=` ends it. */
export function splitConfigLine(text: string): LineResult {
  const trimmed = text.replace(/[ \t\r\n\f]+$/, '');
  const match = linePattern.exec(trimmed);
  const lead = match?.[1] ?? '';
  const word = match?.[2] ?? '';
  if (word === '' || word.startsWith('#')) return { kind: 'blank' };
  const col = lead.length + 1;
  const j = match?.[0].length ?? trimmed.length;
  if (j >= trimmed.length) return { kind: 'error', message: `no value after ${word}`, col };
  return { kind: 'line', line: { keyword: word.toLowerCase(), col, rest: trimmed.slice(j), restCol: j + 1 } };
}

/**
 * argv_split with comments: white-space separated arguments; quotes group, backslash escapes a quote,
 * a backslash or (outside quotes) a space; a `#` at the start of an argument ends the line.
 * Undefined when a quote is not closed.
 */
export function splitArguments(rest: string): string[] | undefined {
  // Most lines have no quotes or backslashes: plain words, up to a word starting with `#`.
  if (!/["'\\]/.test(rest)) {
    const words = rest.split(/[ \t]+/).filter((word) => word !== '');
    const comment = words.findIndex((word) => word.startsWith('#'));
    return comment < 0 ? words : words.slice(0, comment);
  }
  const args: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const char = rest.charAt(i);
    if (char === ' ' || char === '\t') {
      i += 1;
      continue;
    }
    if (char === '#') break;
    const parsed = readArgument(rest, i);
    if (!parsed) return undefined;
    args.push(parsed.value);
    i = parsed.next;
  }
  return args;
}

function readArgument(text: string, start: number): { value: string; next: number } | undefined {
  let value = '';
  let quote = '';
  let i = start;
  for (; i < text.length; i += 1) {
    const char = text.charAt(i);
    const following = text.charAt(i + 1);
    if (char === '\\' && (following === "'" || following === '"' || following === '\\' || (quote === '' && following === ' '))) {
      value += following;
      i += 1;
    } else if (quote === '' && (char === ' ' || char === '\t')) {
      break;
    } else if (quote === '' && (char === '"' || char === "'")) {
      quote = char;
    } else if (quote !== '' && char === quote) {
      quote = '';
    } else {
      value += char;
    }
  }
  return quote === '' ? { value, next: i } : undefined;
}
