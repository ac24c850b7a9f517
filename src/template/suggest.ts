// "Did you mean" suggestions for misspelt variables, attributes, filters and tests (the same
// nearest-name search as configuration errors, tuned for short template names).
import { nearest } from '../config/suggest.js';

/** ` (did you mean "x"?)` or an empty string. */
export function didYouMean(name: string, candidates: Iterable<unknown>): string {
  const suggestion = nearest(name, candidates, { minWordLength: 3, minDistance: 1 });
  return suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
}
