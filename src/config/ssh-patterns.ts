// OpenSSH's host patterns (match.c): `*` any run, `?` one character; pattern lists are comma-separated,
// and a matching `!pattern` rules the whole list out.

/** match_pattern: the whole of `text` against one pattern, character for character (case-sensitive). */
export function matchPattern(text: string, pattern: string): boolean {
  // Iterative wildcard matching with backtracking to the last `*` (linear in practice, no regular expression).
  let t = 0;
  let p = 0;
  let starAt = -1;
  let starText = 0;
  while (t < text.length) {
    const char = pattern[p];
    if (char === '*') {
      starAt = p;
      starText = t;
      p += 1;
    } else if (char !== undefined && (char === '?' || char === text[t])) {
      p += 1;
      t += 1;
    } else if (starAt >= 0) {
      p = starAt + 1;
      starText += 1;
      t = starText;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/**
 * match_pattern_list: 1 for a positive match, -1 when a negated pattern matched (which wins), 0 for none.
 * `lower` compares in lower case (host names), as OpenSSH does for `Match host`.
 */
export function matchPatternList(text: string, list: string, lower: boolean): -1 | 0 | 1 {
  const subject = lower ? text.toLowerCase() : text;
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = lower ? raw.slice(negated ? 1 : 0).toLowerCase() : raw.slice(negated ? 1 : 0);
    if (!matchPattern(subject, pattern)) continue;
    if (negated) return -1;
    positive = true;
  }
  return positive ? 1 : 0;
}
