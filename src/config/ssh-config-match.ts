// `Match` lines: which criteria orchestrate evaluates as OpenSSH does (all, host, originalhost, user,
// localuser, final, canonical), and `exec`, which it never runs (refused when a host reaches it).

export type MatchAttribute = 'all' | 'host' | 'originalhost' | 'user' | 'localuser' | 'final' | 'canonical' | 'exec';

export interface MatchCriterion {
  attribute: MatchAttribute;
  negate: boolean;
  /** The pattern list, or the command of `exec`; absent for all, final and canonical. */
  arg?: string;
}

const withArgument = new Set<MatchAttribute>(['host', 'originalhost', 'user', 'localuser', 'exec']);
const known = new Set<string>(['all', 'final', 'canonical', ...withArgument]);

/** strdelim: words split at white space or one `=`; "double quotes" group. */
function words(text: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /[ \t=]/.test(text.charAt(i))) i += 1;
    if (i >= text.length) break;
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) return undefined;
      out.push(text.slice(i + 1, close));
      i = close + 1;
      continue;
    }
    const start = i;
    while (i < text.length && !/[ \t="]/.test(text.charAt(i))) i += 1;
    out.push(text.slice(start, i));
  }
  return out;
}

/** The criteria of a Match line, or why it is not valid. */
export function parseMatchLine(rest: string): MatchCriterion[] | string {
  const tokens = words(rest);
  if (!tokens) return 'unbalanced quotes';
  const criteria: MatchCriterion[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] ?? '';
    if (token.startsWith('#')) break;
    const negate = token.startsWith('!');
    const name = (negate ? token.slice(1) : token).toLowerCase();
    if (!known.has(name)) return `unsupported criterion "${token}"`;
    const attribute = name as MatchAttribute;
    if (attribute === 'all') {
      const next = tokens[i + 1];
      if (criteria.length > 0 || (next !== undefined && !next.startsWith('#'))) return '"all" cannot be combined with other criteria';
      criteria.push({ attribute, negate });
      break;
    }
    if (!withArgument.has(attribute)) {
      criteria.push({ attribute, negate });
      continue;
    }
    const arg = tokens[i + 1];
    if (arg === undefined || arg === '' || arg.startsWith('#')) return `"${token}" needs an argument`;
    criteria.push({ attribute, negate, arg });
    i += 1;
  }
  if (criteria.length === 0) return 'no criteria';
  return criteria;
}
