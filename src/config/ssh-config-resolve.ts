// The settings OpenSSH would use for one host, from a loaded ssh_config (ssh-config.ts): `Host` and
// `Match` decide which lines apply, the first value of an option wins, and what the inventory sets
// (as Ansible passes it to ssh on the command line) comes before everything. Matches `ssh -G HOST`.
import type { SourceLocation } from '../errors.js';
import { ConfigError } from '../errors.js';
import type { SshConfig, SshConfigEntry, SshConfigFile } from './ssh-config.js';
import type { MatchCriterion } from './ssh-config-match.js';
import type { SshOption, StrictHostKeyChecking } from './ssh-config-options.js';
import { checkCanonicalization, checkResolved, refusal, unknownKeywordProblem } from './ssh-config-refusals.js';
import { matchPattern, matchPatternList } from './ssh-patterns.js';
import { expandTilde, expandTokens, TokenError, type TokenValues } from './ssh-tokens.js';

/** What the inventory sets for a host, applied first (Ansible passes these to ssh as `-o` options). */
export interface SshCommandLine {
  user?: string;
  port?: number;
  identityFiles?: string[];
  /** ProxyJump syntax, or `none`. */
  proxyJump?: string;
}

/** The local account, as ssh sees it. */
export interface SshLocal {
  user: string;
  homeDir: string;
  uid: number;
  /** This machine's host name (%l). */
  hostname: string;
  /** Environment for `${VAR}` and SSH_AUTH_SOCK; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface Sourced<T> {
  value: T;
  /** Where it was set; absent for the inventory (command line). */
  loc?: SourceLocation;
}

export interface ResolvedSsh {
  /** The name the host was given by (ansible_host, or the inventory name). */
  hostArg: string;
  /** Where to connect: HostName with %h expanded, lower-cased. */
  hostname: string;
  user: string;
  port: number;
  /** As written (tokens and ~ not expanded yet, as `ssh -G` prints them); empty when none was set. */
  identityFiles: Sourced<string>[];
  identitiesOnly: boolean;
  /** ProxyJump as written; absent for none. */
  proxyJump?: Sourced<string>;
  /** Seconds; absent for none. */
  connectTimeout?: number;
  serverAliveInterval: number;
  serverAliveCountMax: number;
  /** Expanded as ssh does before connecting; empty for `none`. */
  userKnownHostsFiles: string[];
  /** True when ssh_config set UserKnownHostsFile (else the files are ssh's defaults). */
  userKnownHostsFilesSet: boolean;
  /** GlobalKnownHostsFile as written (ssh expands nothing in it); default /etc/ssh/ssh_known_hosts{,2}; empty for `none`. The transport reads these after the user's files, skipping those it cannot open, as ssh does. */
  globalKnownHostsFiles: string[];
  strictHostKeyChecking: Sourced<StrictHostKeyChecking>;
}

export type SingleKey = Exclude<SshOption['key'], 'identityfile'>;

export interface Options {
  single: Map<SingleKey, Sourced<SshOption['value']>>;
  identityFiles: Sourced<string>[];
}

interface Pass {
  config: SshConfig;
  hostArg: string;
  local: SshLocal;
  options: Options;
  final: boolean;
  /** Host name for Host lines and Match host in the final pass. */
  finalHost?: string;
  wantsFinal: boolean;
  /** Unknown keywords IgnoreUnknown did not cover, reported together after the pass. */
  unknown: Extract<SshConfigEntry, { kind: 'unknown' }>[];
}

function setOption(options: Options, option: SshOption, loc?: SourceLocation): void {
  const sourced = loc ? { value: option.value, loc } : { value: option.value };
  if (option.key === 'identityfile') {
    if (!options.identityFiles.some((entry) => entry.value === option.value)) options.identityFiles.push({ ...sourced, value: option.value });
    return;
  }
  // CertificateFile adds up in ssh; only one that is not `none` matters here (it is refused).
  if (option.key === 'certificatefile' && (option.value.toLowerCase() === 'none' || options.single.has('certificatefile'))) return;
  // ProxyCommand is ignored once ProxyJump is set; ProxyJump once either is (OpenSSH: the first wins).
  if (option.key === 'proxycommand' && options.single.has('proxyjump')) return;
  if (option.key === 'proxyjump' && options.single.has('proxycommand')) return;
  if (!options.single.has(option.key)) options.single.set(option.key, sourced);
}

function commandLineOptions(commandLine: SshCommandLine): Options {
  const options: Options = { single: new Map(), identityFiles: [] };
  if (commandLine.user !== undefined) setOption(options, { key: 'user', value: commandLine.user });
  if (commandLine.port !== undefined) setOption(options, { key: 'port', value: commandLine.port });
  for (const file of commandLine.identityFiles ?? []) setOption(options, { key: 'identityfile', value: file });
  if (commandLine.proxyJump !== undefined) setOption(options, { key: 'proxyjump', value: commandLine.proxyJump });
  return options;
}

