// Parses YAML with positions and turns paths (ajv instancePaths, JSON pointers) into file:line:col.
//
// YAML version: Ansible reads YAML 1.1 (PyYAML), so `yes`/`no`/`on`/`off` are booleans and `0644` is the
// octal number 420. Users bring Ansible files and habits, so we parse as YAML 1.1 too and the same file
// means the same thing in both tools. `mode: 0644` reaches modules as the string '0644' (never as 420 or 644,
// which a module could not tell apart from a decimal mode). Two traps get a message instead of a silent surprise:
// `mode: 644` (decimal 644, i.e. octal 1204: an error) and base-60 numbers such as `1:20` (80: a warning).
// A file that declares `%YAML 1.2` is read as 1.2; a `mode: 0644` there reads as 644 and is an error.
// Timestamps stay strings (ajv and the templating layer expect JSON values, not Date objects).
import { CONFIG_FILE_LIMIT, FileReadError, decodeUtf8, readBoundedFile } from './bounded-read.js';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { ConfigProblem, SourceLocation } from '../errors.js';
import { relaxQuotedContinuations, type LineShift } from './pyyaml-continuations.js';
import { MAX_YAML_MARKS, overYamlLimit } from './yaml-size.js';

export type YamlPath = readonly (string | number)[];

export interface YamlSource {
  /** The file name as the user gave it; used in every message. */
  file: string;
  /** The text parsed (node ranges are offsets into it). */
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** Set when the text parsed is a PyYAML-compatible rewrite of the file: the file as written, for messages. */
  original?: { lines: string[]; shifts: Map<number, LineShift> };
}

export interface ParsedYaml {
  source: YamlSource;
  /** The plain JS value; `undefined` when the file has YAML errors (then `problems` says why). */
  value: unknown;
  problems: ConfigProblem[];
}

export interface ProblemFields {
  code: string;
  message: string;
  severity?: 'error' | 'warning';
  expected?: string;
  hint?: string;
}

const TIMESTAMP_TAG = 'tag:yaml.org,2002:timestamp';

/**
 * Parse YAML text as Ansible does (YAML 1.1); syntax errors and duplicate keys come back as problems. A file
 * that fails only where PyYAML is more lenient (tab-led continuation lines of a quoted scalar) is read as
 * PyYAML reads it (pyyaml-continuations.ts).
 */
export function parseYaml(file: string, text: string): ParsedYaml {
  const over = overYamlLimit(text);
  if (over !== undefined) return tooLarge(file, text, over);
  const strict = parseYamlText(file, text);
  if (strict.source.doc.errors.length === 0) return strict;
  const relaxed = relaxQuotedContinuations(text);
  if (relaxed.unclosed) return withUnclosedQuote(strict, relaxed.unclosed);
  if (relaxed.shifts.size === 0) return strict;
  const retried = parseYamlText(file, relaxed.text, { lines: text.split('\n'), shifts: relaxed.shifts });
  // Kept when it cured every syntax error; what remains (a duplicate key, say) is reported on the file as PyYAML reads it.
  return retried.source.doc.errors.length === 0 ? retried : strict;
}

/** Refused before parsing (yaml-size.ts), pointing at the line where the limit was passed. */
function tooLarge(file: string, text: string, offset: number): ParsedYaml {
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
  const source: YamlSource = { file, text, doc: parseDocument(''), lineCounter };
  const problem = problemAtOffset(source, offset, {
    code: 'yaml.too-large',
    message: `YAML: more than ${MAX_YAML_MARKS.toLocaleString('en-US')} lines and flow items (",", "[", "{") by here; the file is not parsed`,
    hint: 'split it: import_tasks or roles for a playbook, an inventory folder or an INI file for an inventory',
  });
  return { source, value: undefined, problems: [problem] };
}

/** yaml reports a quote never closed at the end of the file; the place to fix is where it opened. */
function withUnclosedQuote(parsed: ParsedYaml, at: { line: number; col: number }): ParsedYaml {
  const { source } = parsed;
  const missing = parsed.problems.findIndex((p) => p.code === 'yaml.missing-char' && p.message.includes('quote'));
  if (missing === -1) return parsed;
  const problems = [...parsed.problems];
  problems[missing] = withLocation(
    source,
    { file: source.file, line: at.line, col: at.col },
    {
      code: 'yaml.unclosed-quote',
      message: 'YAML: this quote is never closed',
      hint: 'close the quote; a quoted value may continue on the next lines, but it must end with the same quote',
    },
  );
  return { ...parsed, problems };
}

