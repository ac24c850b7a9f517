// The one function through which any value reaches a remote POSIX shell.

/**
 * Quote a value as a single POSIX `sh` word. Everything is wrapped in single quotes,
 * so no character (`;`, `$()`, backquotes, newlines, globs) keeps a meaning to the shell;
 * an embedded single quote becomes '\''.
 */
export function shellQuote(value: string | number | boolean): string {
  const text = String(value);
  if (text.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte');
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Quote each word of an argv and join them into one command line. */
export function shellJoin(argv: readonly (string | number | boolean)[]): string {
  return argv.map(shellQuote).join(' ');
}