function text(options: Options, key: SingleKey): string | undefined {
  const value = options.single.get(key)?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The host name so far, as Match host sees it: HostName with %h expanded, else the host as given. */
function currentHost(pass: Pass): string {
  if (pass.final && pass.finalHost !== undefined) return pass.finalHost;
  const hostname = pass.options.single.get('hostname');
  if (typeof hostname?.value !== 'string') return pass.hostArg;
  const expanded = expandHostName(hostname.value, pass.hostArg);
  if (expanded !== undefined) return expanded;
  throw refusal(
    hostname.loc,
    `HostName "${hostname.value}" has a % token other than %h or %% (ssh refuses it)`,
    'HostName expands only %h (the host as given) and %%',
  );
}

/** HostName accepts only %h and %%, as in ssh.c; undefined for any other token. */
function expandHostName(hostname: string, hostArg: string): string | undefined {
  if (/%([^%h]|$)/.test(hostname.replace(/%[%h]/g, ''))) return undefined;
  return hostname.replace(/%([%h])/g, (_all, key: string) => (key === '%' ? '%' : hostArg));
}

/** Undefined when orchestrate cannot tell (localnetwork, version, sessiontype, command). */
function evaluateCriterion(criterion: MatchCriterion, pass: Pass, loc: SourceLocation, resultSoFar: boolean): boolean | undefined {
  switch (criterion.attribute) {
    case 'all':
      return true;
    case 'final':
    case 'canonical':
      if (criterion.attribute === 'final') pass.wantsFinal = true;
      return pass.final;
    case 'host':
      return matchPatternList(currentHost(pass), criterion.arg ?? '', true) === 1;
    case 'originalhost':
      return matchPatternList(pass.hostArg, criterion.arg ?? '', true) === 1;
    case 'user':
      return matchPatternList(text(pass.options, 'user') ?? pass.local.user, criterion.arg ?? '', false) === 1;
    case 'localuser':
      return matchPatternList(pass.local.user, criterion.arg ?? '', false) === 1;
    case 'tagged': {
      // An unset Tag matches only an empty pattern (readconf.c).
      const tag = text(pass.options, 'tag') ?? '';
      return tag === '' ? criterion.arg === '' : matchPatternList(tag, criterion.arg ?? '', false) === 1;
    }
    case 'localnetwork':
    case 'version':
    case 'sessiontype':
    case 'command':
      return undefined;
    case 'exec':
      // ssh would run the command here (only when the criteria before it matched).
      if (!resultSoFar) return false;
      throw refusal(
        loc,
        `Match exec "${criterion.arg ?? ''}" would run a command to decide whether the block applies to ${pass.hostArg}; orchestrate never runs commands from ssh_config`,
        'use Match host/originalhost/user, or a Host block, for the hosts orchestrate reaches (or give them their settings in the inventory)',
      );
  }
}

function evaluateMatch(criteria: MatchCriterion[], pass: Pass, loc: SourceLocation): boolean {
  let result = true;
  let undecided: MatchCriterion | undefined;
  for (const criterion of criteria) {
    const matched = evaluateCriterion(criterion, pass, loc, result);
    if (matched === undefined) undecided ??= criterion;
    else if (result && matched === criterion.negate) result = false; // exec after this is not run (resultSoFar)
  }
  // These criteria run nothing, so wherever they stand on the line, they decide only when all the others match.
  if (result && undecided) {
    throw refusal(
      loc,
      `Match ${undecided.attribute} decides whether this block applies to ${pass.hostArg}, and orchestrate cannot evaluate it`,
      'use Match host/originalhost/user, or a Host block, for the hosts orchestrate reaches',
    );
  }
  return result;
}

function hostLineMatches(patterns: string[], host: string): boolean {
  let active = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    if (!matchPattern(host, negated ? raw.slice(1) : raw)) continue;
    if (negated) return false;
    active = true;
  }
  return active;
}

/** One file's lines; `state.active` is shared with the including file, as OpenSSH shares it. */
function walkFile(file: SshConfigFile, pass: Pass, state: { active: boolean }, neverMatch: boolean): void {
  for (const entry of file.entries) {
    switch (entry.kind) {
      case 'host':
        state.active = !neverMatch && hostLineMatches(entry.patterns, pass.final && pass.finalHost !== undefined ? pass.finalHost : pass.hostArg);
        break;
      case 'match': {
        const matched = evaluateMatch(entry.criteria, pass, entry.loc);
        state.active = !neverMatch && matched;
        break;
      }
      case 'include': {
        const before = state.active;
        for (const included of entry.files) {
          walkFile(included, pass, state, neverMatch || !before);
          state.active = before; // a Match in an include does not change the including file's state
        }
        break;
      }
      case 'option':
        if (state.active) setOption(pass.options, entry.option, entry.loc);
        break;
      case 'unknown': {
        // ssh checks every line, applying or not, against IgnoreUnknown as set so far.
        const ignored = text(pass.options, 'ignoreunknown');
        if (ignored === undefined || matchPatternList(entry.keyword, ignored, true) !== 1) pass.unknown.push(entry);
        break;
      }
    }
  }
}

