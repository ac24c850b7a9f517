// What an etcd member is configured with, whichever way it was told: command-line flags (`--name=x`,
// `--name x`), `ETCD_*` environment variables, or a `--config-file` (which, when given, is all etcd reads).
// Only the settings a restore needs are kept.
import { parse as parseYaml } from 'yaml';

/** The settings of one member that identify it and locate its data. */
export interface EtcdSettings {
  name?: string;
  dataDir?: string;
  walDir?: string;
  /** `--initial-advertise-peer-urls`: what the member list says. */
  peerUrls?: string[];
  /** `--advertise-client-urls`. */
  clientUrls?: string[];
  token?: string;
  initialClusterState?: string;
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  /** The peer certificates (diagnosis reads their dates). */
  peerCertFile?: string;
  peerTrustedCaFile?: string;
  configFile?: string;
}

/** Flag name -> setting; the environment variable is ETCD_ + the flag in upper snake case. */
const flags: Record<string, keyof EtcdSettings> = {
  name: 'name',
  'data-dir': 'dataDir',
  'wal-dir': 'walDir',
  'initial-advertise-peer-urls': 'peerUrls',
  'advertise-client-urls': 'clientUrls',
  'initial-cluster-token': 'token',
  'initial-cluster-state': 'initialClusterState',
  'cert-file': 'certFile',
  'key-file': 'keyFile',
  'trusted-ca-file': 'trustedCaFile',
  'peer-cert-file': 'peerCertFile',
  'peer-trusted-ca-file': 'peerTrustedCaFile',
  'config-file': 'configFile',
};

const listSettings = new Set<keyof EtcdSettings>(['peerUrls', 'clientUrls']);

function assign(settings: EtcdSettings, key: keyof EtcdSettings, value: string): void {
  if (listSettings.has(key))
    (settings as Record<string, unknown>)[key] = value
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
  else (settings as Record<string, unknown>)[key] = value;
}

/** The `ETCD_*` variable etcd reads for a flag (`--data-dir` -> `ETCD_DATA_DIR`). */
export function envNameOf(flag: string): string {
  return `ETCD_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** The `ETCD_*` variable that sets a setting (`dataDir` -> `ETCD_DATA_DIR`). */
export function variableOf(key: keyof EtcdSettings): string {
  return envNameOf(Object.keys(flags).find((flag) => flags[flag] === key) ?? '');
}

/** `--flag`, `-flag`, `--flag=value`, `-flag=value` (Go's flag syntax); `--` ends the flags. */
const flagWord = /^--?([a-z0-9][a-z0-9-]*)(?:=(.*))?$/s;

/**
 * Each flag of an argv (after the program name) with its value. Every flag read here takes a value and,
 * as Go's flag package does, takes the next word as it when it has no `=`, whatever that word looks like;
 * the flags not read here are listed without a value.
 */
function flagWords(args: readonly string[]): { name: string; value?: string }[] {
  const words: { name: string; value?: string }[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') break;
    const match = flagWord.exec(arg);
    if (!match) continue;
    const name = match[1] ?? '';
    let value = match[2];
    if (value === undefined && Object.hasOwn(flags, name) && i + 1 < args.length) value = args[++i];
    words.push({ name, ...(value !== undefined ? { value } : {}) });
  }
  return words;
}

/**
 * Settings from an argv (after the program name). Unknown flags are skipped; a flag given twice keeps the
 * last, as etcd does. A flag set to nothing (`--wal-dir=`) is kept as '' here: it still shadows its
 * ETCD_* variable; {@link combineSettings} drops it.
 */
export function settingsFromArgs(args: readonly string[]): EtcdSettings {
  const settings: EtcdSettings = {};
  for (const word of flagWords(args)) {
    const key = Object.hasOwn(flags, word.name) ? flags[word.name] : undefined;
    if (key && word.value !== undefined) assign(settings, key, word.value);
  }
  return settings;
}

/**
 * The ETCD_* variables of the environment that name a flag also on the command line. etcd 3.4 and 3.5 refuse
 * to start then ("conflicting environment variable is shadowed by corresponding command-line flag"), even
 * when the variable is empty. (With a --config-file etcd reads neither, and does not check.)
 */
export function shadowedVariables(args: readonly string[], env: Readonly<Record<string, string>>): string[] {
  const names = new Set(flagWords(args).map((w) => envNameOf(w.name)));
  return [...names].filter((name) => name in env);
}

/** Settings from `ETCD_NAME=...` style variables. */
export function settingsFromEnv(env: Readonly<Record<string, string>>): EtcdSettings {
  const settings: EtcdSettings = {};
  for (const [flag, key] of Object.entries(flags)) {
    // etcd skips an empty variable.
    const value = env[envNameOf(flag)];
    if (value !== undefined && value !== '') assign(settings, key, value);
  }
  return settings;
}

/** The top-level keys of etcd's YAML config file: its certificates sit under the two *-transport-security maps only. */
const fileKeys = Object.entries(flags).filter(([flag]) => !/(^|-)(cert|key|trusted-ca|config)-file$/.test(flag));

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const map = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});

/** Settings from etcd's YAML config file (`name:`, `data-dir:`, `client-transport-security.cert-file`, ...); throws when it is not YAML. */
export function settingsFromConfigFile(source: string): EtcdSettings {
  const record = map(parseYaml(source) as unknown);
  const settings: EtcdSettings = {};
  for (const [flag, key] of fileKeys) {
    const value = text(record[flag]);
    if (value !== undefined) assign(settings, key, value);
  }
  const client = map(record['client-transport-security']);
  const peer = map(record['peer-transport-security']);
  const tls: [keyof EtcdSettings, unknown][] = [
    ['certFile', client['cert-file']],
    ['keyFile', client['key-file']],
    ['trustedCaFile', client['trusted-ca-file']],
    ['peerCertFile', peer['cert-file']],
    ['peerTrustedCaFile', peer['trusted-ca-file']],
  ];
  for (const [key, value] of tls) {
    const given = text(value);
    if (given !== undefined) assign(settings, key, given);
  }
  return settings;
}

/** Without the settings given as nothing (`--wal-dir=`): etcd then uses its default, which is not a value to compare. */
function withoutEmpty(settings: EtcdSettings): EtcdSettings {
  const given = ([, value]: [string, unknown]): boolean => value !== '' && !(Array.isArray(value) && value.length === 0);
  return Object.fromEntries(Object.entries(settings).filter(given));
}

/**
 * etcd's order: flags over the environment (etcd refuses to start when both set one flag: see
 * {@link shadowedVariables}); with --config-file, the file is all that counts.
 */
export function combineSettings(fromEnv: EtcdSettings, fromArgs: EtcdSettings, fromConfigFile?: EtcdSettings): EtcdSettings {
  const configFile = fromArgs.configFile || fromEnv.configFile;
  if (fromConfigFile) return withoutEmpty({ ...fromConfigFile, ...(configFile !== undefined ? { configFile } : {}) });
  return withoutEmpty({ ...fromEnv, ...fromArgs });
}