function parseYamlText(file: string, text: string, original?: YamlSource['original']): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    version: '1.1',
    customTags: (tags) => tags.filter((tag) => typeof tag === 'string' || tag.tag !== TIMESTAMP_TAG),
    prettyErrors: false,
    // yaml's own duplicate-key check compares every key with every earlier one (quadratic: a 5 MB
    // inventory takes minutes); lintYaml finds duplicates with one Map per mapping instead.
    uniqueKeys: false,
  });
  const source: YamlSource = { file, text, doc, lineCounter, ...(original ? { original } : {}) };
  const problems: ConfigProblem[] = [];
  for (const error of doc.errors) problems.push(yamlErrorProblem(source, error.code, error.message, error.pos[0]));
  for (const warning of doc.warnings) {
    if (warning.code === 'TAG_RESOLVE_FAILED') problems.push(unknownTagProblem(source, warning.pos[0]));
    else problems.push(problemAtOffset(source, warning.pos[0], { code: 'yaml.warning', severity: 'warning', message: firstLine(warning.message) }));
  }
  problems.push(...lintYaml(source));
  if (problems.some((p) => p.severity === 'error')) return { source, value: undefined, problems };
  try {
    return { source, value: doc.toJS(), problems };
  } catch (error) {
    // yaml refuses to expand aliases beyond a limit (the "billion laughs" document).
    problems.push(
      problemAtOffset(source, 0, { code: 'yaml.aliases', message: `YAML: ${(error as Error).message}`, hint: 'use fewer aliases (*name)' }),
    );
    return { source, value: undefined, problems };
  }
}

/**
 * Read a configuration file as UTF-8 text, bounded (a FIFO or /dev/zero must not hang or fill memory).
 * An unreadable file or a byte that is not UTF-8 becomes a problem naming the file (and line) instead.
 */
export async function readConfigText(file: string, hint = 'check the path'): Promise<{ text: string } | { problem: ConfigProblem }> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedFile(file, CONFIG_FILE_LIMIT);
  } catch (error) {
    const reason = error instanceof FileReadError ? error.reason : (error as Error).message;
    return { problem: { severity: 'error', code: 'file.unreadable', message: `cannot read ${file}: ${reason}`, hint } };
  }
  const decoded = decodeUtf8(bytes);
  if ('text' in decoded) return decoded;
  const { line, col, byte } = decoded.problem;
  return {
    problem: {
      severity: 'error',
      code: 'file.not-utf8',
      message: `${file} is not UTF-8 text: byte 0x${byte.toString(16).padStart(2, '0')} cannot be decoded`,
      hint: 'save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)',
      loc: { file, line, col },
      lineText: (bytes.toString('utf8').split('\n')[line - 1] ?? '').replace(/\r$/, ''),
    },
  };
}

/** Read and parse a file; an unreadable file becomes a problem rather than an exception. */
export async function readYaml(file: string): Promise<ParsedYaml> {
  const read = await readConfigText(file);
  if ('problem' in read) {
    const source: ParsedYaml['source'] = { file, text: '', doc: parseDocument(''), lineCounter: new LineCounter() };
    return { source, value: undefined, problems: [read.problem] };
  }
  return parseYaml(file, read.text);
}

/** Split a JSON pointer (`/all/hosts/a~1b`) into its unescaped segments. */
export function pointerToPath(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return pointer === '/' ? [''] : [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** 1-based line and column of a character offset (in the file as written). */
export function locationAt(source: YamlSource, offset: number): SourceLocation {
  const { line, col } = source.lineCounter.linePos(Math.max(0, Math.min(offset, source.text.length)));
  const shift = source.original?.shifts.get(line);
  if (shift && col > shift.newPrefix) return { file: source.file, line, col: col - shift.delta };
  if (shift) return { file: source.file, line, col: Math.min(col, shift.newPrefix - shift.delta + 1) };
  return { file: source.file, line, col };
}

/** The text of a 1-based line as written, without its line ending. */
export function lineTextAt(source: YamlSource, line: number): string {
  if (source.original) return (source.original.lines[line - 1] ?? '').replace(/\r$/, '');
  const start = source.lineCounter.lineStarts[line - 1];
  if (start === undefined) return '';
  const end = source.text.indexOf('\n', start);
  return source.text.slice(start, end === -1 ? undefined : end).replace(/\r$/, '');
}

function keyEquals(key: unknown, segment: string | number): boolean {
  if (isScalar(key)) return String(key.value) === String(segment);
  return false;
}

/** The pair holding `path`'s last segment (when its parent is a mapping). */
export function pairAt(source: YamlSource, path: YamlPath): Pair | undefined {
  if (path.length === 0) return undefined;
  const parent = nodeAt(source, path.slice(0, -1));
  const last = path[path.length - 1] as string | number;
  if (!isMap(parent)) return undefined;
  return pairWithKey(parent, last);
}

/** Large mappings get an index, so locating every host of a 50,000-host inventory stays linear overall. */
const INDEXED_MAP_SIZE = 32;
const mapIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

/** The first pair whose key equals `segment` (as keyEquals compares). */
function pairWithKey(map: YAMLMap, segment: string | number): Pair | undefined {
  if (map.items.length < INDEXED_MAP_SIZE) return map.items.find((pair) => keyEquals(pair.key, segment));
  let index = mapIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) {
      if (!isScalar(pair.key)) continue;
      const name = String(pair.key.value);
      if (!index.has(name)) index.set(name, pair);
    }
    mapIndexes.set(map, index);
  }
  return index.get(String(segment));
}

