// The etcd flags of a systemd unit as `systemctl cat UNIT` prints it (the unit, then its drop-ins, each
// after a `# /path` line): the ExecStart that applies (an empty `ExecStart=` in a drop-in resets the list)
// and its --flags. Enough for member replace (start once with --initial-cluster-state existing) and for the
// certificate files diagnosis checks. (Issue 10's reader of members "as they are" covers EnvironmentFile
// and kubeadm's manifests; this one reads the unit only.)

export interface UnitExecStart {
  /** The words of the ExecStart that applies, quotes removed. */
  words: string[];
  /** `--flag=value` and `--flag value`, by flag name without dashes. */
  flags: Map<string, string>;
  /** Files the text came from (`# /etc/systemd/system/etcd.service` lines). */
  sources: string[];
}

/** Lines of the [Service] sections, continuation lines joined, in order. */
function serviceLines(text: string): { lines: string[]; sources: string[] } {
  const lines: string[] = [];
  const sources: string[] = [];
  let section = '';
  let pending = '';
  for (const raw of text.split('\n')) {
    const source = /^# (\/\S+)$/.exec(raw);
    if (source && !pending) {
      sources.push(source[1] ?? '');
      section = '';
      continue;
    }
    const line = pending ? `${pending} ${raw.trim()}` : raw.trim();
    if (/\\$/.test(line)) {
      pending = line.replace(/\\$/, '').trimEnd();
      continue;
    }
    pending = '';
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    if (section === 'Service') lines.push(line);
  }
  if (pending && section === 'Service') lines.push(pending);
  return { lines, sources };
}

/** systemd's word splitting for ExecStart (double and single quotes group; backslash escapes inside them). */
export function splitUnitWords(value: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charAt(i);
    if (quote) {
      if (c === '\\' && i + 1 < value.length) word += value.charAt(++i);
      else if (c === quote) quote = undefined;
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** `--name=value`, `--name value` (and single-dash forms) into a map; a flag without a value is `true`. */
export function flagsOf(words: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 1; i < words.length; i++) {
    const match = /^--?([A-Za-z0-9-]+)(?:=(.*))?$/.exec(words[i] ?? '');
    if (!match) continue;
    const name = match[1] ?? '';
    const next = words[i + 1];
    if (match[2] !== undefined) flags.set(name, match[2]);
    else if (next !== undefined && !next.startsWith('-')) {
      flags.set(name, next);
      i++;
    } else flags.set(name, 'true');
  }
  return flags;
}

/** The ExecStart that applies, from `systemctl cat` output; undefined when there is none. */
export function readExecStart(text: string): UnitExecStart | undefined {
  const { lines, sources } = serviceLines(text);
  let current: string | undefined;
  for (const line of lines) {
    const match = /^ExecStart\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    // Prefixes (-, @, +, !, :) change how systemd runs it, not the command.
    current = (match[1] ?? '').replace(/^[-@+!:]+/, '').trim() || undefined;
  }
  if (!current) return undefined;
  const words = splitUnitWords(current);
  return { words, flags: flagsOf(words), sources };
}

/** A word as systemd reads it back: quoted when it holds blanks, quotes or backslashes. */
export function quoteUnitWord(word: string): string {
  if (word !== '' && !/[\s"'\\]/.test(word)) return word;
  return `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The same command with these flags set (each old occurrence, `--flag=v` or `--flag v`, removed first),
 * as an ExecStart value.
 */
export function withFlags(words: readonly string[], set: ReadonlyMap<string, string>): string {
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const match = i > 0 ? /^--?([A-Za-z0-9-]+)(=.*)?$/.exec(word) : null;
    if (match && set.has(match[1] ?? '')) {
      const next = words[i + 1];
      if (match[2] === undefined && next !== undefined && !next.startsWith('-')) i++;
      continue;
    }
    kept.push(word);
  }
  for (const [flag, value] of set) kept.push(`--${flag}=${value}`);
  return kept.map(quoteUnitWord).join(' ');
}
