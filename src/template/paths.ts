// Dotted attribute paths used by map(attribute=), selectattr, sort(attribute=), extract.
import { keysOf, readMember } from './access.js';
import { Deferred, isDeferred, Missing } from './deferred.js';
import { TemplateError } from './errors.js';
import { didYouMean } from './suggest.js';

/** `"item" has no attribute "x"`, with a suggestion from the object's keys. */
export function missingMember(objectText: string, object: unknown, key: unknown): Missing {
  const subject = JSON.stringify(objectText);
  const message =
    typeof key === 'number'
      ? `${subject} has no ${Array.isArray(object) || typeof object === 'string' ? 'index' : 'key'} ${key}`
      : `${subject} has no attribute "${String(key)}"${didYouMean(String(key), keysOf(object))}`;
  return new Missing(new TemplateError(message, `${objectText}.${String(key)}`));
}

/** Read `a.b.0` from a value; numeric parts index lists. Missing parts give a Missing, Deferred values propagate. */
export function readPath(value: unknown, path: unknown, describe: string): unknown {
  const parts =
    typeof path === 'number'
      ? [path]
      : String(path)
          .split('.')
          .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  let current = value;
  let text = describe;
  for (const part of parts) {
    if (isDeferred(current)) return new Deferred(`${current.source}.${part}`);
    const lookup = readMember(current, part);
    if (!lookup.found) return missingMember(text, current, part);
    current = lookup.value;
    text += `.${part}`;
  }
  return current;
}
