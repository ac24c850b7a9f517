// Reading a member's configuration, read-only, in two constant scripts whose values arrive as arguments:
// the first prints which kubeadm manifests exist, the etcd manifest, and the systemd unit with its
// drop-ins; the second prints the files those name (EnvironmentFile=, --config-file). Each file comes
// after a marker line carrying a fresh random nonce, so no file content can pass for a marker.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shellJoin } from '../../shell/quote.js';
import {
  combineSettings,
  settingsFromArgs,
  settingsFromConfigFile,
  settingsFromEnv,
  shadowedVariables,
  variableOf,
  type EtcdSettings,
} from './etcd-flags.js';
import { hostPathOf, readEtcdPod } from './static-pod.js';
import { readEnvironmentFile, readService, type UnitFile, type UnitSpecifiers } from './systemd-unit.js';

export type Topology = 'systemd' | 'kubeadm';

/** What one host says about its etcd, read where it runs. */
export interface MemberConfig {
  host: string;
  topology: Topology;
  /** kubeadm: the control plane's static pods present on this host (etcd, kube-apiserver, ...). */
  staticPods: string[];
  /** The files the settings were read from. */
  sources: string[];
  /** Paths are host paths (a kubeadm container path is mapped through its hostPath volume). */
  settings: EtcdSettings;
  /** The file each setting was read from (an EnvironmentFile, a drop-in, the config file...). */
  origins?: Partial<Record<keyof EtcdSettings, string>>;
  /** The command etcd runs (systemd: ExecStart after substitution; kubeadm: the container's command), for a member replace's join. */
  argv?: string[];
  /**
   * The ETCD_* variables etcd starts with (EnvironmentFiles, Environment=, the container's env). A flag
   * added to argv for one of them makes etcd refuse to start (see shadowedVariables in etcd-flags.ts).
   */
  etcdVariables?: string[];
  /** kubeadm: the etcd manifest as read, for a member replace's joining copy of it. */
  manifest?: string;
  /** What contradicts itself or is missing where etcd would need it (each refuses a restore). */
  problems: string[];
  /** What could not be read (no unit where one was looked for): the inventory's values are used as they are. */
  notes: string[];
}

export const defaultManifestsDir = '/etc/kubernetes/manifests';
const unitDirs = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const staticPodNames = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

export function newMarker(): string {
  return `==orchestrate-${randomBytes(6).toString('hex')}`;
}

const firstScript = [
  'm=$1; unit=$2; dir=$3',
  `printf '%s host %s\\n' "$m" "$(uname -n)"`,
  `for p in ${staticPodNames.join(' ')}; do [ -f "$dir/$p.yaml" ] && printf '%s pod %s\\n' "$m" "$p"; done`,
  `if [ -f "$dir/etcd.yaml" ]; then printf '%s file %s\\n' "$m" "$dir/etcd.yaml"; cat "$dir/etcd.yaml"; echo; fi`,
  `for d in ${unitDirs.join(' ')}; do if [ -f "$d/$unit.service" ]; then printf '%s unit %s\\n' "$m" "$d/$unit.service"; cat "$d/$unit.service"; echo; break; fi; done`,
  `for d in ${[...unitDirs].reverse().join(' ')}; do for f in "$d/$unit.service.d"/*.conf; do if [ -f "$f" ]; then printf '%s dropin %s\\n' "$m" "$f"; cat "$f"; echo; fi; done; done`,
  'exit 0',
].join('\n');

/** The first read: manifests, the etcd manifest, the unit and its drop-ins. */
export function readLayoutCommand(marker: string, unit: string, manifestsDir: string): string {
  return shellJoin(['sh', '-c', firstScript, 'sh', marker, unit, manifestsDir]);
}

