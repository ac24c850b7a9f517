// Ansible's INI inventory, read as Ansible's `ini` plugin reads it, into the same InventoryModel as YAML:
//   [group]            hosts, one per line: `name[:port] key=value ...` (shlex words; ranges expanded)
//   [group:vars]       one `key=value` per line, the whole rest of the line being the value
//   [group:children]   one group name per line
// Lines before any section are hosts of `ungrouped`; `#` and `;` start comment lines. Values are typed by
// Python's literal_eval (python-literal.ts): on a host line after shlex has removed one level of quotes (so
// `port="22"` is the number 22), in a :vars section as written (so `port="22"` stays the text "22").
// A group named in :vars or :children must be declared by a [group] or [group:children] section somewhere.
import type { ConfigProblem } from '../errors.js';
import { ExpandedHosts, HostRangeError, expandHostPattern } from './host-ranges.js';
import { InventoryModel, type VarEntry } from './inventory-assemble.js';
import { textOrigin, problemAtOrigin, type Origin, type TextOrigin } from './origin.js';
import { iniValue } from './python-literal.js';
import { configValidator, translateAjvErrors } from './schema-validation.js';
import { ShlexError, shlexSplit } from './shlex-split.js';
import { didYouMean } from './suggest.js';
import { describeInventoryPath, type ReadInventory } from './yaml-inventory.js';
import type { ProblemFields } from './yaml-source.js';

