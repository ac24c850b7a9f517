// Split a command line into words the way a POSIX shell would, without expanding anything.
// The `command` module uses it: its templated values arrive single-quoted, so each stays one word.

export class SplitWordsError extends Error {}

export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new SplitWordsError(`unterminated single quote in: ${text}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      let closed = false;
      while (i < text.length) {
        const d = text[i] as string;
        if (d === '"') {
          closed = true;
          i += 1;
          break;
        }
        // Inside double quotes a backslash only escapes these characters.
        if (d === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1] as string)) {
          word += text.charAt(i + 1);
          i += 2;
        } else {
          word += d;
          i += 1;
        }
      }
      if (!closed) throw new SplitWordsError(`unterminated double quote in: ${text}`);
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < text.length) {
        const next = text[i + 1] as string;
        if (next !== '\n') {
          word += next;
          inWord = true;
        }
        i += 2;
      } else {
        i += 1;
      }
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
    } else {
      word += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}
