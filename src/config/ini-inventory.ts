// Ansible's INI inventory, read as Ansible's `ini` plugin reads it, into the same InventoryModel as YAML:
//   [group]            hosts, one per line: `name[:port] key=value ...` (shlex words; ranges expanded)
//   [group:vars]       one `key=value` per line, the whole rest of the line being the value
//   [group:children]   one group name per line
// Lines before any section are hosts of `ungrouped`; `#` and `;` start comment lines. Values are typed by
// Python's literal_eval (python-literal.ts): on a host line after shlex has removed one level of quotes (so
// `port="22"` is the number 22), in a :vars section as written (so `port="22"` stays the text "22").
// A group named in :vars or :children must be declared by a [group] or [group:children] section somewhere.
// Lines end where Python's splitlines() ends them and are trimmed as Python's strip() trims them; positions
// are still counted in editor lines (\n, \r\n or \r).
import type { ConfigProblem } from '../errors.js';
import { ExpandedHosts, HostRangeError, MAX_RANGE_HOSTS, expandHostPattern } from './host-ranges.js';
import { InventoryModel, unlinkCycles, type VarEntry } from './inventory-assemble.js';
import { textOrigin, problemAtOrigin, type Origin, type TextOrigin } from './origin.js';
import { iniValue } from './python-literal.js';
import { configValidator, translateAjvErrors } from './schema-validation.js';
import { ShlexError, shlexSplit, type ShlexWord } from './shlex-split.js';
import { didYouMean } from './suggest.js';
import { describeInventoryPath, type ReadInventory } from './yaml-inventory.js';
import type { ProblemFields } from './yaml-source.js';

