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

const space = /[ \t\r\n\f]/;

/** Splits the keyword off a line (strdelim): white space or one `=` ends it. */
export function splitConfigLine(text: string): LineResult {
  const trimmed = text.replace(/[ \t\r\n\f]+$/, '');
  let i = 0;
  while (i < trimmed.length && space.test(trimmed.charAt(i))) i += 1;
  if (i >= trimmed.length || trimmed[i] === '#') return { kind: 'blank' };
  const col = i + 1;
  let end = i;
  while (end < trimmed.length && !space.test(trimmed.charAt(end)) && trimmed[end] !== '=') end += 1;
  const keyword = trimmed.slice(i, end).toLowerCase();
  let j = end;
  while (j < trimmed.length && space.test(trimmed.charAt(j))) j += 1;
  if (trimmed[j] === '=') {
    j += 1;
    while (j < trimmed.length && space.test(trimmed.charAt(j))) j += 1;
  }
  if (j >= trimmed.length) return { kind: 'error', message: `no value after ${trimmed.slice(i, end)}`, col };
  return { kind: 'line', line: { keyword, col, rest: trimmed.slice(j), restCol: j + 1 } };
}

/**
 * argv_split with comments: white-space separated arguments; quotes group, backslash escapes a quote,
 * a backslash or (outside quotes) a space; a `#` at the start of an argument ends the line.
 * Undefined when a quote is not closed.
 */
export function splitArguments(rest: string): string[] | undefined {
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