/** The second read: the files the first one named; a missing file is reported, not an error. */
export function readFilesCommand(marker: string, files: readonly string[]): string {
  const script = `m=$1; shift; for f in "$@"; do if [ -f "$f" ]; then printf '%s file %s\\n' "$m" "$f"; cat -- "$f"; echo; else printf '%s missing %s\\n' "$m" "$f"; fi; done; exit 0`;
  return shellJoin(['sh', '-c', script, 'sh', marker, ...files]);
}

interface Section {
  kind: string;
  name: string;
  text: string;
}

export function parseSections(stdout: string, marker: string): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${marker} `)) {
      const rest = line.slice(marker.length + 1);
      const space = rest.indexOf(' ');
      current = { kind: space < 0 ? rest : rest.slice(0, space), name: space < 0 ? '' : rest.slice(space + 1), text: '' };
      sections.push(current);
    } else if (current) current.text += `${line}\n`;
  }
  return sections;
}

export interface FirstRead {
  staticPods: string[];
  manifest?: Section;
  unitFiles: UnitFile[];
  /** What the unit's %-specifiers stand for on this host. */
  specifiers?: UnitSpecifiers;
}

export function parseFirstRead(stdout: string, marker: string): FirstRead {
  const sections = parseSections(stdout, marker);
  const dropins = sections.filter((s) => s.kind === 'dropin');
  // Drop-ins apply in file-name order; one in /etc of the same name replaces one in /lib (listed later here).
  const byName = new Map<string, Section>();
  for (const d of dropins) byName.set(posix.basename(d.name), d);
  // systemd sorts them by plain byte order, not by locale.
  const ordered = [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
  const unit = sections.find((s) => s.kind === 'unit');
  const manifest = sections.find((s) => s.kind === 'file');
  const hostname = sections.find((s) => s.kind === 'host')?.name;
  const specifiers: UnitSpecifiers | undefined = unit ? { unit: posix.basename(unit.name), ...(hostname ? { hostname } : {}) } : undefined;
  return {
    ...(specifiers ? { specifiers } : {}),
    staticPods: sections.filter((s) => s.kind === 'pod').map((s) => s.name),
    ...(manifest ? { manifest } : {}),
    unitFiles: [...(unit ? [unit] : []), ...ordered].map((s) => ({ path: s.name, text: s.text })),
  };
}

/** The topology the host's files show (a forced one wins); kubeadm when its etcd manifest is there. */
export function topologyOf(first: FirstRead, forced?: Topology): Topology {
  if (forced) return forced;
  return first.manifest ? 'kubeadm' : 'systemd';
}

/** Which file each setting came from: the flags' file for a setting a flag gave, else what `otherwise` says. */
function originsOf(settings: EtcdSettings, fromArgs: EtcdSettings, argsFile: string | undefined, otherwise: (key: keyof EtcdSettings) => string) {
  const origins: Partial<Record<keyof EtcdSettings, string>> = {};
  for (const key of Object.keys(settings) as (keyof EtcdSettings)[]) {
    const file = key in fromArgs ? argsFile : otherwise(key);
    if (file !== undefined) origins[key] = file;
  }
  return origins;
}

/** etcd refuses to start with a flag on the command line and its ETCD_* variable both set. */
function shadowProblems(where: string, args: readonly string[], env: Readonly<Record<string, string>>, envFile: (name: string) => string): string[] {
  return shadowedVariables(args, env).map((name) => {
    const flag = `--${name.slice(5).toLowerCase().replaceAll('_', '-')}`;
    return `${where} gives ${flag} and ${envFile(name)} sets ${name}: etcd 3.4/3.5 refuses to start with both ("conflicting environment variable is shadowed by corresponding command-line flag"); fix: keep one of them`;
  });
}

/** kubeadm: the settings from the manifest, paths mapped to the host. */
export function configFromManifest(host: string, first: FirstRead): MemberConfig {
  const config: MemberConfig = { host, topology: 'kubeadm', staticPods: first.staticPods, sources: [], settings: {}, problems: [], notes: [] };
  if (!first.manifest) {
    config.problems.push('etcd_topology is kubeadm, but there is no etcd.yaml in the manifests folder');
    return config;
  }
  const file = first.manifest.name;
  config.sources.push(file);
  const pod = readEtcdPod(first.manifest.text);
  if ('problem' in pod) {
    config.problems.push(`${file}: ${pod.problem}`);
    return config;
  }
  config.argv = pod.argv;
  config.manifest = first.manifest.text;
  const args = pod.argv.slice(1);
  config.etcdVariables = [...Object.keys(pod.env), ...pod.unknownEnv].filter((name) => name.startsWith('ETCD_'));
  const fromArgs = settingsFromArgs(args);
  const settings = combineSettings(settingsFromEnv(pod.env), fromArgs);
  // A variable from valueFrom is there, whatever its value: it clashes with its flag all the same.
  const present = { ...pod.env, ...Object.fromEntries(pod.unknownEnv.map((name) => [name, ''])) };
  const shadowed = shadowedVariables(args, present);
  config.problems.push(...shadowProblems(`${file}: the etcd container`, args, present, () => 'its env'));
  for (const name of pod.unknownEnv.filter((n) => (n === 'envFrom' || n.startsWith('ETCD_')) && !shadowed.includes(n)))
    config.problems.push(
      name === 'envFrom'
        ? `${file}: the etcd container's envFrom may set ETCD_* variables, which cannot be read here`
        : `${file}: the etcd container's ${name} comes from valueFrom, which cannot be read here`,
    );
  if (settings.configFile !== undefined)
    config.problems.push(
      `${file}: etcd runs with --config-file ${settings.configFile}, which it reads instead of its flags, and that file is not read here`,
    );
  for (const key of ['dataDir', 'walDir', 'certFile', 'keyFile', 'trustedCaFile', 'peerCertFile', 'peerTrustedCaFile'] as const) {
    const inside = settings[key];
    if (inside === undefined) continue;
    const onHost = hostPathOf(pod, inside);
    if (onHost !== undefined) settings[key] = onHost;
    else if (key === 'dataDir' || key === 'walDir')
      config.problems.push(
        `${file}: ${inside} (--${key === 'dataDir' ? 'data-dir' : 'wal-dir'}) is on no hostPath volume: its data would not survive the pod`,
      );
  }
  config.settings = settings;
  config.origins = originsOf(settings, fromArgs, file, () => file);
  return config;
}

