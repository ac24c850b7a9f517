// Ansible's YAML inventory: groups, nested children, host and group variables, read into an InventoryModel.
import type { ConfigProblem } from '../errors.js';
import { isMap, isScalar } from 'yaml';
import { InventoryModel } from './inventory-assemble.js';
import { yamlOrigin, type Origin } from './origin.js';
import { configValidator, translateAjvErrors } from './schema-validation.js';
import { nodeAt, parseYaml, problemAt, type YamlPath, type YamlSource } from './yaml-source.js';

export interface ReadInventory {
  model?: InventoryModel;
  problems: ConfigProblem[];
  /** False when the file's shape is invalid (group-level checks then wait for a valid shape). */
  shapeOk: boolean;
  fileOrigin: Origin;
}

/** Parse and check the shape of a YAML inventory; the model is built even with schema errors, so every problem shows at once. */
export function readYamlInventory(file: string, text: string): ReadInventory {
  const parsed = parseYaml(file, text);
  const { source } = parsed;
  const problems = [...parsed.problems];
  const fileOrigin = yamlOrigin(source, []);
  if (problems.some((p) => p.severity === 'error')) return { problems, shapeOk: false, fileOrigin };
  const value = parsed.value;
  if (!isRecord(value)) {
    const what = value === null || value === undefined ? 'empty' : Array.isArray(value) ? 'a list (a playbook?)' : 'a single value';
    problems.push(
      problemAt(source, [], {
        code: 'inventory.not-a-mapping',
        message: `an inventory must be a mapping of groups, but this file is ${what}`,
        expected: 'a YAML inventory starting with `all:`, or an INI inventory starting with a [group] line',
        hint: 'see inventories/example.yml for the format',
      }),
    );
    return { problems, shapeOk: false, fileOrigin };
  }
  const validate = configValidator('inventory');
  const shapeOk = validate(value);
  if (!shapeOk) {
    for (const issue of translateAjvErrors(validate.errors, { codePrefix: 'inventory', describe: describeInventoryPath })) {
      problems.push(problemAt(source, issue.path, issue.fields, issue.target));
    }
  }
  // Building only reads values of the right type, so the semantic checks can run on a file with schema errors too.
  return { model: buildModel(source, value), problems, shapeOk, fileOrigin };
}

export function describeInventoryPath(instancePath: string[]): string | undefined {
  const last = instancePath[instancePath.length - 2];
  const name = instancePath[instancePath.length - 1];
  if (last === 'hosts' && name !== undefined) return `host "${name}"`;
  if ((last === 'children' || instancePath.length === 1) && name !== undefined) return `group "${name}"`;
  if (instancePath.length === 0) return 'the inventory';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function buildModel(source: YamlSource, root: Record<string, unknown>): InventoryModel {
  const model = new InventoryModel();
  const mergeVars = (target: Map<string, { value: unknown; origin: Origin }>, vars: unknown, varsPath: YamlPath): void => {
    if (!isRecord(vars)) return;
    for (const [key, value] of Object.entries(vars)) target.set(key, { value, origin: yamlOrigin(source, [...varsPath, key]) });
  };

  const walkGroup = (name: string, body: unknown, groupPath: YamlPath, parent: string | undefined): void => {
    const group = model.group(name, yamlOrigin(source, groupPath, 'key'));
    if (parent !== undefined) model.link(parent, name, yamlOrigin(source, groupPath, 'key'));
    if (!isRecord(body)) return;
    if (isRecord(body.hosts)) {
      for (const [hostName, hostVars] of entriesInFileOrder(source, [...groupPath, 'hosts'], body.hosts)) {
        const hostPath = [...groupPath, 'hosts', hostName];
        const host = model.host(hostName, yamlOrigin(source, hostPath, 'key'));
        group.hosts.add(hostName);
        // A host listed in several groups: Ansible merges its host vars, later mentions winning.
        mergeVars(host.vars, hostVars, hostPath);
      }
    }
    mergeVars(group.vars, body.vars, [...groupPath, 'vars']);
    if (isRecord(body.children)) {
      for (const [childName, childBody] of entriesInFileOrder(source, [...groupPath, 'children'], body.children)) {
        walkGroup(childName, childBody, [...groupPath, 'children', childName], name);
      }
    }
  };

  model.group('all');
  for (const [name, body] of entriesInFileOrder(source, [], root)) {
    if (name === 'all') walkGroup('all', body, ['all'], undefined);
    else walkGroup(name, body, [name], 'all');
  }
  return model;
}

/** A mapping's entries in the order written: JS objects put integer-like keys (a host named `1`) first. */
function entriesInFileOrder(source: YamlSource, at: YamlPath, object: Record<string, unknown>): [string, unknown][] {
  const node = nodeAt(source, at);
  const written = isMap(node) ? node.items.flatMap((pair) => (isScalar(pair.key) ? [String(pair.key.value)] : [])) : [];
  const keys = [...new Set([...written.filter((key) => Object.hasOwn(object, key)), ...Object.keys(object)])];
  return keys.map((key) => [key, object[key]]);
}
