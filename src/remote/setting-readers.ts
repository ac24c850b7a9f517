// Small readers for the keys of a settings mapping; each reports a problem naming the key and the fix.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { expandHome } from '../config/connection.js';
import type { Inventory } from '../config/types.js';
import type { RemoteProblem } from './settings-types.js';

// eslint-disable-next-line no-control-regex -- control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A reporter bound to one variable: `problem(['bucket'], {...})` names `backup_remote.bucket`. */
export type ProblemSink = (
  keys: string[],
  fields: Omit<RemoteProblem, 'variable' | 'path' | 'severity'> & { severity?: 'error' | 'warning' },
) => void;

export function problemSink(root: string, problems: RemoteProblem[]): ProblemSink {
  return (keys, fields) => problems.push({ severity: 'error', ...fields, variable: [root, ...keys].join('.'), path: [root, ...keys] });
}

export function readString(map: Record<string, unknown>, key: string, problem: ProblemSink): string | undefined {
  const value = map[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    problem([key], {
      code: 'remote.not-a-string',
      message: `${key} must be a non-empty string`,
      expected: 'a string',
      fix: `write ${key} as a plain value`,
    });
    return undefined;
  }
  if (value.includes('{{') || value.includes('{%')) {
    problem([key], {
      code: 'remote.templated',
      message: `${key} is read by orchestrate itself and cannot be a template`,
      expected: 'a literal value',
      fix: `write the value of ${key} out in full`,
    });
    return undefined;
  }
  if (CONTROL.test(value)) {
    problem([key], {
      code: 'remote.control-character',
      message: `${key} contains a control character`,
      expected: 'printable text',
      fix: `remove the control character from ${key}`,
    });
    return undefined;
  }
  return value;
}

export function readBoolean(map: Record<string, unknown>, key: string, fallback: boolean, problem: ProblemSink): boolean {
  const value = map[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  problem([key], {
    code: 'remote.not-a-boolean',
    message: `${key} must be true or false`,
    expected: 'true or false',
    fix: `write ${key}: true or ${key}: false`,
  });
  return fallback;
}

/** A file path (relative to the inventory folder, ~ expanded) that must exist and be a regular file. */
export function readFile(inventory: Inventory, map: Record<string, unknown>, key: string, problem: ProblemSink): string | undefined {
  const text = readString(map, key, problem);
  if (text === undefined) return undefined;
  const path = resolve(inventory.dir, expandHome(text));
  try {
    if (statSync(path).isFile()) return path;
    problem([key], {
      code: 'remote.not-a-file',
      message: `${key} ${path} is not a regular file`,
      expected: 'the path of a file',
      fix: `point ${key} at the file`,
    });
  } catch (error) {
    problem([key], {
      code: 'remote.file-missing',
      message: `${key} ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      expected: 'an existing file (relative paths are relative to the inventory folder)',
      fix: `create the file or correct the path in ${key}`,
    });
  }
  return undefined;
}
