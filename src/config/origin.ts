// Where a value of a loaded inventory was written, whatever the format: a path into a YAML document (located
// only when a problem needs it) or a line and column of an INI file. Checks report problems at origins.
import type { ConfigProblem, SourceLocation } from '../errors.js';
import { locate, withLocation, type ProblemFields, type YamlPath, type YamlSource } from './yaml-source.js';

export type Origin = YamlOrigin | TextOrigin;

export interface YamlOrigin {
  kind: 'yaml';
  source: YamlSource;
  path: YamlPath;
  /** Point at the mapping key (a host or group name) or at the value (a variable). */
  target: 'key' | 'value';
}

export interface TextOrigin {
  kind: 'text';
  loc: SourceLocation;
  /** The whole line, for the caret display. */
  lineText: string;
}

export function yamlOrigin(source: YamlSource, path: YamlPath, target: 'key' | 'value' = 'value'): YamlOrigin {
  return { kind: 'yaml', source, path, target };
}

export function textOrigin(file: string, line: number, col: number, lineText: string): TextOrigin {
  return { kind: 'text', loc: { file, line, col }, lineText };
}

export function originLocation(origin: Origin): SourceLocation {
  return origin.kind === 'yaml' ? locate(origin.source, origin.path, origin.target) : origin.loc;
}

/** A problem pointing at `origin`, with its line for the caret display. */
export function problemAtOrigin(origin: Origin, fields: ProblemFields): ConfigProblem {
  if (origin.kind === 'yaml') return withLocation(origin.source, locate(origin.source, origin.path, origin.target), fields);
  const problem: ConfigProblem = {
    severity: fields.severity ?? 'error',
    code: fields.code,
    message: fields.message,
    loc: origin.loc,
    lineText: origin.lineText,
  };
  if (fields.expected !== undefined) problem.expected = fields.expected;
  if (fields.hint !== undefined) problem.hint = fields.hint;
  return problem;
}
