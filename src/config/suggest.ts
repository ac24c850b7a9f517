// "Did you mean ...?" for unknown keys, modules and host patterns.

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export interface NearestOptions {
  /** Words shorter than this get no suggestion (templates: one- and two-letter names are too ambiguous). */
  minWordLength?: number;
  /** The allowed distance is a third of the word's length, but at least this much. */
  minDistance?: number;
}

/**
 * The closest candidate, if it is close enough to be a plausible typo (case ignored; ties: the first
 * candidate wins; the word itself and non-strings are never suggested).
 */
export function nearest(word: string, candidates: Iterable<unknown>, options: NearestOptions = {}): string | undefined {
  if (word.length < (options.minWordLength ?? 0)) return undefined;
  const limit = Math.max(options.minDistance ?? 2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    if (typeof candidate !== 'string' || candidate === word) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `did you mean "x"?` or nothing. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = nearest(word, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}