/** Python's whitespace (str.isspace, and `\s` in its regular expressions): not JavaScript's, which adds U+FEFF and lacks \x1c-\x1f and \x85. */
const SPACE = String.raw`\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const SECTION = new RegExp(String.raw`^\[([^:\]${SPACE}]+)(?::([\p{L}\p{N}_]+))?\][${SPACE}]*(?:#.*)?$`, 'u');
const GROUP_NAME = new RegExp(String.raw`^([^:\]${SPACE}]+)[${SPACE}]*(?:#.*)?$`, 'u');
const SPACE_CHAR = new RegExp(`[${SPACE}]`);
/** Line ends of Python's splitlines() that editors do not count as lines (they split on \n, \r\n and \r). */
// eslint-disable-next-line no-control-regex -- these control characters end lines in Python
const OTHER_LINE_ENDS = /[\v\f\x1c-\x1e\x85\u2028\u2029]/;
/** Host entries (a host counts in each group it is written in) and groups of one file: far above any real
 * cluster, and a bound on memory (about 1.5 KB an entry) for runaway ranges or generated files. */
const MAX_HOST_ENTRIES = 250_000;
const MAX_GROUPS = 50_000;
const MAX_VARIABLES_PER_LINE = 10_000;

/** Python's str.strip(); a loop, as a regular expression for the end of a line backtracks on long blank runs. */
function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && SPACE_CHAR.test(text[start] as string)) start++;
  while (end > start && SPACE_CHAR.test(text[end - 1] as string)) end--;
  return text.slice(start, end);
}

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
  /** Where the Python line being read starts in the editor line. */
  private offset = 0;
  private hostEntries = 0;
  private tooManyGroups = false;

  constructor(readonly file: string) {
    this.model.group('all');
    this.model.group('ungrouped');
    this.shapeGroup('all');
  }

  at(col: number): TextOrigin {
    return textOrigin(this.file, this.lineNumber, this.offset + col, this.line);
  }

  report(col: number, fields: ProblemFields): void {
    this.problems.push(problemAtOrigin(this.at(col), fields));
  }

  read(text: string): void {
    const lines = text.split(/\r\n|\r|\n/);
    for (const [index, raw] of lines.entries()) {
      this.lineNumber = index + 1;
      this.line = raw;
      this.offset = 0;
      if (index === 0 && raw.startsWith('\ufeff')) {
        this.report(1, {
          code: 'inventory.ini-bom',
          message: 'the file starts with a byte order mark (U+FEFF), which Ansible reads as part of the first line',
          expected: 'UTF-8 text without a byte order mark',
          hint: "save the file as UTF-8 without BOM (e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)",
        });
        this.offset = 1;
      }
      for (const part of raw.slice(this.offset).split(OTHER_LINE_ENDS)) {
        this.readLine(part);
        this.offset += part.length + 1;
      }
    }
    this.finish();
  }

  /** One line as Python's splitlines() cuts it. */
  private readLine(raw: string): void {
    const stripped = pythonStrip(raw);
    if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) return;
    const col = raw.indexOf(stripped) + 1;
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

  private shapeGroup(name: string): IniReader['shape'][string] {
    const empty = (): Record<string, never> => Object.create(null) as Record<string, never>;
    return (this.shape[name] ??= { hosts: empty(), vars: empty(), children: {} });
  }

  private section(name: string, type: string | undefined, col: number): void {
    const state = type ?? 'hosts';
    if (state !== 'hosts' && state !== 'vars' && state !== 'children') {
      this.report(col + name.length + 2, {
        code: 'inventory.ini-section',
        message: `section [${name}:${state}] has an unknown type "${state}"`,
        expected: '[group], [group:vars] or [group:children]',
      });
      this.skipSection();
      return;
    }
    if (!this.roomFor(name, col)) {
      this.skipSection();
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

  /** Lines up to the next section cannot be read as anything; skip them rather than report each. */
  private skipSection(): void {
    this.state = 'vars';
    this.group = '\u0000skip';
  }

  /** Whether group `name` exists or may be added; a file past MAX_GROUPS is reported once. */
  private roomFor(name: string, col: number): boolean {
    if (this.model.groups.has(name) || this.model.groups.size < MAX_GROUPS) return true;
    if (!this.tooManyGroups) this.tooBig(col, `this file declares more than ${MAX_GROUPS} groups`);
    this.tooManyGroups = true;
    return false;
  }

  /** Reported once per limit; ExpandHosts stops expanding once hostEntries is past its limit. */
  private tooBig(col: number, message: string): void {
    this.report(col, { code: 'inventory.ini-size', message, hint: 'split the inventory, or look for a generated section or range that ran away' });
  }

  private hostLine(stripped: string, col: number): void {
    const [first, ...rest] = this.shlexWords(stripped, col) ?? [];
    if (!first) return;
    if (rest.length > MAX_VARIABLES_PER_LINE) {
      this.tooBig(col, `this line sets more than ${MAX_VARIABLES_PER_LINE} variables`);
      return;
    }
    const expanded = this.expandHosts(first, col);
    if (!expanded) return;
    const vars = this.hostVars(rest, col);
    const hostOrigin = this.at(col + first.start);
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

  private shlexWords(stripped: string, col: number): ShlexWord[] | undefined {
    try {
      return shlexSplit(stripped);
    } catch (error) {
      if (!(error instanceof ShlexError)) throw error;
      const unclosed = error.message === 'No closing quotation';
      this.report(col + error.at, {
        code: 'inventory.ini-quote',
        message: unclosed ? 'this quote is never closed' : 'a backslash ends the line with nothing to escape',
        expected: 'host [key=value ...] with each quote closed on the same line',
        hint: unclosed ? 'close the quote, or escape it with a backslash' : 'remove the backslash at the end of the line',
      });
      return undefined;
    }
  }

  /** The hosts of a host line's first word; undefined (reported) where Ansible fails or the file is too big. */
  private expandHosts(first: ShlexWord, col: number): ExpandedHosts | undefined {
    const budget = MAX_HOST_ENTRIES - this.hostEntries;
    if (budget < 0) return undefined;
    let expanded: ExpandedHosts | undefined;
    let failure: string | undefined;
    try {
      expanded = expandHostPattern(first.text, Math.min(MAX_RANGE_HOSTS, budget));
      if (expanded.hosts.some((host) => host === '')) failure = 'a host name cannot be empty';
      this.hostEntries += expanded.hosts.length;
    } catch (error) {
      if (!(error instanceof HostRangeError)) throw error;
      failure = error.message;
      if (error.overLimit && budget < MAX_RANGE_HOSTS) this.hostEntries = MAX_HOST_ENTRIES + 1;
    }
    if (this.hostEntries > MAX_HOST_ENTRIES) {
      this.hostEntries = MAX_HOST_ENTRIES + 1;
      this.tooBig(col + first.start, `this file lists more than ${MAX_HOST_ENTRIES} hosts (a host counts once for each group it is written in)`);
      return undefined;
    }
    if (failure !== undefined || !expanded) {
      this.report(col + first.start, {
        code: 'inventory.ini-host',
        message: failure ?? '',
        expected: 'a host name, an address, or a range such as node[1:3]',
      });
      return undefined;
    }
    if (expanded.hosts.length === 0) {
      const message = `"${first.text}" gives no host: its range runs backwards, and Ansible then adds nothing`;
      this.warn(this.at(col + first.start), 'inventory.ini-empty-range', message, 'swap the begin and end of the range, or drop the negative step');
    }
    return expanded;
  }

  /** The key=value words after a host, typed as Ansible types them; problems are reported and the word skipped. */
  private hostVars(words: ShlexWord[], col: number): { key: string; entry: VarEntry; keyOrigin: Origin }[] {
    const vars: { key: string; entry: VarEntry; keyOrigin: Origin }[] = [];
    const seen = new Set<string>();
    for (const word of words) {
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
      const value = this.typedValue(key, word.text.slice(equals + 1), valueOrigin, 'host');
      if (value !== NO_VALUE) vars.push({ key, entry: { value, origin: valueOrigin }, keyOrigin });
    }
    return vars;
  }

  /** A value as Ansible reads it (Python's literal_eval, then orchestrate's conversions); NO_VALUE where Ansible fails on it. */
  private typedValue(key: string, text: string, origin: Origin, where: 'host' | 'group'): unknown {
    const read = iniValue(text);
    if ('value' in read) return coerce(key, read.value, where);
    this.problems.push(
      problemAtOrigin(origin, {
        code: 'inventory.ini-value',
        message: `Ansible fails on this value: Python reads it as ${read.refused}`,
        expected: 'a string, number, boolean, None, or a list or dict of them',
        hint: where === 'host' ? `quote it twice to keep the text: ${key}="'...'"` : `quote it to keep the text: ${key}='...'`,
      }),
    );
    return NO_VALUE;
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
    const key = pythonStrip(stripped.slice(0, equals));
    const valueText = stripped.slice(equals + 1);
    const valueCol = col + equals + 1 + Math.max(0, valueText.indexOf(pythonStrip(valueText)));
    const keyOrigin = this.at(col);
    const valueOrigin = this.at(valueCol);
    const lines = this.groupVarLines.get(this.group) ?? new Map<string, number>();
    this.groupVarLines.set(this.group, lines);
    const earlier = lines.get(key);
    if (earlier !== undefined)
      this.duplicateWarning(keyOrigin, `${key} is already set for group ${this.group} on line ${earlier}; this later value wins, as in Ansible`);
    lines.set(key, this.lineNumber);
    const value = this.typedValue(key, pythonStrip(valueText), valueOrigin, 'group');
    if (value === NO_VALUE) return;
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
    // Loops through other groups are found once the whole file is read (finish), in one walk.
    if (child === this.group || child === 'all') {
      this.report(col, {
        code: 'inventory.group-cycle',
        message: `group "${child}" cannot be a child of "${this.group}": it would be its own ancestor`,
        hint: `remove "${child}" from [${this.group}:children]`,
      });
      return;
    }
    if (!this.roomFor(child, col)) return;
    if (child === 'ungrouped' && this.group !== 'all') {
      // Ansible then drops those hosts from every group, `all` included: they would silently never be reached.
      this.report(col, {
        code: 'inventory.ini-child',
        message: `"ungrouped" cannot be a child of "${this.group}": Ansible would then leave its hosts out of every group, all included`,
        hint: `list those hosts in [${this.group}] or in a group of their own`,
      });
      return;
    }
    this.model.group(child, origin);
    this.model.link(this.group, child, origin);
    this.shapeGroup(this.group).children[child] = null;
    this.shapeOrigins.set([this.group, 'children', child].join('\u0000'), { key: origin, value: origin });
    this.childReferences.push({ parent: this.group, child, origin });
  }

  private duplicateWarning(origin: Origin, message: string): void {
    this.warn(origin, 'inventory.ini-duplicate-var', message, 'keep one of them');
  }

  private warn(origin: Origin, code: string, message: string, hint: string): void {
    this.problems.push(problemAtOrigin(origin, { severity: 'warning', code, message, hint }));
  }

  /** Undeclared groups and loops of groups are errors, as in Ansible; every group without a parent becomes a child of `all`. */
  private finish(): void {
    const declared = [...this.declared].filter((name) => name !== 'all' && name !== 'ungrouped');
    let suggestions = 0;
    const undeclared = (origin: Origin, name: string, message: string): void => {
      // Suggestions compare a name with every group: only for the first few, so that a huge file stays fast.
      const hint = suggestions++ < 20 ? didYouMean(name, declared) : undefined;
      this.problems.push(
        problemAtOrigin(origin, {
          code: 'inventory.ini-undefined-group',
          message,
          expected: `a [${name}] or [${name}:children] section somewhere in the file`,
          hint: hint ?? `add a [${name}] section (it may be empty), or check the spelling`,
        }),
      );
    };
    for (const { group, origin } of this.varsSections) {
      if (!this.declared.has(group)) undeclared(origin, group, `[${group}:vars] is for a group that is never declared`);
    }
    for (const { parent, child, origin } of this.childReferences) {
      if (!this.declared.has(child)) undeclared(origin, child, `[${parent}:children] names group "${child}", which is never declared`);
    }
    for (const { parent, child, origin, path } of unlinkCycles(this.model)) {
      this.problems.push(
        problemAtOrigin(origin, {
          code: 'inventory.group-cycle',
          message: `group "${child}" cannot be a child of "${parent}": it would be its own ancestor (${path.join(' > ')})`,
          hint: `remove "${child}" from [${parent}:children]`,
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

/** Marks a value Ansible fails on: it is reported, and not set. */
const NO_VALUE = Symbol('no value');

/**
 * Ansible converts these when it uses them (`ansible_become=yes` becomes true, a port "22" the number 22);
 * orchestrate reads them as values, so they are converted here, where an INI file cannot write the type.
 */
function coerce(key: string, value: unknown, where: 'host' | 'group'): unknown {
  // A group's priority is not a variable but Python's int() of the value: 1.5 gives 1, True gives 1.
  const number = typeof value === 'number' || typeof value === 'boolean';
  if (key === 'ansible_group_priority' && where === 'group' && number) return Math.trunc(Number(value));
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
  // The first line only: the whole text may be megabytes.
  const fileOrigin = textOrigin(file, 1, 1, /^[^\r\n]*/.exec(text)?.[0] ?? '');
  if (!shapeOk) {
    for (const issue of translateAjvErrors(validate.errors, { codePrefix: 'inventory', describe: describeInventoryPath })) {
      const found = reader.shapeOrigins.get(issue.path.join('\u0000')) ?? nearestOrigin(reader.shapeOrigins, issue.path);
      problems.push(problemAtOrigin(found ? found[issue.target] : fileOrigin, issue.fields));
    }
  }
  // Group-level checks (an empty or even `etcd` group) wait for a file that reads cleanly: a broken host line
  // would otherwise also show as a missing member.
  return { model: reader.model, problems, shapeOk: shapeOk && readOk, fileOrigin };
}

function nearestOrigin(origins: Map<string, ShapeOrigin>, path: string[]): ShapeOrigin | undefined {
  for (let length = path.length - 1; length > 0; length--) {
    const found = origins.get(path.slice(0, length).join('\u0000'));
    if (found) return found;
  }
  return undefined;
}
