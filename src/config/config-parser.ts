// The INI dialect of Python's configparser as Ansible opens ansible.cfg with it (inline comments after `;`,
// strict): `[section]` headers, `key = value` or `key: value` (keys case-insensitive), values continued on
// more-indented lines, `#` and `;` comment lines. A duplicate section or key, or a line outside any section,
// is an error, as in Ansible. Values are taken raw: Ansible reads them without `%` interpolation.
import type { ConfigProblem } from '../errors.js';

export interface ConfigParserEntry {
  value: string;
  line: number;
  /** 1-based column where the value starts on its first line. */
  valueCol: number;
  lineText: string;
}

export interface ParsedConfig {
  sections: Map<string, Map<string, ConfigParserEntry>>;
  problems: ConfigProblem[];
}

const SECTION = /^\[(.+)\]/;
const OPTION = /^(.*?)\s*([=:])\s*(.*)$/;

export function parseConfigParser(file: string, text: string): ParsedConfig {
  const sections = new Map<string, Map<string, ConfigParserEntry>>();
  const problems: ConfigProblem[] = [];
  let current: Map<string, ConfigParserEntry> | undefined;
  let currentName = '';
  let entry: { key: string; lines: string[]; indent: number } | undefined;
  const lines = text.split('\n');
  const problem = (line: number, col: number, message: string, hint: string): void => {
    problems.push({
      severity: 'error',
      code: 'ansible-cfg.syntax',
      message,
      hint,
      loc: { file, line, col },
      lineText: lines[line - 1]?.replace(/\r$/, '') ?? '',
    });
  };
  const close = (): void => {
    if (entry && current) {
      const stored = current.get(entry.key);
      if (stored) stored.value = entry.lines.join('\n').trimEnd();
    }
    entry = undefined;
  };
  for (const [index, raw] of lines.entries()) {
    const lineNumber = index + 1;
    const line = raw.replace(/\r$/, '');
    const value = withoutComment(line).trim();
    const indent = line.length - line.trimStart().length;
    if (value === '') {
      // An empty line inside a value is kept; a comment line is not part of anything.
      if (entry && !isCommentLine(line)) entry.lines.push('');
      continue;
    }
    if (entry && indent > entry.indent) {
      entry.lines.push(value);
      continue;
    }
    close();
    const section = SECTION.exec(value);
    if (section) {
      currentName = section[1] as string;
      if (sections.has(currentName)) {
        problem(lineNumber, indent + 1, `section [${currentName}] appears twice`, 'merge the two sections into one');
        current = sections.get(currentName);
      } else {
        current = new Map();
        sections.set(currentName, current);
      }
      continue;
    }
    if (!current) {
      problem(lineNumber, indent + 1, 'a setting before any [section]', 'put settings under [defaults]');
      continue;
    }
    const option = OPTION.exec(value);
    if (!option) {
      problem(lineNumber, indent + 1, `"${value}" is not "key = value"`, 'write key = value, or start the line with # to make it a comment');
      continue;
    }
    const key = (option[1] as string).trimEnd().toLowerCase();
    const optionValue = (option[3] as string).trim();
    if (current.has(key)) {
      problem(lineNumber, indent + 1, `${key} is set twice in [${currentName}]`, 'keep one of them');
      continue;
    }
    const valueCol = optionValue === '' ? line.length + 1 : line.indexOf(optionValue, line.indexOf(option[2] as string)) + 1;
    current.set(key, { value: optionValue, line: lineNumber, valueCol, lineText: line });
    entry = { key, lines: [optionValue], indent };
  }
  close();
  return { sections, problems };
}

function isCommentLine(line: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith('#') || trimmed.startsWith(';');
}

/** The line without a full-line comment, or without an inline `;` comment (one preceded by whitespace). */
function withoutComment(line: string): string {
  if (isCommentLine(line)) return '';
  for (let index = line.indexOf(';'); index !== -1; index = line.indexOf(';', index + 1)) {
    if (index === 0 || /\s/.test(line[index - 1] as string)) return line.slice(0, index);
  }
  return line;
}
