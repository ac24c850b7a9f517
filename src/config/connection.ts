// How to reach a host, from Ansible's connection variables.
import { homedir, userInfo } from 'node:os';
import * as path from 'node:path';
import type { ConnectionSpec, InventoryHost } from './types.js';

const DEFAULT_SSH_PORT = 22;

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

function port(host: InventoryHost): number {
  for (const name of ['ansible_port', 'ansible_ssh_port']) {
    const value = host.vars[name];
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  }
  return DEFAULT_SSH_PORT;
}

/** Connection settings for a host; the legacy `ansible_ssh_*` spellings are read as fallbacks. */
export function connectionFor(host: InventoryHost): ConnectionSpec {
  const spec: ConnectionSpec = {
    host: host.name,
    address: text(host, 'ansible_host', 'ansible_ssh_host') ?? host.name,
    port: port(host),
    user: text(host, 'ansible_user', 'ansible_ssh_user') ?? currentUser(),
    local: host.vars.ansible_connection === 'local',
    become: host.vars.ansible_become === true,
  };
  const keyFile = text(host, 'ansible_ssh_private_key_file', 'ansible_private_key_file');
  if (keyFile) spec.privateKeyFile = expandHome(keyFile);
  return spec;
}
