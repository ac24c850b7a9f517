// Python slice semantics for `xs[a:b:c]` on lists and strings.
import { TemplateError } from './errors.js';
import { typeName } from './values.js';

function sliceBound(value: unknown, what: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TemplateError(`slice ${what} must be an integer, not ${typeName(value)}`);
  return value;
}

/** Python's `items[start:stop:step]`, negative bounds counting from the end. */
export function pythonSlice<T>(items: T[], lowerValue: unknown, upperValue: unknown, stepValue: unknown): T[] {
  const length = items.length;
  const step = sliceBound(stepValue, 'step') ?? 1;
  if (step === 0) throw new TemplateError('slice step cannot be zero');
  const clamp = (value: number | undefined, fallback: number, low: number, high: number): number => {
    if (value === undefined) return fallback;
    const absolute = value < 0 ? value + length : value;
    return Math.min(Math.max(absolute, low), high);
  };
  const result: T[] = [];
  if (step > 0) {
    const start = clamp(sliceBound(lowerValue, 'start'), 0, 0, length);
    const stop = clamp(sliceBound(upperValue, 'stop'), length, 0, length);
    for (let i = start; i < stop; i += step) result.push(items[i] as T);
  } else {
    const start = clamp(sliceBound(lowerValue, 'start'), length - 1, -1, length - 1);
    const stop = clamp(sliceBound(upperValue, 'stop'), -1, -1, length - 1);
    for (let i = start; i > stop; i += step) result.push(items[i] as T);
  }
  return result;
}