/** The node at `path` (mapping keys as strings, sequence indexes as numbers or digit strings). */
export function nodeAt(source: YamlSource, path: YamlPath): Node | undefined {
  let node: unknown = source.doc.contents;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(source.doc);
    if (isMap(node)) {
      const pair = pairWithKey(node, segment);
      if (!pair) return undefined;
      node = pair.value;
    } else if (isSeq(node)) {
      const index = typeof segment === 'number' ? segment : Number.parseInt(segment, 10);
      node = node.items[index];
    } else {
      return undefined;
    }
    if (node === undefined || node === null) return undefined;
  }
  return isNode(node) ? node : undefined;
}

function isNode(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

/**
 * Where `path` is in the file. `target: 'key'` points at the mapping key (used for unknown keys);
 * a path that does not exist falls back to its nearest existing ancestor (used for missing keys).
 */
export function locate(source: YamlSource, path: YamlPath, target: 'key' | 'value' = 'value'): SourceLocation {
  for (let length = path.length; length >= 0; length--) {
    const prefix = path.slice(0, length);
    if (target === 'key' && length === path.length) {
      const pair = pairAt(source, prefix);
      if (pair && isNode(pair.key) && pair.key.range) return locationAt(source, pair.key.range[0]);
    }
    const node = length === 0 ? (source.doc.contents as Node | null) : nodeAt(source, prefix);
    const emptyValue = isScalar(node) && node.value === null && !node.source;
    if (node?.range && !emptyValue) return locationAt(source, node.range[0]);
    // A key with an empty value (`hosts:`) has no value node: point at the key.
    const pair = pairAt(source, prefix);
    if (pair && isNode(pair.key) && pair.key.range) return locationAt(source, pair.key.range[0]);
  }
  return { file: source.file, line: 1, col: 1 };
}

/** A problem located at `path`, with the offending line attached for the caret display. */
export function problemAt(source: YamlSource, path: YamlPath, fields: ProblemFields, target: 'key' | 'value' = 'value'): ConfigProblem {
  return withLocation(source, locate(source, path, target), fields);
}

/** A problem pointing at `needle` inside the scalar at `path` (e.g. `sate=` in `service: name=etcd sate=on`). */
export function problemWithin(source: YamlSource, path: YamlPath, needle: string, fields: ProblemFields): ConfigProblem {
  const node = nodeAt(source, path);
  if (node?.range) {
    const index = source.text.slice(node.range[0], node.range[1]).indexOf(needle);
    if (index >= 0) return problemAtOffset(source, node.range[0] + index, fields);
  }
  return problemAt(source, path, fields);
}

export function problemAtOffset(source: YamlSource, offset: number, fields: ProblemFields): ConfigProblem {
  return withLocation(source, locationAt(source, offset), fields);
}

export function withLocation(source: YamlSource, loc: SourceLocation, fields: ProblemFields): ConfigProblem {
  const problem: ConfigProblem = {
    severity: fields.severity ?? 'error',
    code: fields.code,
    message: fields.message,
    loc,
    lineText: lineTextAt(source, loc.line),
  };
  if (fields.expected !== undefined) problem.expected = fields.expected;
  if (fields.hint !== undefined) problem.hint = fields.hint;
  return problem;
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? message;
}

const yamlHints: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs for indentation',
  BAD_INDENT: 'align this line with the other keys of its mapping (use spaces, the same number as its siblings)',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line and be followed by ": "; check for a missing colon or an unclosed quote above',
  MISSING_CHAR: 'close the quote, bracket or brace that was opened before this point',
  BAD_DQ_ESCAPE: 'in double quotes a backslash starts an escape; use single quotes or write \\\\',
  MULTIPLE_DOCS: 'keep one YAML document per file (remove the extra `---`)',
  BLOCK_AS_IMPLICIT_KEY: 'put a space after the colon of the key above, or quote the value',
  UNEXPECTED_TOKEN: 'quote values that start with {{, *, &, !, @, ` or contain ": " or " #"',
};

function yamlErrorProblem(source: YamlSource, code: string, message: string, offset: number): ConfigProblem {
  const fields: ProblemFields = { code: `yaml.${code.toLowerCase().replaceAll('_', '-')}`, message: `YAML: ${firstLine(message)}` };
  const hint = yamlHints[code] ?? 'check the indentation and quoting on this line and the one before it';
  fields.hint = hint;
  return problemAtOffset(source, offset, fields);
}

