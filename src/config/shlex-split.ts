// Python's shlex.split(line, comments=True) in POSIX mode, which Ansible's INI reader applies to each host
// line: blanks separate words, quotes group them and are removed, a backslash escapes the next character
// (in double quotes only `"` and `\`), and `#` starts a comment even in the middle of a word.

export interface ShlexWord {
  text: string;
  /** 0-based index of the word's first character in the line. */
  start: number;
}

export class ShlexError extends Error {
  constructor(
    message: string,
    /** 0-based index where the unfinished quote or escape began. */
    readonly at: number,
  ) {
    super(message);
  }
}

const WHITESPACE = ' \t\r\n';

export function shlexSplit(line: string): ShlexWord[] {
  const words: ShlexWord[] = [];
  let state: 'space' | 'word' | '"' | "'" = 'space';
  let token = '';
  let quoted = false;
  let start = 0;
  let quoteStart = 0;
  const emit = (): void => {
    if (token !== '' || quoted) words.push({ text: token, start });
    token = '';
    quoted = false;
    state = 'space';
  };
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (state === 'space' || state === 'word') {
      if (WHITESPACE.includes(char)) {
        if (state === 'word') emit();
      } else if (char === '#') {
        break;
      } else {
        if (state === 'space') start = i;
        state = 'word';
        if (char === '"' || char === "'") {
          state = char;
          quoteStart = i;
          quoted = true;
        } else if (char === '\\') {
          if (i + 1 >= line.length) throw new ShlexError('No escaped character', i);
          i++;
          token += line[i] as string;
        } else {
          token += char;
        }
      }
      continue;
    }
    // Inside quotes.
    if (char === state) {
      state = 'word';
    } else if (char === '\\' && state === '"') {
      const next = line[i + 1];
      if (next === undefined) throw new ShlexError('No escaped character', i);
      token += next === '"' || next === '\\' ? next : `\\${next}`;
      i++;
    } else {
      token += char;
    }
  }
  if (state === '"' || state === "'") throw new ShlexError('No closing quotation', quoteStart);
  if (state === 'word') emit();
  return words;
}