const SECTION = /^\[([^:\]\s]+)(?::([\p{L}\p{N}_]+))?\]\s*(?:#.*)?$/u;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

/** Where a value of the shape handed to the schema was written: its key and its value. */
interface ShapeOrigin {
  key: Origin;
  value: Origin;
}

class IniReader {
  readonly model = new InventoryModel();
  readonly problems: ConfigProblem[] = [];
  /** The inventory in the YAML inventory's shape, for the same schema checks: group -> hosts/vars/children. */
  readonly shape: Record<string, { hosts: Record<string, Record<string, unknown>>; vars: Record<string, unknown>; children: Record<string, null> }> =
    Object.create(null) as IniReader['shape'];
  readonly shapeOrigins = new Map<string, ShapeOrigin>();
  /** Groups declared by [group] or [group:children]; only they may be named by :vars and :children. */
  private readonly declared = new Set(['all', 'ungrouped']);
  private readonly sections = new Set<string>();
  private readonly varsSections: { group: string; origin: Origin }[] = [];
  private readonly childReferences: { parent: string; child: string; origin: Origin }[] = [];
  private readonly groupVarLines = new Map<string, Map<string, number>>();
  private group = 'ungrouped';
  private state: 'hosts' | 'vars' | 'children' = 'hosts';
  private lineNumber = 0;
  private line = '';

  constructor(readonly file: string) {
    this.model.group('all');
    this.model.group('ungrouped');
    this.shapeGroup('all');
  }

  at(col: number): TextOrigin {
    return textOrigin(this.file, this.lineNumber, col, this.line);
  }

  report(col: number, fields: ProblemFields): void {
    this.problems.push(problemAtOrigin(this.at(col), fields));
  }

  read(text: string): void {
    const lines = text.split('\n');
    for (const [index, raw] of lines.entries()) {
      this.lineNumber = index + 1;
      this.line = raw.replace(/\r$/, '');
      const stripped = this.line.trim();
      if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) continue;
      const col = this.line.indexOf(stripped) + 1;
      const section = SECTION.exec(stripped);
      if (section) this.section(section[1] as string, section[2], col);
      else if (stripped.startsWith('[') && stripped.endsWith(']')) {
        this.report(col, {
          code: 'inventory.ini-section',
          message: `"${stripped}" is not a valid section`,
          expected: '[group], [group:vars] or [group:children], without spaces',
          hint: 'remove the spaces or other characters inside the brackets',
        });
      } else if (this.state === 'hosts') this.hostLine(stripped, col);
      else if (this.state === 'vars') this.varLine(stripped, col);
      else this.childLine(stripped, col);
    }
    this.finish();
  }

  private shapeGroup(name: string): IniReader['shape'][string] {
    let group = this.shape[name];
    if (!group) {
      group = {
        hosts: Object.create(null) as Record<string, Record<string, unknown>>,
        vars: Object.create(null) as Record<string, unknown>,
        children: {},
      };
      this.shape[name] = group;
    }
    return group;
  }

  private section(name: string, type: string | undefined, col: number): void {
    const state = type ?? 'hosts';
    if (state !== 'hosts' && state !== 'vars' && state !== 'children') {
      this.report(col + name.length + 2, {
        code: 'inventory.ini-section',
        message: `section [${name}:${state}] has an unknown type "${state}"`,
        expected: '[group], [group:vars] or [group:children]',
      });
      // Lines up to the next section cannot be read as anything; skip them rather than report each.
      this.state = 'vars';
      this.group = '\u0000skip';
      return;
    }
    this.group = name;
    this.state = state;
    const group = this.model.group(name, this.at(col + 1));
    // A group first met as someone's child is located at its own section once there is one.
    if (!this.sections.has(name)) group.origin = this.at(col + 1);
    this.sections.add(name);
    this.shapeOrigins.set(name, { key: this.at(col + 1), value: this.at(col + 1) });
    this.shapeGroup(name);
    if (state === 'vars') this.varsSections.push({ group: name, origin: this.at(col + 1) });
    else this.declared.add(name);
  }

  private hostLine(stripped: string, col: number): void {
    let words;
    try {
      words = shlexSplit(stripped);
    } catch (error) {
      if (!(error instanceof ShlexError)) throw error;
      this.report(col + error.at, {
        code: 'inventory.ini-quote',
        message: error.message === 'No closing quotation' ? 'this quote is never closed' : 'a backslash ends the line with nothing to escape',
        expected: 'host [key=value ...] with each quote closed on the same line',
        hint:
          error.message === 'No closing quotation' ? 'close the quote, or escape it with a backslash' : 'remove the backslash at the end of the line',
      });
      return;
    }
    const [first, ...rest] = words;
    if (!first) return;
    let expanded: ExpandedHosts;
    try {
      expanded = expandHostPattern(first.text);
    } catch (error) {
      if (!(error instanceof HostRangeError)) throw error;
      this.report(col + first.start, {
        code: 'inventory.ini-host',
        message: error.message,
        expected: 'a host name, an address, or a range such as node[1:3]',
      });
      return;
    }
    if (expanded.hosts.some((host) => host === '')) {
      this.report(col + first.start, { code: 'inventory.ini-host', message: 'a host name cannot be empty', expected: 'a host name or an address' });
      return;
    }
    const hostOrigin = this.at(col + first.start);
    const vars: { key: string; entry: VarEntry; keyOrigin: Origin }[] = [];
    const seen = new Set<string>();
    for (const word of rest) {
      const equals = word.text.indexOf('=');
      if (equals === -1) {
        this.report(col + word.start, {
          code: 'inventory.ini-host-var',
          message: `"${word.text}" is not a key=value host variable`,
          expected: 'key=value after the host name (quote values that contain blanks)',
          hint: `write ${word.text}=VALUE, or put a # before a comment`,
        });
        continue;
      }
      const key = word.text.slice(0, equals);
      const keyOrigin = this.at(col + word.start);
      const valueOrigin = this.at(col + word.start + equals + 1);
      if (seen.has(key)) this.duplicateWarning(keyOrigin, `${key} is set twice on this line; the later value wins, as in Ansible`);
      seen.add(key);
      vars.push({ key, entry: { value: coerce(key, iniValue(word.text.slice(equals + 1))), origin: valueOrigin }, keyOrigin });
    }
    const group = this.model.group(this.group);
    const shapeHosts = this.shapeGroup(this.group).hosts;
    for (const name of expanded.hosts) {
      const known = this.model.hosts.has(name);
      const host = this.model.host(name, hostOrigin);
      group.hosts.add(name);
      const shapeVars = (shapeHosts[name] ??= Object.create(null) as Record<string, unknown>);
      const hostPath = [this.group, 'hosts', name];
      if (!this.shapeOrigins.has(hostPath.join('\u0000'))) this.shapeOrigins.set(hostPath.join('\u0000'), { key: hostOrigin, value: hostOrigin });
      // As in Ansible, a port in the pattern counts only where the host is first seen.
      if (!known && expanded.port !== undefined) {
        host.vars.set('ansible_port', { value: expanded.port, origin: hostOrigin });
        shapeVars.ansible_port = expanded.port;
        this.shapeOrigins.set([...hostPath, 'ansible_port'].join('\u0000'), { key: hostOrigin, value: hostOrigin });
      }
      for (const { key, entry, keyOrigin } of vars) {
        host.vars.set(key, entry);
        shapeVars[key] = entry.value;
        this.shapeOrigins.set([...hostPath, key].join('\u0000'), { key: keyOrigin, value: entry.origin });
      }
    }
  }

  private varLine(stripped: string, col: number): void {
    if (this.group === '\u0000skip') return;
    const equals = stripped.indexOf('=');
    if (equals === -1) {
      this.report(col, {
        code: 'inventory.ini-group-var',
        message: `"${stripped}" is not a key=value line`,
        expected: `one key=value per line in [${this.group}:vars]`,
      });
      return;
    }
    const key = stripped.slice(0, equals).trim();
    const valueText = stripped.slice(equals + 1);
    const valueCol = col + equals + 1 + (valueText.length - valueText.trimStart().length);
    const keyOrigin = this.at(col);
    const valueOrigin = this.at(valueCol);
    const lines = this.groupVarLines.get(this.group) ?? new Map<string, number>();
    this.groupVarLines.set(this.group, lines);
    const earlier = lines.get(key);
    if (earlier !== undefined)
      this.duplicateWarning(keyOrigin, `${key} is already set for group ${this.group} on line ${earlier}; this later value wins, as in Ansible`);
    lines.set(key, this.lineNumber);
    const value = coerce(key, iniValue(valueText.trim()));
    this.model.group(this.group).vars.set(key, { value, origin: valueOrigin });
    this.shapeGroup(this.group).vars[key] = value;
    this.shapeOrigins.set([this.group, 'vars', key].join('\u0000'), { key: keyOrigin, value: valueOrigin });
  }

  private childLine(stripped: string, col: number): void {
    const match = GROUP_NAME.exec(stripped);
    if (!match) {
      this.report(col, {
        code: 'inventory.ini-child',
        message: `"${stripped}" is not a group name`,
        expected: `one group name per line in [${this.group}:children]`,
      });
      return;
    }
    const child = match[1] as string;
    const origin = this.at(col);
    if (child === this.group || child === 'all' || this.descendants(child).has(this.group)) {
      this.report(col, {
        code: 'inventory.group-cycle',
        message: `group "${child}" cannot be a child of "${this.group}": it would be its own ancestor`,
        hint: `remove "${child}" from [${this.group}:children]`,
      });
      return;
    }
    this.model.group(child, origin);
    this.model.link(this.group, child, origin);
    this.shapeGroup(this.group).children[child] = null;
    this.shapeOrigins.set([this.group, 'children', child].join('\u0000'), { key: origin, value: origin });
    this.childReferences.push({ parent: this.group, child, origin });
  }

  private descendants(name: string): Set<string> {
    const found = new Set<string>();
    const stack = [name];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (found.has(next)) continue;
      found.add(next);
      for (const child of this.model.groups.get(next)?.children.keys() ?? []) stack.push(child);
    }
    return found;
  }

  private duplicateWarning(origin: Origin, message: string): void {
    this.problems.push(problemAtOrigin(origin, { severity: 'warning', code: 'inventory.ini-duplicate-var', message, hint: 'keep one of them' }));
  }

  /** Undeclared groups are errors, as in Ansible; every group without a parent becomes a child of `all`. */
  private finish(): void {
    for (const { group, origin } of this.varsSections) {
      if (this.declared.has(group)) continue;
      this.problems.push(
        problemAtOrigin(origin, {
          code: 'inventory.ini-undefined-group',
          message: `[${group}:vars] is for a group that is never declared`,
          expected: `a [${group}] or [${group}:children] section somewhere in the file`,
          hint:
            didYouMean(
              group,
              [...this.declared].filter((name) => name !== 'all' && name !== 'ungrouped'),
            ) ?? `add a [${group}] section (it may be empty), or check the spelling`,
        }),
      );
    }
    for (const { parent, child, origin } of this.childReferences) {
      if (this.declared.has(child)) continue;
      this.problems.push(
        problemAtOrigin(origin, {
          code: 'inventory.ini-undefined-group',
          message: `[${parent}:children] names group "${child}", which is never declared`,
          expected: `a [${child}] or [${child}:children] section somewhere in the file`,
          hint:
            didYouMean(
              child,
              [...this.declared].filter((name) => name !== 'all' && name !== 'ungrouped'),
            ) ?? `add a [${child}] section (it may be empty), or check the spelling`,
        }),
      );
    }
    for (const group of this.model.groups.values()) {
      if (group.name !== 'all' && group.name !== 'ungrouped' && group.parents.size === 0) {
        this.model.link('all', group.name, group.origin ?? this.at(1));
      }
    }
  }
}