/** A tag we cannot honour would silently become a plain string: Ansible's `!vault` ciphertext, `!unsafe` text. */
function unknownTagProblem(source: YamlSource, offset: number): ConfigProblem {
  const tag = /^!\S*/.exec(source.text.slice(offset))?.[0] ?? '!';
  const hints: Record<string, string> = {
    '!vault': 'Ansible Vault is not supported: keep secrets in files readable only by the deploy user and refer to their paths',
    '!unsafe': 'orchestrate would template this value; write it without {{ }} instead',
  };
  return problemAtOffset(source, offset, {
    code: 'yaml.unknown-tag',
    message: `the YAML tag ${tag} is not supported`,
    hint: hints[tag] ?? `remove ${tag}`,
  });
}

/** Keys equal as yaml's uniqueKeys compares them (same scalar value, same type), found in linear time. */
function duplicateKeyProblems(source: YamlSource, map: YAMLMap): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, number>();
  for (const pair of map.items) {
    const key = pair.key;
    if (!isScalar(key) || !key.range) continue;
    const id = `${typeof key.value}:${String(key.value)}`;
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, key.range[0]);
      continue;
    }
    problems.push(
      problemAtOffset(source, key.range[0], {
        code: 'yaml.duplicate-key',
        message: `duplicate key "${String(key.value)}" (first defined on line ${locationAt(source, first).line})`,
        hint: 'keep one of them; YAML (and Ansible) would silently use only one value',
      }),
    );
  }
  return problems;
}

/** Checks for YAML that parses but almost certainly does not mean what was written. */
function lintYaml(source: YamlSource): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { text } = source;
  visit(source.doc, {
    Map(_key, map) {
      if (map.flow && map.range && text.startsWith('{{', map.range[0])) {
        problems.push(
          problemAtOffset(source, map.range[0], {
            code: 'yaml.unquoted-template',
            message: 'a value that starts with "{{" must be quoted',
            expected: 'a quoted string, e.g. "{{ name }}"',
            hint: 'wrap the whole value in double quotes; unquoted, YAML reads {{ ... }} as a mapping',
          }),
        );
        return visit.SKIP;
      }
      problems.push(...duplicateKeyProblems(source, map));
      for (const pair of map.items) {
        const key = pair.key;
        if (key !== null && !isScalar(key) && isNode(key) && key.range) {
          problems.push(
            problemAtOffset(source, key.range[0], {
              code: 'yaml.complex-key',
              message: 'a mapping key must be plain text, not a list or a mapping',
              hint: 'quote the key, or check for a stray "?", "[" or "{"',
            }),
          );
        }
      }
      return undefined;
    },
    Pair(_key, pair) {
      // `mode`, and Ansible's `directory_mode` and the like.
      if (!isScalar(pair.key) || !/^(.+_)?mode$/.test(String(pair.key.value)) || !isScalar(pair.value)) return;
      const keyName = String(pair.key.value);
      const value = pair.value;
      const written = value.source ?? '';
      if (typeof value.value !== 'number' || value.type !== 'PLAIN' || !value.range) return;
      if (value.format === 'OCT' && /^0[0-7]+$/.test(written)) {
        // YAML 1.1 octal, as Ansible means it: hand it on as the text written ('0644'), which no module can misread.
        value.value = written;
        return;
      }
      const decimalOctalLookalike = /^[1-7][0-7]{2,3}$/.test(written);
      const octalReadAsDecimal = /^0[0-7]+$/.test(written) && value.value === Number.parseInt(written, 10);
      if (decimalOctalLookalike || octalReadAsDecimal) {
        const octal = value.value.toString(8).padStart(4, '0');
        problems.push(
          problemAtOffset(source, value.range[0], {
            code: 'yaml.decimal-mode',
            message: `${keyName} ${written} is read as the decimal number ${value.value} (octal ${octal}), not as octal ${written}`,
            expected: 'an octal file mode such as 0644, preferably quoted',
            hint: `write ${keyName}: '${written.startsWith('0') ? written : `0${written}`}' (quoted, as Ansible recommends)`,
          }),
        );
      }
    },
    Scalar(_key, scalar) {
      if (scalar.format === 'TIME' && typeof scalar.value === 'number' && scalar.range) {
        problems.push(
          problemAtOffset(source, scalar.range[0], {
            code: 'yaml.base60-number',
            severity: 'warning',
            message: `${scalar.source ?? ''} is read as the base-60 number ${scalar.value} (YAML 1.1, as Ansible reads it)`,
            hint: 'quote it if you mean text',
          }),
        );
      }
    },
  });
  return problems;
}
