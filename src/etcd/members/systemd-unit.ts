// A systemd service as systemd reads it, for what a restore needs: the ExecStart argv (drop-ins may reset and
// replace it), Environment= assignments and the EnvironmentFile= paths and contents. Words are split as
// systemd splits them (quotes, backslash escapes, `\` line continuations) and `${VAR}` / `$VAR` are
// substituted; EnvironmentFiles follow systemd's own parser, not a shell's (no `export`, no trailing comments).
// Where the text reads one way and systemd another, a problem names the file and line.

export interface UnitFile {
  path: string;
  text: string;
}

/** What systemd's %-specifiers stand for on the host (see systemd.unit(5), "Specifiers"). */
export interface UnitSpecifiers {
  /** The unit's full name, e.g. etcd.service. */
  unit: string;
  /** The host name (uname -n). */
  hostname?: string;
}

/**
 * Values as systemd passes them: `%H` the host name, `%p`/`%N` the unit's name, `%%` a percent sign, and
 * the fixed folders of a system unit. Debian's own etcd.service says `ETCD_NAME=%H`. A specifier we cannot
 * know here stays as written.
 */
export function expandSpecifiers(value: string, specifiers: UnitSpecifiers | undefined): string {
  if (!specifiers || !value.includes('%')) return value;
  const name = specifiers.unit.replace(/\.[a-z]+$/, '');
  const hostname = specifiers.hostname;
  const known: Record<string, string | undefined> = {
    '%': '%',
    n: specifiers.unit,
    N: name,
    p: name.replace(/@.*$/, ''),
    P: name.replace(/@.*$/, ''),
    H: hostname,
    l: hostname?.replace(/\..*$/, ''),
    t: '/run',
    S: '/var/lib',
    C: '/var/cache',
    L: '/var/log',
    E: '/etc',
  };
  return value.replace(/%(.)/g, (whole, letter: string) => known[letter] ?? whole);
}

export interface ServiceDefinition {
  /** The program and its arguments, after substitution (empty when no ExecStart was found). */
  argv: string[];
  /** The file whose ExecStart won (the unit or a drop-in). */
  execStartFile?: string;
  /** Environment= assignments, in order (later ones win), then the EnvironmentFiles' values. */
  environment: Record<string, string>;
  /** The unit file or drop-in whose Environment= line set each variable (EnvironmentFile values are the caller's). */
  environmentOrigins: Record<string, string>;
  environmentFiles: { path: string; optional: boolean }[];
  /** What systemd reads otherwise than the file seems to say, as `file:line: ...`. */
  problems: string[];
}

interface Assignment {
  key: string;
  value: string;
  line: number;
}

/** An odd count of trailing backslashes: the line continues (an even count is an escaped backslash). */
const continues = (line: string): boolean => (/\\+$/.exec(line)?.[0].length ?? 0) % 2 === 1;

/**
 * Assignments of the [Service] section, as systemd.syntax(7) joins lines: a line ending in `\` continues on
 * the next (comment lines in between are skipped), but not when blanks follow the backslash.
 */
