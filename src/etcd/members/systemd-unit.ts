// A systemd service as systemd reads it, for what a restore needs: the ExecStart argv (drop-ins may reset and
// replace it), Environment= assignments and the EnvironmentFile= paths. Words are split as systemd splits
// them (quotes, backslash escapes, `\` line continuations) and `${VAR}` / `$VAR` are substituted.

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
  /** Environment= assignments, in order (later ones win). */
  environment: Record<string, string>;
  environmentFiles: { path: string; optional: boolean }[];
}

/** Logical lines of the [Service] section: `key`, raw `value`, continuations joined. */
function serviceLines(text: string): { key: string; value: string }[] {
  const lines: { key: string; value: string }[] = [];
  let section = '';
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = pending + raw.replace(/\r$/, '');
    if (/\\\s*$/.test(line)) {
      pending = `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    pending = '';
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    const eq = trimmed.indexOf('=');
    if (section !== 'Service' || eq < 0) continue;
    lines.push({ key: trimmed.slice(0, eq).trim(), value: trimmed.slice(eq + 1).trim() });
  }
  return lines;
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

/** `${VAR}` stays one word; a word that is exactly `$VAR` becomes the variable's words (systemd's rules). */
function substitute(words: readonly string[], env: Readonly<Record<string, string>>): string[] {
  return words.flatMap((word) => {
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (bare) return splitWords(env[bare[1] ?? ''] ?? '');
    return [word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '')];
  });
}

/** KEY=VALUE lines of an EnvironmentFile (quotes removed, comments skipped). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const [word] = splitWords(match[2] ?? '');
    env[match[1] ?? ''] = word ?? '';
  }
  return env;
}

/**
 * The service from its unit file and drop-ins, in the order systemd applies them. `extraEnvironment`
 * (the EnvironmentFiles' contents, read in a second round) overrides Environment= lines, as systemd.exec(5)
 * says (Debian's etcd.service sets DAEMON_ARGS= empty and lets /etc/default/etcd fill it).
 */
export function readService(
  files: readonly UnitFile[],
  environmentFileValues: Readonly<Record<string, string>> = {},
  specifiers?: UnitSpecifiers,
): ServiceDefinition {
  const result: ServiceDefinition = { argv: [], environment: {}, environmentFiles: [] };
  let execStart: string | undefined;
  const assignments: Record<string, string> = {};
  for (const file of files) {
    for (const { key, value } of serviceLines(file.text)) {
      if (key === 'ExecStart') {
        // An empty ExecStart= in a drop-in clears the list; the next one replaces it.
        execStart = value === '' ? undefined : expandSpecifiers(value, specifiers);
        if (value !== '') result.execStartFile = file.path;
      } else if (key === 'Environment') {
        for (const word of splitWords(expandSpecifiers(value, specifiers))) {
          const eq = word.indexOf('=');
          if (eq > 0) assignments[word.slice(0, eq)] = word.slice(eq + 1);
        }
      } else if (key === 'EnvironmentFile' && value !== '') {
        const optional = value.startsWith('-');
        const path = expandSpecifiers(optional ? value.slice(1) : value, specifiers);
        result.environmentFiles.push({ path, optional });
      }
    }
  }
  result.environment = { ...assignments, ...environmentFileValues };
  if (execStart !== undefined) {
    // Leading -, @, :, +, ! change how systemd runs the program, not what it runs.
    const words = splitWords(execStart.replace(/^[-@:+!]+/, ''));
    result.argv = substitute(words, result.environment);
  }
  return result;
}
