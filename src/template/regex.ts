// Python `re` patterns and replacement strings on JavaScript RegExp, for regex_* filters and tests.
import { TemplateError } from './errors.js';

export interface RegexOptions {
  ignorecase?: boolean;
  multiline?: boolean;
  /** Find every match (regex_replace, regex_findall). */
  global?: boolean;
  /** Match only at the start (the `match` test). */
  sticky?: boolean;
}

const cache = new Map<string, RegExp>();

/** Translate Python-only syntax: inline flags at the start, (?P<name>), (?P=name), \A, \Z. */
function translate(pattern: string, flags: Set<string>): string {
  let rest = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(rest);
  if (inline) {
    for (const flag of inline[1] ?? '') {
      if (flag === 'x') throw new TemplateError('verbose regular expressions ((?x)) are not supported');
      if ('ims'.includes(flag)) flags.add(flag);
    }
    rest = rest.slice(inline[0].length);
  }
  let out = '';
  for (let i = 0; i < rest.length; i++) {
    const char = rest[i] ?? '';
    if (char === '\\') {
      const next = rest[i + 1] ?? '';
      out += next === 'A' ? '(?<![\\s\\S])' : next === 'Z' ? '(?![\\s\\S])' : char + next;
      i++;
    } else if (rest.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (rest.startsWith('(?P=', i)) {
      const close = rest.indexOf(')', i);
      if (close < 0) throw new TemplateError(`invalid regular expression ${JSON.stringify(pattern)}: unterminated (?P=`);
      out += `\\k<${rest.slice(i + 4, close)}>`;
      i = close;
    } else {
      out += char;
    }
  }
  return out;
}

export function compileRegex(pattern: string, options: RegexOptions = {}): RegExp {
  const key = JSON.stringify([pattern, options.ignorecase, options.multiline, options.global, options.sticky]);
  const cached = cache.get(key);
  if (cached) {
    cached.lastIndex = 0;
    return cached;
  }
  const flags = new Set<string>();
  const source = translate(pattern, flags);
  if (options.ignorecase) flags.add('i');
  if (options.multiline) flags.add('m');
  if (options.global) flags.add('g');
  if (options.sticky) flags.add('y');
  let regex: RegExp;
  try {
    regex = new RegExp(source, [...flags].join(''));
  } catch (error) {
    throw new TemplateError(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
  if (cache.size > 500) cache.clear();
  cache.set(key, regex);
  return regex;
}

/** Every match, advancing past empty matches as Python does. */
export function allMatches(regex: RegExp, text: string, limit = Infinity): RegExpExecArray[] {
  const matches: RegExpExecArray[] = [];
  regex.lastIndex = 0;
  while (matches.length < limit) {
    const match = regex.exec(text);
    if (!match) break;
    matches.push(match);
    if (match[0] === '') regex.lastIndex++;
    if (regex.lastIndex > text.length) break;
  }
  return matches;
}

function group(match: RegExpExecArray, reference: string): string {
  const value = /^\d+$/.test(reference) ? match[Number(reference)] : match.groups?.[reference];
  if (value === undefined && !/^\d+$/.test(reference) && !(match.groups && reference in match.groups)) {
    throw new TemplateError(`unknown group name "${reference}" in replacement`);
  }
  if (/^\d+$/.test(reference) && Number(reference) >= match.length) throw new TemplateError(`invalid group reference ${reference}`);
  return value ?? '';
}

const replacementEscapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** Python's match.expand(): \1, \g<1>, \g<name>, \n, \\. */
export function expandReplacement(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const char = template[i] ?? '';
    if (char !== '\\' || i + 1 >= template.length) {
      out += char;
      continue;
    }
    const rest = template.slice(i + 1);
    const numbered = /^\d{1,2}/.exec(rest);
    const named = /^g<([^>]+)>/.exec(rest);
    if (numbered) {
      out += group(match, numbered[0]);
      i += numbered[0].length;
    } else if (named) {
      out += group(match, named[1] ?? '');
      i += named[0].length;
    } else {
      const next = rest[0] ?? '';
      out += replacementEscapes[next] ?? char + next;
      i++;
    }
  }
  return out;
}