function serviceLines(file: UnitFile, problems: string[]): Assignment[] {
  const assignments: Assignment[] = [];
  let section = '';
  let pending: { text: string; line: number } | undefined;
  const lines = file.text.split('\n');
  for (let i = 0; i <= lines.length; i++) {
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    if (i < lines.length && /^\s*[#;]/.test(raw)) continue;
    const line = pending?.line ?? i + 1;
    const text = (pending?.text ?? '') + raw;
    if (i < lines.length && continues(raw)) {
      pending = { text: `${text.slice(0, -1)} `, line };
      continue;
    }
    pending = undefined;
    const trimmed = text.trim();
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) section = header[1] ?? '';
    const eq = trimmed.indexOf('=');
    if (header || section !== 'Service' || eq < 0) continue;
    if (/\\[ \t]+$/.test(raw))
      problems.push(`${file.path}:${i + 1}: a backslash followed by blanks does not continue the line for systemd: the next line is read on its own`);
    assignments.push({ key: trimmed.slice(0, eq).trim(), value: trimmed.slice(eq + 1).trim(), line });
  }
  return assignments;
}

/** systemd's word splitting: whitespace separates, '...' and "..." group, backslash escapes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (quote) {
      if (c === '\\' && i + 1 < text.length) current += text[++i] ?? '';
      else if (c === quote) quote = undefined;
      else current += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      current += text[++i] ?? '';
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/**
 * systemd's substitution in ExecStart: a word starting with `$` (not `${` or `$$`) is replaced by the named
 * variable's words (none when unset); `${VAR}` anywhere gives the value as it is, in one word (empty when
 * unset); `$$` is `$`. A `$VAR` inside a word, and the shell's `${VAR:-x}`, stay as written.
 */
function substitute(words: readonly string[], env: Readonly<Record<string, string>>): string[] {
  return words.flatMap((word) => {
    if (/^\$[^{$]/.test(word)) return splitWords(env[word.slice(1)] ?? '');
    return [word.replace(/\$\$|\$\{([^}:]*)\}/g, (whole, name?: string) => (whole === '$$' ? '$' : (env[name ?? ''] ?? '')))];
  });
}

interface EnvEntry {
  key: string;
  value: string;
  /** Where the assignment starts, 1-based. */
  line: number;
  /** An unquoted value holding ` #`: systemd keeps it, though it reads like a trailing comment. */
  hashInValue: boolean;
}

type EnvState = 'preKey' | 'key' | 'preValue' | 'value' | 'single' | 'double' | 'comment';

/**
 * An EnvironmentFile as systemd reads it (its env-file parser): `#`/`;` comment lines, KEY=VALUE with blanks
 * around both trimmed; a value may mix '...' (literal), "..." (backslash escapes only " \ ` $) and plain text,
 * where a backslash escapes the next character and a backslash-newline joins lines. There is no `export`.
 */
function envEntries(text: string): { entries: EnvEntry[]; joined: Set<number> } {
  const entries: EnvEntry[] = [];
  const joined = new Set<number>();
  // Line numbers counted as the scan goes (slicing the text for each entry would be quadratic on a long file).
  let line = 1;
  let startLine = 1;
  let state: EnvState = 'preKey';
  let key = '';
  let value = '';
  let keep = 0; // the value's length without trailing unquoted blanks
  let hash = false;
  const end = (): void => {
    entries.push({ key: key.trim(), value: value.slice(0, keep), line: startLine, hashInValue: hash });
    [key, value, keep, hash, state] = ['', '', 0, false, 'preKey'];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (i > 0 && text[i - 1] === '\n') line++;
    const blank = c === ' ' || c === '\t' || c === '\r';
    if (state === 'preKey') {
      if (c === '#' || c === ';') state = 'comment';
      else if (!blank && c !== '\n') [state, key, startLine] = ['key', c, line];
    } else if (state === 'comment') {
      // systemd 254 and later end a comment at a backslash-newline; older ones read the next line as comment.
      if (c === '\\' && text[i + 1] === '\n') joined.add(line + 1);
      else if (c === '\\') i++;
      else if (c === '\n') state = 'preKey';
    } else if (state === 'key') {
      if (c === '\n') [state, key] = ['preKey', ''];
      else if (c === '=') state = 'preValue';
      else key += c;
    } else if (c === '\n' && (state === 'preValue' || state === 'value')) end();
    else if (state === 'single' || state === 'double') {
      if (c === (state === 'single' ? "'" : '"')) state = 'preValue';
      else if (c === '\\' && state === 'double') {
        const next = text[++i] ?? '';
        if (next !== '\n') value += '"\\`$'.includes(next) ? next : `\\${next}`;
      } else value += c;
      keep = value.length;
    } else if (state === 'preValue' && (c === "'" || c === '"')) state = c === "'" ? 'single' : 'double';
    else if (c === '\\') {
      const next = text[++i] ?? '';
      if (next !== '\n') value += next;
      [state, keep] = ['value', value.length];
    } else if (!blank || state === 'value') {
      if (c === '#' && (state === 'preValue' || keep < value.length)) hash = true;
      value += c;
      if (!blank) keep = value.length;
      state = 'value';
    }
  }
  if (state !== 'preKey' && state !== 'comment' && state !== 'key') end();
  return { entries, joined };
}

const validName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The values of an EnvironmentFile (KEY=VALUE lines, later lines win) and what in it does not do what it
 * seems to, for the variables that matter to etcd (`matters`: ETCD_* and those the ExecStart uses; an
 * HTTP_PROXY in a shared env file is none of a restore's business): an `export NAME=...` line (systemd drops
 * an assignment whose name is not a plain variable name), a comment ending in a backslash (older systemd
 * swallows the next line), and an unquoted ` #` in an ETCD_* value (systemd has no trailing comments).
 */
export function readEnvironmentFile(
  path: string,
  text: string,
  matters: (name: string) => boolean = (name) => name.startsWith('ETCD_'),
): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const { entries, joined } = envEntries(text);
  for (const entry of entries) {
    if (validName.test(entry.key)) values[entry.key] = entry.value;
    const meant = /\s([A-Za-z_][A-Za-z0-9_]*)$/.exec(entry.key)?.[1];
    const name = validName.test(entry.key) ? entry.key : meant;
    if (name === undefined || !matters(name)) continue;
    if (joined.has(entry.line))
      problems.push(
        `${path}:${entry.line}: the comment above ends in a backslash: systemd before 254 reads ${entry.key} as part of it; fix: remove that backslash`,
      );
    if (!validName.test(entry.key) && meant)
      problems.push(`${path}:${entry.line}: systemd ignores "${entry.key}=...": ${meant} is not set; fix: write it as ${meant}=...`);
    if (validName.test(entry.key) && entry.key.startsWith('ETCD_') && entry.hashInValue)
      problems.push(
        `${path}:${entry.line}: ${entry.key} is "${entry.value}": systemd reads the text after # as part of the value, not as a comment; fix: put the comment on a line of its own`,
      );
  }
  return { values, problems };
}

