// ansible.cfg, found and read as Ansible finds and reads it, for the settings orchestrate honours:
//   [defaults] inventory, remote_user, private_key_file, roles_path, forks, timeout, host_key_checking
// and their ANSIBLE_* environment variables (which win over the file, as in Ansible).
// The first file found is the only one read: $ANSIBLE_CONFIG (a file, or a folder holding ansible.cfg),
// ./ansible.cfg (skipped, as by Ansible, when the current folder is world-writable), ~/.ansible.cfg,
// /etc/ansible/ansible.cfg.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { parseConfigParser, type ConfigParserEntry } from './config-parser.js';
import { textOrigin, type TextOrigin } from './origin.js';
import { readConfigText } from './yaml-source.js';

/** Where a setting came from: `ansible.cfg:12` or `env ANSIBLE_FORKS`, for messages. */
export interface SettingSource {
  file?: string;
  line?: number;
  /** Column of the value and the line itself, for messages about it. */
  col?: number;
  lineText?: string;
  env?: string;
}

export interface Setting<T> {
  value: T;
  source: SettingSource;
}

export interface AnsibleSettings {
  /** The ansible.cfg read, if any. */
  file?: string;
  /** Inventory sources (`inventory`, comma-separated), absolute. */
  inventory?: Setting<string[]>;
  remoteUser?: Setting<string>;
  privateKeyFile?: Setting<string>;
  /** Where roles are looked for after `<playbook dir>/roles` (`roles_path`, colon-separated), absolute. */
  rolesPath: Setting<string[]>;
  forks?: Setting<number>;
  /** SSH connect timeout in seconds. */
  timeout?: Setting<number>;
  hostKeyChecking?: Setting<boolean>;
  /** Things an operator should know (an ansible.cfg skipped in a world-writable folder). */
  notes: string[];
}

