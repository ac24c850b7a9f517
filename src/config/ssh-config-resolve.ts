// The settings OpenSSH would use for one host, from a loaded ssh_config (ssh-config.ts): `Host` and
// `Match` decide which lines apply, the first value of an option wins, and what the inventory sets
// (as Ansible passes it to ssh on the command line) comes before everything. Matches `ssh -G HOST`.
import type { SourceLocation } from '../errors.js';
import { ConfigError } from '../errors.js';
import type { SshConfig, SshConfigFile } from './ssh-config.js';
import type { MatchCriterion } from './ssh-config-match.js';
import type { SshOption, StrictHostKeyChecking } from './ssh-config-options.js';
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
  strictHostKeyChecking: Sourced<StrictHostKeyChecking>;
}

type SingleKey = Exclude<SshOption['key'], 'identityfile'>;

interface Options {
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
}

function refusal(loc: SourceLocation, message: string, hint: string): ConfigError {
  return new ConfigError([{ severity: 'error', code: 'ssh-config.refused', message, hint, loc }]);
}

function setOption(options: Options, option: SshOption, loc?: SourceLocation): void {
  const sourced = loc ? { value: option.value, loc } : { value: option.value };
  if (option.key === 'identityfile') {
    if (!options.identityFiles.some((entry) => entry.value === option.value)) options.identityFiles.push({ ...sourced, value: option.value });
    return;
  }
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
  const hostname = text(pass.options, 'hostname');
  return hostname === undefined ? pass.hostArg : expandHostName(hostname, pass.hostArg);
}

/** HostName accepts only %h (and %%), as in ssh.c. */
function expandHostName(hostname: string, hostArg: string): string {
  return hostname.replace(/%([%h])/g, (_all, key: string) => (key === '%' ? '%' : hostArg));
}

function evaluateCriterion(criterion: MatchCriterion, pass: Pass, loc: SourceLocation, resultSoFar: boolean): boolean {
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
  for (const criterion of criteria) {
    const matched = evaluateCriterion(criterion, pass, loc, result);
    if (criterion.attribute === 'exec' && !result) continue;
    if (matched === criterion.negate) result = false;
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
  const pass: Pass = { config, hostArg, local, options, final: false, wantsFinal: false };
  runPass(pass);
  const hostname = currentHost(pass).toLowerCase();
  if (pass.wantsFinal) runPass({ ...pass, final: true, finalHost: hostname });
  refuseProxyCommand(options, hostArg);
  return settle(options, hostArg, hostname, local);
}

function refuseProxyCommand(options: Options, hostArg: string): void {
  const command = options.single.get('proxycommand');
  if (!command?.loc || typeof command.value !== 'string' || command.value.toLowerCase() === 'none') return;
  throw refusal(
    command.loc,
    `ProxyCommand "${command.value}" applies to ${hostArg}; orchestrate does not run proxy commands`,
    'use ProxyJump (orchestrate connects through jump hosts itself, one connection per jump host), or set ssh_jump_hosts in the inventory',
  );
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

/** `~` then `%` tokens and `${ENV}`, as ssh expands UserKnownHostsFile and IdentityFile. */
export function expandFileName(file: string, tokens: TokenValues, loc?: SourceLocation): string {
  try {
    return expandTokens(expandTilde(file, tokens.homeDir), tokens, { dollar: true });
  } catch (error) {
    if (!(error instanceof TokenError) || !loc) throw error;
    throw refusal(loc, `cannot expand "${file}": ${error.message}`, 'fix the file name (ssh refuses it too)');
  }
}
