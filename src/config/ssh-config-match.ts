// `Match` lines: which criteria orchestrate evaluates as OpenSSH does (all, host, originalhost, user,
// localuser, final, canonical, tagged), and those it cannot decide (exec, which it never runs, and the
// newer localnetwork, version, sessiontype, command): refused when a host reaches exec, or when all the
// other criteria of the line match for the newer ones (ssh-config-resolve.ts).

export type MatchAttribute =
  | 'all'
  | 'host'
  | 'originalhost'
  | 'user'
  | 'localuser'
  | 'final'
  | 'canonical'
  | 'tagged'
  | 'exec'
  | 'localnetwork'
  | 'version'
  | 'sessiontype'
  | 'command';

export interface MatchCriterion {
  attribute: MatchAttribute;
  negate: boolean;
  /** The pattern list, or the command of `exec`; absent for all, final and canonical. */
  arg?: string;
}

const withArgument = new Set<MatchAttribute>([
  'host',
  'originalhost',
  'user',
  'localuser',
  'tagged',
  'exec',
  'localnetwork',
  'version',
  'sessiontype',
  'command',
]);
/** These may be matched against an empty string (`Match tagged ""`). */
const emptyAllowed = new Set<MatchAttribute>(['tagged', 'command']);
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
      // As readconf.c: `all` may follow one criterion (`Match canonical all`), and must end the line.
      const next = tokens[i + 1];
      if (criteria.length > 1 || (next !== undefined && next !== '' && !next.startsWith('#'))) return '"all" cannot be combined with other criteria';
      criteria.push({ attribute, negate });
      break;
    }
    if (!withArgument.has(attribute)) {
      criteria.push({ attribute, negate });
      continue;
    }
    const arg = tokens[i + 1];
    if (arg === undefined || (arg === '' && !emptyAllowed.has(attribute)) || arg.startsWith('#')) return `"${token}" needs an argument`;
    criteria.push({ attribute, negate, arg });
    i += 1;
  }
  if (criteria.length === 0) return 'no criteria';
  return criteria;
}