/**
 * The argv of an ExecStart= value. Its prefixes change how systemd runs the program, not what it runs,
 * except `:` (no substitution) and `@` (the second word is only argv[0], which etcd never reads: dropped).
 */
function commandLine(value: string, env: Readonly<Record<string, string>>): string[] {
  const prefix = /^[-@:+!|]*/.exec(value)?.[0] ?? '';
  const words = splitWords(value.slice(prefix.length));
  if (prefix.includes('@')) words.splice(1, 1);
  return prefix.includes(':') ? words : substitute(words, env);
}

/**
 * The service from its unit file and drop-ins, in the order systemd applies them. `environmentFileValues`
 * (the EnvironmentFiles' contents, read in a second round) override Environment= lines, as systemd.exec(5)
 * says (Debian's etcd.service sets DAEMON_ARGS= empty and lets /etc/default/etcd fill it). An empty
 * ExecStart=, Environment= or EnvironmentFile= clears what came before it.
 */
export function readService(
  files: readonly UnitFile[],
  environmentFileValues: Readonly<Record<string, string>> = {},
  specifiers?: UnitSpecifiers,
): ServiceDefinition {
  const result: ServiceDefinition = { argv: [], environment: {}, environmentOrigins: {}, environmentFiles: [], problems: [] };
  let execStart: string[] = [];
  let assignments: Record<string, string> = {};
  let unset: string[] = [];
  for (const file of files) {
    for (const { key, value, line } of serviceLines(file, result.problems)) {
      if (key === 'ExecStart') {
        execStart = value === '' ? [] : [...execStart, expandSpecifiers(value, specifiers)];
        if (value !== '') result.execStartFile = file.path;
        if (execStart.length === 2)
          result.problems.push(
            `${file.path}:${line}: a second ExecStart= without an empty ExecStart= before it: systemd refuses that but for Type=oneshot`,
          );
      } else if (key === 'Environment') {
        if (value === '') [assignments, result.environmentOrigins] = [{}, {}];
        for (const word of splitWords(value)) {
          const eq = word.indexOf('=');
          if (eq <= 0) continue;
          assignments[word.slice(0, eq)] = expandSpecifiers(word.slice(eq + 1), specifiers);
          result.environmentOrigins[word.slice(0, eq)] = file.path;
        }
      } else if (key === 'UnsetEnvironment') {
        unset = value === '' ? [] : [...unset, ...splitWords(value).map((word) => expandSpecifiers(word, specifiers))];
      } else if (key === 'EnvironmentFile') {
        if (value === '') result.environmentFiles = [];
        const optional = value.startsWith('-');
        const path = expandSpecifiers(optional ? value.slice(1) : value, specifiers);
        if (path !== '') result.environmentFiles.push({ path, optional });
      }
    }
  }
  result.environment = withoutUnset({ ...assignments, ...environmentFileValues }, unset);
  const last = execStart[execStart.length - 1];
  if (last !== undefined) result.argv = commandLine(last, result.environment);
  return result;
}

/** UnsetEnvironment= is applied last, after EnvironmentFile=: `NAME` removes the variable, `NAME=VALUE` only that assignment. */
function withoutUnset(environment: Record<string, string>, unset: readonly string[]): Record<string, string> {
  const removed = (name: string, value: string): boolean => unset.some((word) => word === name || word === `${name}=${value}`);
  return Object.fromEntries(Object.entries(environment).filter(([name, value]) => !removed(name, value)));
}
