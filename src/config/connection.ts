// How to reach a host, from Ansible's connection variables (and orchestrate's ssh_jump_hosts).
import { homedir, userInfo } from 'node:os';
import * as path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { readSshArgs } from './ssh-args.js';
import { parseProxyJump } from './ssh-jump.js';
import type { ConnectionSpec, InventoryHost } from './types.js';

const DEFAULT_SSH_PORT = 22;

/** orchestrate's own variable for jump hosts: ProxyJump syntax, or a list of hops; `none` for a direct connection. */
export const jumpHostsVariable = 'ssh_jump_hosts';

/** `~` and `~/x` expand to the current user's home, as a shell would (`~user` is left alone). */
export function expandHome(file: string): string {
  if (file === '~') return homedir();
  if (file.startsWith('~/')) return path.join(homedir(), file.slice(2));
  return file;
}

/** Like ssh and Ansible: without `ansible_user`, connect as the user running the command. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}

function text(host: InventoryHost, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = host.vars[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function port(host: InventoryHost): number | undefined {
  for (const name of ['ansible_port', 'ansible_ssh_port']) {
    const value = host.vars[name];
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

/** A problem with a host's jump host variables: `message` names the variable, `hint` the fix. */
export interface ConnectionVarProblem {
  variable: string;
  message: string;
  hint: string;
}

function jumpHostsValue(host: InventoryHost, problems: ConnectionVarProblem[]): string | undefined {
  const value = host.vars[jumpHostsVariable];
  if (value === undefined || value === null) return undefined;
  const hint = `write ${jumpHostsVariable} as [user@]host[:port] (several hops comma-separated or as a list, the first hop first), or none`;
  const hops = Array.isArray(value) ? value : [value];
  if (hops.length === 0) return 'none';
  if (!hops.every((hop): hop is string => typeof hop === 'string' && hop !== '')) {
    problems.push({ variable: jumpHostsVariable, message: `${jumpHostsVariable} must be a string or a list of strings`, hint });
    return undefined;
  }
  const joined = hops.join(',');
  const parsed = parseProxyJump(joined);
  if (parsed.kind === 'error') problems.push({ variable: jumpHostsVariable, message: `${jumpHostsVariable}: ${parsed.message}`, hint });
  return parsed.kind === 'error' ? undefined : joined;
}

/**
 * The jump hosts of a host and what is wrong with its jump host variables. `ssh_jump_hosts` comes first;
 * then, as ssh keeps the first ProxyJump it is given, ansible_ssh_common_args before ansible_ssh_extra_args.
 */
export function jumpHostsFor(host: InventoryHost): { proxyJump?: string; problems: ConnectionVarProblem[] } {
  const problems: ConnectionVarProblem[] = [];
  let proxyJump = jumpHostsValue(host, problems);
  for (const variable of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const value = host.vars[variable];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' || value.includes('{{')) {
      problems.push({ variable, message: `${variable} must be a literal string (orchestrate reads it itself)`, hint: 'write the ssh options out' });
      continue;
    }
    const reading = readSshArgs(value, variable);
    for (const refused of reading.refused) problems.push({ variable, message: refused, hint: `change ${variable}` });
    if (reading.proxyJump !== undefined) {
      const parsed = parseProxyJump(reading.proxyJump);
      if (parsed.kind === 'error')
        problems.push({ variable, message: `${variable}: invalid ProxyJump: ${parsed.message}`, hint: `change ${variable}` });
      else proxyJump ??= reading.proxyJump;
    }
  }
  return proxyJump !== undefined ? { proxyJump, problems } : { problems };
}

/**
 * Connection settings for a host; the legacy `ansible_ssh_*` spellings are read as fallbacks. Throws a
 * ConfigError (at the host's definition) when its jump host variables cannot be used.
 */
export function connectionFor(host: InventoryHost): ConnectionSpec {
  const inventoryPort = port(host);
  const inventoryUser = text(host, 'ansible_user', 'ansible_ssh_user');
  const spec: ConnectionSpec = {
    host: host.name,
    address: text(host, 'ansible_host', 'ansible_ssh_host') ?? host.name,
    port: inventoryPort ?? DEFAULT_SSH_PORT,
    user: inventoryUser ?? currentUser(),
    local: host.vars.ansible_connection === 'local',
    become: host.vars.ansible_become === true,
  };
  const keyFile = text(host, 'ansible_ssh_private_key_file', 'ansible_private_key_file');
  if (keyFile) spec.privateKeyFile = expandHome(keyFile);
  if (spec.local) return spec;
  const defaulted = [...(inventoryPort === undefined ? (['port'] as const) : []), ...(inventoryUser === undefined ? (['user'] as const) : [])];
  if (defaulted.length > 0) spec.defaulted = defaulted;
  const jumps = jumpHostsFor(host);
  if (jumps.problems.length > 0) throw new ConfigError(jumps.problems.map((problem) => asConfigProblem(host, problem)));
  if (jumps.proxyJump !== undefined) spec.proxyJump = jumps.proxyJump;
  return spec;
}

function asConfigProblem(host: InventoryHost, problem: ConnectionVarProblem): ConfigProblem {
  return {
    severity: 'error',
    code: 'inventory.ssh-options',
    message: `host ${host.name}: ${problem.message}`,
    hint: problem.hint,
    ...(host.loc ? { loc: host.loc } : {}),
  };
}
