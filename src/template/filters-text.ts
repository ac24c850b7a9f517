// Filters on scalars: defaults, conversions, strings, paths, encodings, JSON/YAML.
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { shellQuote } from '../shell/quote.js';
import { isMissing } from './deferred.js';
import { TemplateError } from './errors.js';
import type { FilterSpec } from './filter-types.js';
import { expectNumber, expectString, optionalInteger } from './filter-types.js';
import { formatPercent } from './format.js';
import { toPlain } from './plain.js';
import { equals, isTrue, toJson, toText, typeName } from './values.js';

const integerText = /^\s*[+-]?\d+\s*$/;
const floatText = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Python int(text, base), `None` when the text is not a number in that base. */
function parseInteger(text: string, base: number): number | undefined {
  let digits = text.trim().replaceAll('_', '').toLowerCase();
  const sign = digits.startsWith('-') ? -1 : 1;
  digits = digits.replace(/^[+-]/, '');
  const prefixes: Record<string, number> = { '0x': 16, '0o': 8, '0b': 2 };
  const prefixBase = prefixes[digits.slice(0, 2)];
  let effectiveBase = base;
  if (prefixBase !== undefined && (base === 0 || base === prefixBase)) {
    digits = digits.slice(2);
    effectiveBase = prefixBase;
  } else if (base === 0) {
    effectiveBase = 10;
  }
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, effectiveBase);
  if (!digits || Array.from(digits).some((digit) => !alphabet.includes(digit))) return undefined;
  return sign * parseInt(digits, effectiveBase);
}

function toInteger(value: unknown, fallback: unknown, base: number): unknown {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : fallback;
  if (typeof value === 'string') {
    if (base === 10 && !integerText.test(value) && floatText.test(value)) return Math.trunc(Number(value));
    return parseInteger(value, base) ?? fallback;
  }
  return fallback;
}

function toFloat(value: unknown, fallback: unknown): unknown {
  if (typeof value === 'boolean' || typeof value === 'number') return Number(value);
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (floatText.test(text)) return Number(text);
    if (/^[+-]?(inf|infinity)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(text)) return NaN;
  }
  return fallback;
}