/** systemd: the files still to read for a unit (its EnvironmentFiles), or none. */
export function environmentFilesOf(first: FirstRead): { path: string; optional: boolean }[] {
  return readService(first.unitFiles, {}, first.specifiers).environmentFiles;
}

/** The EnvironmentFiles' values merged in order, which file set each, and what in them misleads. */
function readEnvironmentFiles(first: FirstRead, files: ReadonlyMap<string, string | undefined>, unit: string, config: MemberConfig) {
  const values: Record<string, string> = {};
  const origins: Record<string, string> = {};
  // The variables the unit's lines name ($NAME, ${NAME}): a mistake in those reaches etcd's command line.
  const used = new Set(first.unitFiles.flatMap((file) => [...file.text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? '')));
  for (const ref of readService(first.unitFiles, {}, first.specifiers).environmentFiles) {
    const text = files.get(ref.path);
    // systemd expands a wildcard here; the files it matches are not read, so their values are unknown.
    if (/[*?[]/.test(ref.path)) {
      config.problems.push(`EnvironmentFile ${ref.path} of ${unit}.service is a wildcard: the files it matches were not read`);
      continue;
    }
    if (text === undefined) {
      if (!ref.optional) config.problems.push(`EnvironmentFile ${ref.path} of ${unit}.service is missing`);
      continue;
    }
    config.sources.push(ref.path);
    const read = readEnvironmentFile(ref.path, text, (name) => name.startsWith('ETCD_') || used.has(name));
    config.problems.push(...read.problems);
    Object.assign(values, read.values);
    for (const name of Object.keys(read.values)) origins[name] = ref.path;
  }
  return { values, origins };
}

/** systemd: the settings from the unit, its drop-ins, its environment files and (when given) etcd's config file. */
export function configFromUnit(host: string, first: FirstRead, files: ReadonlyMap<string, string | undefined>, unit: string): MemberConfig {
  const config: MemberConfig = {
    host,
    topology: 'systemd',
    staticPods: first.staticPods,
    sources: first.unitFiles.map((f) => f.path),
    settings: {},
    problems: [],
    notes: [],
  };
  if (first.unitFiles.length === 0) {
    config.notes.push(`no systemd unit ${unit}.service was found (looked in ${unitDirs.join(', ')}): its configuration could not be read`);
    return config;
  }
  const envFiles = readEnvironmentFiles(first, files, unit, config);
  const service = readService(first.unitFiles, envFiles.values, first.specifiers);
  config.problems.push(...service.problems);
  if (service.argv.length === 0) config.problems.push(`${unit}.service has no ExecStart`);
  else config.argv = service.argv;
  const program = posix.basename(service.argv[0] ?? 'etcd');
  if (!/^etcd/.test(program))
    config.notes.push(
      `${service.execStartFile ?? `${unit}.service`} runs ${program}, not etcd: the flags it may pass to etcd could not be read, only the ETCD_* variables`,
    );
  const args = service.argv.slice(1);
  config.etcdVariables = Object.keys(service.environment).filter((name) => name.startsWith('ETCD_'));
  const fromArgs = settingsFromArgs(args);
  const fromEnv = settingsFromEnv(service.environment);
  const envFile = (name: string): string => envFiles.origins[name] ?? service.environmentOrigins[name] ?? `${unit}.service`;
  const configFile = fromArgs.configFile || fromEnv.configFile || undefined;
  if (configFile === undefined) {
    config.settings = combineSettings(fromEnv, fromArgs);
    config.problems.push(...shadowProblems(service.execStartFile ?? `${unit}.service`, args, service.environment, envFile));
    config.origins = originsOf(config.settings, fromArgs, service.execStartFile, (key) => envFile(variableOf(key)));
    return config;
  }
  const text = files.get(configFile);
  if (text === undefined) config.problems.push(`etcd's --config-file ${configFile} is missing`);
  let fromFile: EtcdSettings = {};
  try {
    fromFile = text === undefined ? {} : settingsFromConfigFile(text);
    if (text !== undefined) config.sources.push(configFile);
  } catch (error) {
    config.problems.push(
      `${configFile}: etcd's --config-file is not YAML it can read: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  config.settings = combineSettings(fromEnv, fromArgs, fromFile);
  config.origins = originsOf(config.settings, {}, undefined, () => configFile);
  delete config.origins.configFile;
  return config;
}

/** The config file a unit names (needed in the second read), from its argv and environment. */
export function configFileOf(first: FirstRead, envFiles: ReadonlyMap<string, string | undefined>): string | undefined {
  const envValues: Record<string, string> = {};
  for (const ref of readService(first.unitFiles, {}, first.specifiers).environmentFiles)
    Object.assign(envValues, readEnvironmentFile(ref.path, envFiles.get(ref.path) ?? '').values);
  const service = readService(first.unitFiles, envValues, first.specifiers);
  return settingsFromArgs(service.argv.slice(1)).configFile || settingsFromEnv(service.environment).configFile || undefined;
}

/** The files a second read returned: path -> text (undefined when missing). */
export function parseFiles(stdout: string, marker: string): Map<string, string | undefined> {
  const files = new Map<string, string | undefined>();
  for (const section of parseSections(stdout, marker)) files.set(section.name, section.kind === 'file' ? section.text.replace(/\n$/, '') : undefined);
  return files;
}