export interface AnsibleConfigEnvironment {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

/** The file Ansible would read, or none; a note when ./ansible.cfg is skipped. */
export function findAnsibleConfig(environment: AnsibleConfigEnvironment = {}): { file?: string; note?: string } {
  const env = environment.env ?? process.env;
  const cwd = environment.cwd ?? process.cwd();
  const home = environment.home ?? homedir();
  const candidates: string[] = [];
  let fromEnv: string | undefined;
  if (env.ANSIBLE_CONFIG !== undefined && env.ANSIBLE_CONFIG !== '') {
    const expanded = path.resolve(cwd, expandPath(env.ANSIBLE_CONFIG, env, home));
    fromEnv = isDirectory(expanded) ? path.join(expanded, 'ansible.cfg') : expanded;
    candidates.push(fromEnv);
  }
  let note: string | undefined;
  const local = path.join(cwd, 'ansible.cfg');
  if (worldWritable(cwd)) {
    if (existsSync(local)) note = `${local} is ignored: the folder ${cwd} is world-writable, so anyone could have put it there (as Ansible does)`;
  } else {
    candidates.push(local);
  }
  candidates.push(path.join(home, '.ansible.cfg'), '/etc/ansible/ansible.cfg');
  const file = candidates.find(readable);
  return { ...(file !== undefined ? { file } : {}), ...(note !== undefined && (fromEnv === undefined || file !== fromEnv) ? { note } : {}) };
}

/** The settings from the environment and the ansible.cfg found; a bad value is a ConfigError at its line. */
export async function loadAnsibleConfig(environment: AnsibleConfigEnvironment = {}): Promise<AnsibleSettings> {
  const env = environment.env ?? process.env;
  const cwd = environment.cwd ?? process.cwd();
  const home = environment.home ?? homedir();
  const found = findAnsibleConfig({ env, cwd, home });
  const problems: ConfigProblem[] = [];
  let entries = new Map<string, ConfigParserEntry>();
  if (found.file !== undefined) {
    const read = await readConfigText(found.file, 'check ANSIBLE_CONFIG, or remove the file');
    if ('problem' in read) throw new ConfigError([read.problem]);
    if (!/\.(cfg|ini)$/.test(found.file)) {
      throw new ConfigError([
        {
          severity: 'error',
          code: 'ansible-cfg.extension',
          message: `${found.file}: Ansible reads only .cfg or .ini configuration files`,
          hint: 'point ANSIBLE_CONFIG at an ansible.cfg',
        },
      ]);
    }
    const parsed = parseConfigParser(found.file, read.text);
    problems.push(...parsed.problems);
    entries = parsed.sections.get('defaults') ?? new Map<string, ConfigParserEntry>();
    for (const [key, entry] of parsed.sections.get('DEFAULT') ?? []) if (!entries.has(key)) entries.set(key, entry);
  }
  const reader = new SettingReader(entries, env, cwd, home, found.file, problems);
  const settings: AnsibleSettings = {
    ...(found.file !== undefined ? { file: found.file } : {}),
    rolesPath: reader.paths('roles_path', 'ANSIBLE_ROLES_PATH', ':') ?? {
      value: ['~/.ansible/roles', '/usr/share/ansible/roles', '/etc/ansible/roles'].map((dir) => expandPath(dir, env, home)),
      source: {},
    },
    notes: found.note !== undefined ? [found.note] : [],
  };
  const inventory = reader.paths('inventory', 'ANSIBLE_INVENTORY', ',');
  if (inventory) settings.inventory = inventory;
  const remoteUser = reader.text('remote_user', 'ANSIBLE_REMOTE_USER');
  if (remoteUser) settings.remoteUser = remoteUser;
  const privateKeyFile = reader.path('private_key_file', 'ANSIBLE_PRIVATE_KEY_FILE');
  if (privateKeyFile) settings.privateKeyFile = privateKeyFile;
  const forks = reader.positiveInteger('forks', 'ANSIBLE_FORKS');
  if (forks) settings.forks = forks;
  const timeout = reader.positiveInteger('timeout', 'ANSIBLE_TIMEOUT');
  if (timeout) settings.timeout = timeout;
  const hostKeyChecking = reader.boolean('host_key_checking', 'ANSIBLE_HOST_KEY_CHECKING');
  if (hostKeyChecking) settings.hostKeyChecking = hostKeyChecking;
  if (problems.some((p) => p.severity === 'error')) throw new ConfigError(problems);
  return settings;
}

/**
 * What `host_key_checking` means here. Ansible's False trusts every key, changed ones included; orchestrate
 * never trusts a changed key: False means "accept keys never seen before and record them", said once per run.
 */
export interface HostKeyDecision {
  /** `strict`: an unknown key stops the host. `accept-new`: an unknown key is recorded; a changed key still stops it. */
  mode: 'strict' | 'accept-new';
  /** The line to print once per run when ansible.cfg relaxed checking. */
  notice?: string;
}

export function hostKeyDecision(settings: Pick<AnsibleSettings, 'hostKeyChecking'>): HostKeyDecision {
  const setting = settings.hostKeyChecking;
  if (!setting || setting.value) return { mode: 'strict' };
  return {
    mode: 'accept-new',
    notice: `host_key_checking = False (${describeSource(setting.source)}): host keys never seen before are accepted and recorded in known_hosts; a changed host key is still refused`,
  };
}

/** Where a setting came from, as an inventory origin (a value ansible.cfg gives a host is checked like any other). */
export function settingOrigin(setting: Setting<unknown>): TextOrigin {
  const { source } = setting;
  if (source.file !== undefined) return textOrigin(source.file, source.line ?? 1, source.col ?? 1, source.lineText ?? '');
  const name = source.env ?? 'ansible.cfg';
  return textOrigin(`$${name}`, 1, name.length + 2, `${name}=${String(setting.value)}`);
}

export function describeSource(source: SettingSource): string {
  if (source.env !== undefined) return `environment variable ${source.env}`;
  if (source.file !== undefined) return `${source.file}${source.line !== undefined ? `:${source.line}` : ''}`;
  return 'default';
}

class SettingReader {
  constructor(
    private readonly entries: Map<string, ConfigParserEntry>,
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
    private readonly home: string,
    private readonly file: string | undefined,
    private readonly problems: ConfigProblem[],
  ) {}

