// Plain JavaScript copies of template values, for serialisers that know nothing of Maps or lazy values.
import { entriesOf, isMapping, objectFromEntries } from './access.js';
import { TemplateError } from './errors.js';
import { concrete, typeName } from './values.js';

export function toPlain(value: unknown, depth = 0): unknown {
  concrete(value);
  if (depth > 100) throw new TemplateError('value is nested too deeply (or refers to itself)');
  if (Array.isArray(value)) return value.map((item) => toPlain(item, depth + 1));
  if (isMapping(value)) return objectFromEntries(entriesOf(value).map(([key, item]) => [key, toPlain(item, depth + 1)] as const));
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  if (value === undefined) return null;
  throw new TemplateError(`cannot convert a value of type ${typeName(value)}`);
}