/**
 * Ansible converts these when it uses them (`ansible_become=yes` becomes true, a port "22" the number 22);
 * orchestrate reads them as values, so they are converted here, where an INI file cannot write the type.
 */
function coerce(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (key === 'ansible_become') {
    const word = value.trim().toLowerCase();
    if (['yes', 'on', '1', 'true', 't', 'y'].includes(word)) return true;
    if (['no', 'off', '0', 'false', 'f', 'n'].includes(word)) return false;
  }
  if (['ansible_port', 'ansible_ssh_port', 'ansible_group_priority'].includes(key) && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return value;
}

export function readIniInventory(file: string, text: string): ReadInventory {
  const reader = new IniReader(file);
  reader.read(text);
  const problems = reader.problems;
  const validate = configValidator('inventory');
  const readOk = !problems.some((p) => p.severity === 'error');
  const shapeOk = validate(reader.shape);
  if (!shapeOk) {
    for (const issue of translateAjvErrors(validate.errors, { codePrefix: 'inventory', describe: describeInventoryPath })) {
      const found = reader.shapeOrigins.get(issue.path.join('\u0000')) ?? nearestOrigin(reader.shapeOrigins, issue.path);
      problems.push(problemAtOrigin(found ? found[issue.target] : textOrigin(file, 1, 1, firstLine(text)), issue.fields));
    }
  }
  // Group-level checks (an empty or even `etcd` group) wait for a file that reads cleanly: a broken host line
  // would otherwise also show as a missing member.
  return { model: reader.model, problems, shapeOk: shapeOk && readOk, fileOrigin: textOrigin(file, 1, 1, firstLine(text)) };
}

function nearestOrigin(origins: Map<string, ShapeOrigin>, path: string[]): ShapeOrigin | undefined {
  for (let length = path.length - 1; length > 0; length--) {
    const found = origins.get(path.slice(0, length).join('\u0000'));
    if (found) return found;
  }
  return undefined;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').replace(/\r$/, '');
}
