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

/** Settings from an argv (after the program name). Unknown flags are skipped; a flag given twice keeps the last, as etcd does. */
export function settingsFromArgs(args: readonly string[]): EtcdSettings {
  const settings: EtcdSettings = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const match = /^--?([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) continue;
    const key = flags[match[1] ?? ''];
    if (!key) continue;
    let value = match[2];
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('-')) continue;
      value = next;
      i += 1;
    }
    assign(settings, key, value);
  }
  return settings;
}

/** Settings from `ETCD_NAME=...` style variables. */
export function settingsFromEnv(env: Readonly<Record<string, string>>): EtcdSettings {
  const settings: EtcdSettings = {};
  for (const [flag, key] of Object.entries(flags)) {
    const value = env[`ETCD_${flag.toUpperCase().replaceAll('-', '_')}`];
    if (value !== undefined && value !== '') assign(settings, key, value);
  }
  return settings;
}

/** Settings from etcd's YAML config file (`name:`, `data-dir:`, `client-transport-security.cert-file`, ...). */
export function settingsFromConfigFile(text: string): EtcdSettings {
  const doc = parseYaml(text) as unknown;
  if (typeof doc !== 'object' || doc === null) return {};
  const record = doc as Record<string, unknown>;
  const settings: EtcdSettings = {};
  for (const [flag, key] of Object.entries(flags)) {
    const value = record[flag];
    if (typeof value === 'string' && value !== '') assign(settings, key, value);
  }
  const tls = record['client-transport-security'];
  if (typeof tls === 'object' && tls !== null) {
    const t = tls as Record<string, unknown>;
    if (typeof t['cert-file'] === 'string') settings.certFile = t['cert-file'];
    if (typeof t['key-file'] === 'string') settings.keyFile = t['key-file'];
    if (typeof t['trusted-ca-file'] === 'string') settings.trustedCaFile = t['trusted-ca-file'];
  }
  return settings;
}

/** etcd's order: flags win over the environment; with --config-file, the file is all that counts. */
export function combineSettings(fromEnv: EtcdSettings, fromArgs: EtcdSettings, fromConfigFile?: EtcdSettings): EtcdSettings {
  if (fromConfigFile) return { ...fromConfigFile, configFile: fromArgs.configFile ?? fromEnv.configFile };
  return { ...fromEnv, ...fromArgs };
}