function runPass(pass: Pass): void {
  for (const file of pass.config.files) walkFile(file, pass, { active: true }, false);
}

/**
 * Resolves the settings for `hostArg`; throws a ConfigError when the configuration asks for something
 * orchestrate refuses to do (ProxyCommand, Match exec) or holds a bad token, naming file:line and the fix.
 */
export function resolveSshOptions(config: SshConfig, hostArg: string, commandLine: SshCommandLine, local: SshLocal): ResolvedSsh {
  const options = commandLineOptions(commandLine);
  const pass: Pass = { config, hostArg, local, options, final: false, wantsFinal: false, unknown: [] };
  runPass(pass);
  throwUnknown(pass);
  const hostname = currentHost(pass).toLowerCase();
  // CanonicalizeHostname re-reads the configuration, as Match final does (ssh.c).
  if (checkCanonicalization(options, hostArg, hostname)) pass.wantsFinal = true;
  if (pass.wantsFinal) {
    runPass({ ...pass, final: true, finalHost: hostname });
    throwUnknown(pass);
  }
  checkResolved(options, hostArg, hostname, local);
  return settle(options, hostArg, hostname, local);
}

function throwUnknown(pass: Pass): void {
  if (pass.unknown.length > 0) throw new ConfigError(pass.unknown.map((entry) => unknownKeywordProblem(entry.written, entry.loc)));
}

function numberOption(options: Options, key: SingleKey): number | undefined {
  const value = options.single.get(key)?.value;
  return typeof value === 'number' ? value : undefined;
}

function settle(options: Options, hostArg: string, hostname: string, local: SshLocal): ResolvedSsh {
  const user = text(options, 'user') ?? local.user;
  const port = numberOption(options, 'port') ?? 22;
  const jump = options.single.get('proxyjump');
  const strict = options.single.get('stricthostkeychecking') as Sourced<StrictHostKeyChecking> | undefined;
  const tokens: TokenValues = {
    host: hostname,
    originalHost: hostArg,
    remoteUser: user,
    port,
    localUser: local.user,
    homeDir: local.homeDir,
    uid: local.uid,
    localHostname: local.hostname,
  };
  const knownHosts = options.single.get('userknownhostsfile') as Sourced<string[]> | undefined;
  const resolved: ResolvedSsh = {
    hostArg,
    hostname,
    user,
    port,
    identityFiles: options.identityFiles,
    identitiesOnly: options.single.get('identitiesonly')?.value === true,
    serverAliveInterval: numberOption(options, 'serveraliveinterval') ?? 0,
    serverAliveCountMax: numberOption(options, 'serveralivecountmax') ?? 3,
    userKnownHostsFiles: knownHostsFiles(knownHosts, tokens),
    userKnownHostsFilesSet: knownHosts !== undefined,
    globalKnownHostsFiles: globalKnownHostsFiles(options.single.get('globalknownhostsfile') as Sourced<string[]> | undefined),
    strictHostKeyChecking: strict ?? { value: 'ask' },
  };
  const connectTimeout = numberOption(options, 'connecttimeout');
  if (connectTimeout !== undefined) resolved.connectTimeout = connectTimeout;
  if (jump && typeof jump.value === 'string' && jump.value.toLowerCase() !== 'none') resolved.proxyJump = jump as Sourced<string>;
  return resolved;
}

function knownHostsFiles(set: Sourced<string[]> | undefined, tokens: TokenValues): string[] {
  if (!set) return ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'].map((file) => expandTilde(file, tokens.homeDir));
  if (set.value.length === 1 && set.value[0]?.toLowerCase() === 'none') return [];
  return set.value.map((file) => expandFileName(file, tokens, set.loc));
}

/** ssh uses GlobalKnownHostsFile as written (no ~ or tokens). */
function globalKnownHostsFiles(set: Sourced<string[]> | undefined): string[] {
  if (!set) return ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
  if (set.value.length === 1 && set.value[0]?.toLowerCase() === 'none') return [];
  return set.value;
}

/** `~` then `%` tokens and `${ENV}`, as ssh expands UserKnownHostsFile and IdentityFile. */
export function expandFileName(file: string, tokens: TokenValues, loc?: SourceLocation): string {
  try {
    return expandTokens(expandTilde(file, tokens.homeDir), tokens, { dollar: true });
  } catch (error) {
    if (!(error instanceof TokenError) || !loc) throw error;
    throw refusal(loc, `cannot expand "${file}": ${error.message}`, 'fix the file name (ssh refuses it too)');
  }
}
