// `-e key=value`, `-e '{"json": true}'` and `-e @file.yml`: later ones win, as in Ansible.
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { Vars } from '../config/types.js';
import { parseYaml, readConfigText } from '../config/yaml-source.js';
import { ConfigError, UsageError } from '../errors.js';
import { ArgumentFormError, parseKeyValues } from './args.js';

export async function parseExtraVars(values: readonly string[], cwd = process.cwd()): Promise<Vars> {
  const vars: Vars = {};
  for (const value of values) Object.assign(vars, await parseOne(value, cwd));
  return vars;
}

async function parseOne(value: string, cwd: string): Promise<Vars> {
  const text = value.trim();
  if (text.startsWith('@')) {
    const file = resolve(cwd, text.slice(1));
    const read = await readConfigText(file);
    if ('problem' in read) throw new UsageError(`-e ${value}: ${read.problem.message}`, read.problem.hint);
    // As Ansible reads it (YAML 1.1: `yes` is true), with any problem at file:line:col (kubeasz's config.yml).
    const parsed = parseYaml(file, read.text);
    if (parsed.problems.some((p) => p.severity === 'error')) throw new ConfigError(parsed.problems);
    return mappingValue(parsed.value, `-e ${value}`);
  }
  if (text.startsWith('{')) return mappingOf(text, `-e ${value}`);
  try {
    return parseKeyValues(text, '-e');
  } catch (error) {
    if (error instanceof ArgumentFormError)
      throw new UsageError(`-e ${value}: expected key=value, a JSON/YAML mapping or @file`, 'for example: -e etcd_port=2379');
    throw error;
  }
}

function mappingOf(text: string, what: string): Vars {
  let parsed: unknown;
  try {
    parsed = parse(text, { version: '1.1' });
  } catch (error) {
    throw new UsageError(`${what}: not valid YAML or JSON: ${(error as Error).message}`);
  }
  return mappingValue(parsed, what);
}

function mappingValue(parsed: unknown, what: string): Vars {
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${what}: must be a mapping of variable names to values`);
  return parsed as Vars;
}
