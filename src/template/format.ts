// Python's printf-style formatting (`'%s-%d' % (a, b)` and the `format` filter), the common conversions only.
import { TemplateError } from './errors.js';
import { toJson, toText, typeName } from './values.js';

const conversion = /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([sdifrx%])/g;

export function formatPercent(template: string, args: unknown[]): string {
  let next = 0;
  const take = (): unknown => {
    if (next >= args.length) throw new TemplateError('not enough arguments for format string');
    return args[next++];
  };
  const result = template.replace(conversion, (_match, flags: string, width: string | undefined, precision: string | undefined, kind: string) => {
    if (kind === '%') return '%';
    const value = take();
    let text: string;
    if (kind === 's') text = toText(value);
    else if (kind === 'r') text = typeof value === 'string' ? `'${value}'` : toJson(value);
    else {
      if (typeof value !== 'number' && typeof value !== 'boolean')
        throw new TemplateError(`%${kind} format: a number is required, not ${typeName(value)}`);
      const number = Number(value);
      if (kind === 'f') text = number.toFixed(precision === undefined ? 6 : Number(precision));
      else if (kind === 'x') text = Math.trunc(number).toString(16);
      else text = String(Math.trunc(number));
      if (flags.includes('+') && number >= 0) text = '+' + text;
    }
    const size = width === undefined ? 0 : Number(width);
    if (flags.includes('-')) return text.padEnd(size);
    return flags.includes('0') && kind !== 's' ? text.padStart(size, '0') : text.padStart(size);
  });
  if (next < args.length) throw new TemplateError('not all arguments converted during string formatting');
  return result;
}
