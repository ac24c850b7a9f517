// regex_replace, regex_search, regex_findall, regex_escape (Python `re` semantics, see regex.ts).
import { TemplateError } from './errors.js';
import type { FilterSpec } from './filter-types.js';
import { expectString, optionalInteger } from './filter-types.js';
import { allMatches, compileRegex, expandReplacement } from './regex.js';
import { isTrue, toText } from './values.js';

function flags(ignorecase: unknown, multiline: unknown): { ignorecase: boolean; multiline: boolean } {
  return { ignorecase: isTrue(ignorecase ?? false), multiline: isTrue(multiline ?? false) };
}

const pythonSpecials = /[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g;

export const regexFilters: Record<string, FilterSpec> = {
  regex_replace: {
    params: ['pattern', 'replacement', 'ignorecase', 'multiline', 'count', 'mandatory_count'],
    apply(input, [pattern, replacement, ignorecase, multiline, count, mandatoryCount]) {
      const text = toText(input);
      const regex = compileRegex(expectString(pattern, 'regex_replace'), { ...flags(ignorecase, multiline), global: true });
      const limit = optionalInteger(count, 0, 'regex_replace');
      const matches = allMatches(regex, text, limit > 0 ? limit : Infinity);
      const required = optionalInteger(mandatoryCount, 0, 'regex_replace');
      if (required > 0 && matches.length !== required) {
        throw new TemplateError(`regex_replace: expected ${required} match(es), found ${matches.length}`);
      }
      const template = toText(replacement ?? '');
      let out = '';
      let position = 0;
      for (const match of matches) {
        out += text.slice(position, match.index) + expandReplacement(template, match);
        position = match.index + match[0].length;
      }
      return out + text.slice(position);
    },
  },
  regex_search: {
    params: ['pattern', '*groups', 'ignorecase', 'multiline'],
    apply(input, [pattern, groups, ignorecase, multiline]) {
      const regex = compileRegex(expectString(pattern, 'regex_search'), flags(ignorecase, multiline));
      const match = regex.exec(toText(input));
      if (!match) return null;
      const wanted = groups as unknown[];
      if (wanted.length === 0) return match[0];
      return wanted.map((reference) => {
        const spelled = expectString(reference, 'regex_search group');
        if (!/^\\(\d+|g<[^>]+>)$/.test(spelled))
          throw new TemplateError(`regex_search: a group is written '\\\\1' or '\\\\g<name>', not ${JSON.stringify(spelled)}`);
        return expandReplacement(spelled, match);
      });
    },
  },
  regex_findall: {
    params: ['pattern', 'ignorecase', 'multiline'],
    apply(input, [pattern, ignorecase, multiline]) {
      const regex = compileRegex(expectString(pattern, 'regex_findall'), { ...flags(ignorecase, multiline), global: true });
      return allMatches(regex, toText(input)).map((match) => {
        if (match.length === 1) return match[0];
        if (match.length === 2) return match[1] ?? '';
        // A group that did not take part in the match is undefined at run time, whatever the type says.
        return match.slice(1).map((value) => (value as string | undefined) ?? '');
      });
    },
  },
  regex_escape: { params: ['re_type'], apply: (input) => toText(input).replace(pythonSpecials, (char) => `\\${char}`) },
};