/** Python str.split: no separator splits on runs of whitespace and drops empty strings. */
export function pythonSplit(text: string, separator: unknown, maxsplit: number): string[] {
  if (separator === undefined || separator === null) {
    const parts: string[] = [];
    let rest = text.trimStart();
    while (rest && (maxsplit < 0 || parts.length < maxsplit)) {
      const match = /\s+/.exec(rest);
      if (!match) break;
      parts.push(rest.slice(0, match.index));
      rest = rest.slice(match.index + match[0].length);
    }
    if (rest) parts.push(maxsplit >= 0 && parts.length >= maxsplit ? rest.trimEnd() : rest);
    return parts;
  }
  const sep = expectString(separator, 'split');
  if (!sep) throw new TemplateError('split: empty separator');
  const parts = text.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

export function pythonStrip(text: string, chars: unknown, where: 'both' | 'start' | 'end'): string {
  if (chars === undefined || chars === null) return where === 'start' ? text.trimStart() : where === 'end' ? text.trimEnd() : text.trim();
  const set = new Set(expectString(chars, 'strip'));
  const characters = Array.from(text);
  let from = 0;
  let to = characters.length;
  if (where !== 'end') while (from < to && set.has(characters[from] ?? '')) from++;
  if (where !== 'start') while (to > from && set.has(characters[to - 1] ?? '')) to--;
  return characters.slice(from, to).join('');
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function dirname(path: string): string {
  const head = path.slice(0, path.lastIndexOf('/') + 1);
  return head && !/^\/+$/.test(head) ? head.replace(/\/+$/, '') : head;
}

function pathJoin(parts: string[]): string {
  let joined = '';
  for (const part of parts) {
    if (part.startsWith('/')) joined = part;
    else if (!joined || joined.endsWith('/')) joined += part;
    else joined += '/' + part;
  }
  return joined;
}

/** Python round(): exact halves go to the even neighbour. */
function roundHalfEven(value: number, precision: number): number {
  const factor = 10 ** precision;
  const scaled = value * factor;
  const rounded = Math.abs(scaled % 1) === 0.5 ? 2 * Math.round(scaled / 2) : Math.round(scaled);
  return rounded / factor;
}

function ansibleBool(value: unknown): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') return ['yes', 'on', '1', 'true'].includes(value.toLowerCase());
  return equals(value, 1);
}

function indent(text: string, width: unknown, first: unknown, blank: unknown): string {
  const pad = typeof width === 'string' ? width : ' '.repeat(optionalInteger(width, 4, 'indent'));
  const lines = text.split('\n');
  return lines.map((line, i) => ((i > 0 || isTrue(first ?? false)) && (line || isTrue(blank ?? false)) ? pad + line : line)).join('\n');
}

function capitalize(text: string): string {
  const [head = '', ...tail] = Array.from(text);
  return head.toUpperCase() + tail.join('').toLowerCase();
}

export const textFilters: Record<string, FilterSpec> = {
  default: {
    params: ['default_value', 'boolean'],
    acceptsUndefined: true,
    apply: (input, [value, boolean]) => (isMissing(input) || (isTrue(boolean ?? false) && !isTrue(input)) ? (value ?? '') : input),
  },
  mandatory: {
    params: ['msg'],
    acceptsUndefined: true,
    apply(input, [msg]) {
      if (!isMissing(input)) return input;
      throw new TemplateError(msg === undefined ? `mandatory ${input.error.message}` : toText(msg), input.error.variable);
    },
  },
  int: { params: ['default', 'base'], apply: (input, [fallback, base]) => toInteger(input, fallback ?? 0, optionalInteger(base, 10, 'int')) },
  float: { params: ['default'], apply: (input, [fallback]) => toFloat(input, fallback ?? 0) },
  string: { params: [], apply: (input) => toText(input) },
  bool: { params: [], apply: (input) => ansibleBool(input) },
  lower: { params: [], apply: (input) => toText(input).toLowerCase() },
  upper: { params: [], apply: (input) => toText(input).toUpperCase() },
  capitalize: { params: [], apply: (input) => capitalize(toText(input)) },
  title: { params: [], apply: (input) => toText(input).replace(/\p{L}+/gu, (word) => capitalize(word)) },
  trim: { params: ['chars'], apply: (input, [chars]) => pythonStrip(toText(input), chars, 'both') },
  replace: {
    params: ['old', 'new', 'count'],
    apply(input, [old, replacement, count]) {
      const text = toText(input);
      const from = toText(old ?? '');
      const to = toText(replacement ?? '');
      const parts = text.split(from);
      const limit = optionalInteger(count, -1, 'replace');
      if (limit < 0 || parts.length <= limit + 1) return parts.join(to);
      return parts.slice(0, limit + 1).join(to) + from + parts.slice(limit + 1).join(from);
    },
  },
  split: {
    params: ['sep', 'maxsplit'],
    apply: (input, [sep, max]) => pythonSplit(expectString(input, 'split'), sep, optionalInteger(max, -1, 'split')),
  },
  format: { params: ['*args'], apply: (input, [args]) => formatPercent(expectString(input, 'format'), args as unknown[]) },
  indent: { params: ['width', 'first', 'blank'], apply: (input, [width, first, blank]) => indent(toText(input), width, first, blank) },
  to_json: {
    params: ['indent', 'sort_keys', '**options'],
    apply: (input, [width, sortKeys]) =>
      toJson(input, {
        indent: width === undefined || width === null ? undefined : optionalInteger(width, 0, 'to_json'),
        sortKeys: isTrue(sortKeys ?? false),
      }),
  },
  to_nice_json: {
    params: ['indent', 'sort_keys', '**options'],
    apply: (input, [width, sortKeys]) => toJson(input, { indent: optionalInteger(width, 4, 'to_nice_json'), sortKeys: isTrue(sortKeys ?? true) }),
  },
  from_json: {
    params: [],
    apply(input) {
      try {
        return JSON.parse(expectString(input, 'from_json')) as unknown;
      } catch (error) {
        if (error instanceof TemplateError) throw error;
        throw new TemplateError(`from_json: the input is not valid JSON (${(error as Error).message})`);
      }
    },
  },
  to_yaml: {
    params: ['indent', '**options'],
    apply: (input, [width]) => stringifyYaml(toPlain(input), { indent: optionalInteger(width, 2, 'to_yaml') }),
  },
  to_nice_yaml: {
    params: ['indent', '**options'],
    apply: (input, [width]) => stringifyYaml(toPlain(input), { indent: optionalInteger(width, 4, 'to_nice_yaml') }),
  },
  from_yaml: {
    params: [],
    apply(input) {
      try {
        return parseYaml(expectString(input, 'from_yaml')) as unknown;
      } catch (error) {
        throw new TemplateError(`from_yaml: the input is not valid YAML (${(error as Error).message.split('\n')[0]})`);
      }
    },
  },
  quote: { params: [], apply: (input) => shellQuote(toText(input)) },
  basename: { params: [], apply: (input) => basename(toText(input)) },
  dirname: { params: [], apply: (input) => dirname(toText(input)) },
  path_join: {
    params: [],
    apply: (input) => pathJoin(Array.isArray(input) ? input.map((part) => toText(part)) : [toText(input)]),
  },
  b64encode: { params: ['encoding'], apply: (input) => Buffer.from(toText(input), 'utf8').toString('base64') },
  b64decode: {
    params: ['encoding'],
    apply(input) {
      const text = expectString(input, 'b64decode').replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new TemplateError('b64decode: the input is not base64');
      return Buffer.from(text, 'base64').toString('utf8');
    },
  },
  hash: {
    params: ['hashtype'],
    apply(input, [kind]) {
      const algorithm = toText(kind ?? 'sha1');
      if (!['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'].includes(algorithm))
        throw new TemplateError(`hash: unsupported hash type "${algorithm}"`);
      return createHash(algorithm).update(toText(input), 'utf8').digest('hex');
    },
  },
  checksum: { params: [], apply: (input) => createHash('sha1').update(toText(input), 'utf8').digest('hex') },
  abs: { params: [], apply: (input) => Math.abs(expectNumber(input, 'abs')) },
  round: {
    params: ['precision', 'method'],
    apply(input, [precision, method]) {
      const value = expectNumber(input, 'round');
      const digits = optionalInteger(precision, 0, 'round');
      const factor = 10 ** digits;
      switch (method ?? 'common') {
        case 'common':
          return roundHalfEven(value, digits);
        case 'ceil':
          return Math.ceil(value * factor) / factor;
        case 'floor':
          return Math.floor(value * factor) / factor;
        default:
          throw new TemplateError(`round: method must be "common", "ceil" or "floor", not ${toJson(method)}`);
      }
    },
  },
  ternary: {
    params: ['true_val', 'false_val', 'none_val'],
    apply: (input, [whenTrue, whenFalse, whenNone]) =>
      input === null && whenNone !== undefined ? whenNone : isTrue(input) ? (whenTrue ?? true) : (whenFalse ?? false),
  },
  type_debug: { params: [], apply: (input) => typeName(input) },
};