  /** The raw value: the environment variable if set (not empty), else the file's entry. */
  private raw(key: string, envName: string): { text: string; source: SettingSource; entry?: ConfigParserEntry } | undefined {
    const fromEnv = this.env[envName];
    if (fromEnv !== undefined && fromEnv !== '') return { text: fromEnv, source: { env: envName } };
    const entry = this.entries.get(key);
    if (!entry || this.file === undefined) return undefined;
    return { text: entry.value, source: { file: this.file, line: entry.line, col: entry.valueCol, lineText: entry.lineText }, entry };
  }

  private fail(raw: { text: string; source: SettingSource; entry?: ConfigParserEntry }, key: string, expected: string): void {
    const problem: ConfigProblem = {
      severity: 'error',
      code: 'ansible-cfg.value',
      message: `${raw.source.env ?? key} = ${JSON.stringify(raw.text)} is not ${expected}`,
      expected,
    };
    if (raw.entry && this.file !== undefined) {
      problem.loc = { file: this.file, line: raw.entry.line, col: raw.entry.valueCol };
      problem.lineText = raw.entry.lineText;
      problem.hint = `correct ${key} in [defaults]`;
    } else {
      problem.hint = `correct or unset ${raw.source.env ?? key}`;
    }
    this.problems.push(problem);
  }

  /** Relative paths resolve against the ansible.cfg's folder (against the current folder for environment variables). */
  private base(source: SettingSource): string {
    return source.file !== undefined ? path.dirname(source.file) : this.cwd;
  }

  text(key: string, envName: string): Setting<string> | undefined {
    const raw = this.raw(key, envName);
    return raw ? { value: unquote(raw.text), source: raw.source } : undefined;
  }

  path(key: string, envName: string): Setting<string> | undefined {
    const raw = this.raw(key, envName);
    return raw ? { value: path.resolve(this.base(raw.source), expandPath(raw.text, this.env, this.home)), source: raw.source } : undefined;
  }

  paths(key: string, envName: string, separator: string): Setting<string[]> | undefined {
    const raw = this.raw(key, envName);
    if (!raw) return undefined;
    const parts = raw.text.split(separator).map((part) => part.trim());
    return {
      value: parts.filter((part) => part !== '').map((part) => path.resolve(this.base(raw.source), expandPath(part, this.env, this.home))),
      source: raw.source,
    };
  }

  positiveInteger(key: string, envName: string): Setting<number> | undefined {
    const raw = this.raw(key, envName);
    if (!raw) return undefined;
    const value = /^\s*\+?\d+\s*$/.test(raw.text) ? Number(raw.text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value <= 0) {
      this.fail(raw, key, 'a whole number of 1 or more');
      return undefined;
    }
    return { value, source: raw.source };
  }

  /** Ansible's boolean words; anything else is refused (Ansible would read a typo as False). */
  boolean(key: string, envName: string): Setting<boolean> | undefined {
    const raw = this.raw(key, envName);
    if (!raw) return undefined;
    const word = raw.text.trim().toLowerCase();
    if (['y', 'yes', 'on', '1', 'true', 't'].includes(word)) return { value: true, source: raw.source };
    if (['n', 'no', 'off', '0', 'false', 'f'].includes(word)) return { value: false, source: raw.source };
    this.fail(raw, key, 'True or False');
    return undefined;
  }
}

/** Ansible's unquote: one pair of matching outer quotes removed. */
function unquote(text: string): string {
  if (text.length > 1 && (text[0] === '"' || text[0] === "'") && text.endsWith(text[0]) && text[text.length - 2] !== '\\') return text.slice(1, -1);
  return text;
}

/** `$VAR`/`${VAR}` (left alone when unset) and `~`, as Python's os.path.expandvars and expanduser do. */
export function expandPath(text: string, env: NodeJS.ProcessEnv, home: string): string {
  const vars = text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (match, braced?: string, bare?: string) => {
    const value = env[braced ?? bare ?? ''];
    return value ?? match;
  });
  if (vars === '~') return home;
  if (vars.startsWith('~/')) return path.join(home, vars.slice(2));
  return vars;
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function worldWritable(dir: string): boolean {
  try {
    return (statSync(dir).mode & 0o002) !== 0;
  } catch {
    return false;
  }
}
