// PyYAML (Ansible's YAML reader) lets a quoted scalar continue on lines indented with tabs or less than YAML
// requires; the `yaml` package does not (TAB_AS_INDENT, then a "missing" closing quote). kubeasz 3.7.0's
// roles/cluster-restore writes its restore command that way:
//
//     shell: "cd /etcd_backup && \
//     <TAB>ETCDCTL_API=3 {{ bin_dir }}/etcdutl snapshot restore snapshot.db \
//
// Leading white space of a continuation line is dropped by both readers, so giving those lines enough spaces
// changes no value. This rewrite is tried only when a file does not parse as it is, and kept only when the
// rewritten file then parses without error; columns on rewritten lines are mapped back for messages.

export interface LineShift {
  /** Length of the line's new leading white space. */
  newPrefix: number;
  /** Characters added (or removed, if negative) at the start of the line. */
  delta: number;
}

export interface RelaxedText {
  text: string;
  /** 1-based line number to its shift (empty: nothing to change). */
  shifts: Map<number, LineShift>;
  /** Where a quote opened that is never closed (1-based), for a better message than "missing quote at the end". */
  unclosed?: { line: number; col: number };
}

/** The text with quoted-scalar continuation lines re-indented with spaces. */
export function relaxQuotedContinuations(text: string): RelaxedText {
  const lines = text.split('\n');
  const shifts = new Map<number, LineShift>();
  let quote: '"' | "'" | undefined;
  let required = 0;
  let blockIndent: number | undefined;
  let opened = { line: 0, col: 0 };
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index] as string;
    let start = 0;
    if (quote) {
      const lead = /^[ \t]*/.exec(line)?.[0] ?? '';
      const rest = line.slice(lead.length);
      if (rest === '') {
        if (lead !== '') setLine(index, '', lead.length);
        continue;
      }
      if (/^(---|\.\.\.)(\s|$)/.test(line)) return { text, shifts: new Map(), unclosed: opened }; // a document marker: PyYAML fails too
      if (lead.includes('\t') || lead.length < required) {
        setLine(index, ' '.repeat(required) + rest, lead.length);
        line = lines[index] as string;
      }
      start = line.length - rest.length;
    } else if (blockIndent !== undefined) {
      const indent = /^ */.exec(line)?.[0].length ?? 0;
      if (line.trim() === '' || indent > blockIndent) continue;
      blockIndent = undefined;
    }
    const scanned = scanLine(line, start, quote);
    quote = scanned.openQuote;
    if (quote && scanned.quoteOpenedHere) {
      required = keyColumn(line) + 1;
      opened = { line: index + 1, col: scanned.openedAt + 1 };
    }
    if (!quote && scanned.blockScalar) blockIndent = /^ */.exec(line)?.[0].length ?? 0;
  }
  return { text: lines.join('\n'), shifts, ...(quote ? { unclosed: opened } : {}) };

  function setLine(index: number, replacement: string, oldPrefix: number): void {
    const old = lines[index] as string;
    lines[index] = replacement;
    const newPrefix = replacement.length - (old.length - oldPrefix);
    shifts.set(index + 1, { newPrefix, delta: newPrefix - oldPrefix });
  }
}

/** Column (0-based) where the line's key or value starts, after indentation and `- ` sequence markers. */
function keyColumn(line: string): number {
  const match = /^(?:[ \t]*-(?=[ \t]))*[ \t]*/.exec(line);
  return match ? match[0].length : 0;
}

interface Scanned {
  /** The quote still open at the end of the line. */
  openQuote: '"' | "'" | undefined;
  quoteOpenedHere: boolean;
  /** 0-based column of the last quote opened on this line. */
  openedAt: number;
  /** The line ends with a `|` or `>` block scalar header. */
  blockScalar: boolean;
}

/** Follows quotes and comments through one line, starting inside `quote` if given. */
function scanLine(line: string, from: number, initial: '"' | "'" | undefined): Scanned {
  let quote = initial;
  let openedHere = false;
  let openedAt = 0;
  for (let i = from; i < line.length; i++) {
    const char = line[i] as string;
    if (quote === '"') {
      if (char === '\\') i++;
      else if (char === '"') quote = undefined;
      continue;
    }
    if (quote === "'") {
      if (char === "'" && line[i + 1] === "'") i++;
      else if (char === "'") quote = undefined;
      continue;
    }
    if (char === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) break;
    if (!quoteMayStart(line, i)) continue; // inside a plain scalar, quotes are text
    if (char === '"' || char === "'") {
      quote = char;
      openedHere = true;
      openedAt = i;
    } else if ((char === '|' || char === '>') && /^[|>][-+0-9]*[ \t]*(#.*)?$/.test(line.slice(i))) {
      return { openQuote: undefined, quoteOpenedHere: false, openedAt, blockScalar: true };
    }
  }
  return { openQuote: quote, quoteOpenedHere: openedHere && quote !== undefined, openedAt, blockScalar: false };
}

/** A quote (or any token) starts a value at the start of a line, or after `- `, `: `, `? `, `[`, `{` or `,`. */
function quoteMayStart(line: string, index: number): boolean {
  let j = index - 1;
  while (j >= 0 && (line[j] === ' ' || line[j] === '\t')) j--;
  if (j < 0) return true;
  const previous = line[j] as string;
  if (previous === '[' || previous === '{' || previous === ',') return true;
  return (previous === '-' || previous === ':' || previous === '?') && j < index - 1;
}
