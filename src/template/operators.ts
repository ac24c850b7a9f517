// Python arithmetic on template values: + - * / // % ** and ~.
import { TemplateError } from './errors.js';
import { formatPercent } from './format.js';
import { concrete, toText, typeName } from './values.js';

/** Refuse results that would eat the memory of the deploy host ('x' * 10**9). */
const maxRepeatLength = 10_000_000;

function isNumeric(value: unknown): value is number | boolean {
  return typeof value === 'number' || typeof value === 'boolean';
}

function unsupported(op: string, a: unknown, b: unknown): TemplateError {
  return new TemplateError(`unsupported operand types for ${op}: ${typeName(a)} and ${typeName(b)}`);
}

function repeat<T>(items: T[] | string, times: unknown): T[] | string {
  if (typeof times !== 'number' || !Number.isInteger(times)) throw new TemplateError(`can only repeat by an integer, not ${typeName(times)}`);
  const count = Math.max(0, times);
  if (items.length * count > maxRepeatLength) throw new TemplateError('repetition result is too large');
  if (typeof items === 'string') return items.repeat(count);
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(...items);
  return out;
}

export function binaryOperation(op: string, a: unknown, b: unknown): unknown {
  concrete(a);
  concrete(b);
  if (op === '~') return toText(a) + toText(b);
  if (isNumeric(a) && isNumeric(b)) return numeric(op, Number(a), Number(b));
  switch (op) {
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...(a as unknown[]), ...(b as unknown[])];
      break;
    case '*':
      if (typeof a === 'string' || Array.isArray(a)) return repeat(a, b);
      if (typeof b === 'string' || Array.isArray(b)) return repeat(b, a);
      break;
    case '%':
      if (typeof a === 'string') return formatPercent(a, Array.isArray(b) ? b : [b]);
      break;
    default:
      break;
  }
  throw unsupported(op, a, b);
}

function numeric(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new TemplateError('division by zero');
      return a / b;
    case '//':
      if (b === 0) throw new TemplateError('integer division by zero');
      return Math.floor(a / b);
    case '%':
      if (b === 0) throw new TemplateError('modulo by zero');
      // Python's sign follows the divisor.
      return ((a % b) + b) % b;
    case '**':
      return a ** b;
    default:
      throw new TemplateError(`unknown operator ${op}`);
  }
}
