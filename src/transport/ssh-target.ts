// Everything one connection needs to know, resolved before it opens: where to connect and as whom, the
// keys, the known hosts files, the host key policy, the deadlines, and the jump hosts in front of it,
// each resolved the same way. Inventory values come first, then ssh_config, then orchestrate's defaults.
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { SshConfig } from '../config/ssh-config.js';
import { resolveJumpChain } from '../config/ssh-config-jumps.js';
import { expandFileName, resolveSshOptions, type ResolvedSsh, type SshCommandLine, type SshLocal } from '../config/ssh-config-resolve.js';
import type { TokenValues } from '../config/ssh-tokens.js';
import type { ConnectionSpec } from '../config/types.js';
import { choosePolicy, type ChosenPolicy, type HostKeyPolicy } from './host-key-policy.js';
import { defaultKnownHostsFile } from './known-hosts.js';
import type { IdentityFile } from './ssh-auth.js';
import type { ConnectEndpoint } from './ssh-connect-failure.js';

/** What callers may set over ssh_config (the command line of orchestrate). */
export interface TargetOptions {
  /** `--known-hosts`: for every host and jump host. Default: UserKnownHostsFile, else ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /** Same as `hostKeyPolicy: 'accept-new'` (the `--accept-new-host-keys` flag). */
  acceptNewHostKeys?: boolean;
  /** Overrides StrictHostKeyChecking of ssh_config. */
  hostKeyPolicy?: HostKeyPolicy;
  /** Why that policy (e.g. `host_key_checking = False in ./ansible.cfg`): said once per run when it is accept-new. */
  hostKeyPolicyReason?: string;
  /** TCP connect, handshake and authentication together. Default: ConnectTimeout of ssh_config, else 10 s. */
  connectTimeoutMs?: number;
  /** Default: ServerAliveInterval of ssh_config when set, else 5 s. */
  keepaliveIntervalMs?: number;
  /** Default: ServerAliveCountMax of ssh_config (3). */
  keepaliveCountMax?: number;
  /** Keys tried when neither the inventory nor ssh_config names one. Default ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  defaultIdentityFiles?: string[];
}

export interface SshEndpoint extends ConnectEndpoint {
  /** The name ssh would be given (ansible_host, or the jump host as written in ProxyJump). */
  alias: string;
  identityFiles: IdentityFile[];
  identitiesOnly: boolean;
  /** Looked up in order; a new key is recorded in the first. */
  knownHostsFiles: string[];
  /** GlobalKnownHostsFile (/etc/ssh/ssh_known_hosts): looked up after those, never written, as by ssh. */
  globalKnownHostsFiles?: string[];
  hostKeyPolicy: ChosenPolicy;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

export interface SshTarget extends SshEndpoint {
  /** Jump hosts, the first hop first; empty for a direct connection. */
  jumps: SshEndpoint[];
}

export const defaultConnectTimeoutMs = 10_000;

export function localAccount(): SshLocal {
  const info = userInfo();
  return { user: info.username, homeDir: info.homedir, uid: info.uid, hostname: localHostname() };
}

function commandLineOf(spec: ConnectionSpec): SshCommandLine {
  const defaulted = spec.defaulted ?? [];
  return {
    ...(defaulted.includes('user') ? {} : { user: spec.user }),
    ...(defaulted.includes('port') ? {} : { port: spec.port }),
    ...(spec.privateKeyFile !== undefined ? { identityFiles: [spec.privateKeyFile] } : {}),
    ...(spec.proxyJump !== undefined ? { proxyJump: spec.proxyJump } : {}),
  };
}

function identityFiles(resolved: ResolvedSsh, tokens: TokenValues, options: TargetOptions): IdentityFile[] {
  if (resolved.identityFiles.length === 0) {
    const defaults = options.defaultIdentityFiles ?? ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(homedir(), '.ssh', name));
    return defaults.map((path) => ({ path, explicit: false }));
  }
  return resolved.identityFiles
    .filter((entry) => entry.value.toLowerCase() !== 'none')
    .map((entry) =>
      // The inventory's key is used as written; ssh_config's get ssh's ~, %-token and ${ENV} expansion.
      entry.loc ? { path: expandFileName(entry.value, tokens, entry.loc), explicit: false } : { path: entry.value, explicit: true },
    );
}

function endpointOf(resolved: ResolvedSsh, label: string, jump: boolean, options: TargetOptions, local: SshLocal): SshEndpoint {
  const tokens: TokenValues = {
    host: resolved.hostname,
    originalHost: resolved.hostArg,
    remoteUser: resolved.user,
    port: resolved.port,
    localUser: local.user,
    homeDir: local.homeDir,
    uid: local.uid,
    localHostname: local.hostname,
  };
  const defaultFile = defaultKnownHostsFile();
  const knownHostsFiles = options.knownHostsFile
    ? [options.knownHostsFile]
    : resolved.userKnownHostsFilesSet
      ? resolved.userKnownHostsFiles
      : [defaultFile, `${defaultFile}2`];
  const strictLoc = resolved.strictHostKeyChecking.loc;
  return {
    host: label,
    alias: resolved.hostArg,
    address: resolved.hostname,
    port: resolved.port,
    user: resolved.user,
    ...(jump ? { jump: true } : {}),
    identityFiles: identityFiles(resolved, tokens, options),
    identitiesOnly: resolved.identitiesOnly,
    knownHostsFiles,
    globalKnownHostsFiles: resolved.globalKnownHostsFiles,
    hostKeyPolicy: choosePolicy(
      {
        ...(options.hostKeyPolicy ? { policy: options.hostKeyPolicy } : {}),
        ...(options.hostKeyPolicyReason !== undefined ? { reason: options.hostKeyPolicyReason } : {}),
        ...(options.acceptNewHostKeys !== undefined ? { acceptNewHostKeys: options.acceptNewHostKeys } : {}),
      },
      { value: resolved.strictHostKeyChecking.value, ...(strictLoc ? { where: `${strictLoc.file}:${strictLoc.line}` } : {}) },
    ),
    connectTimeoutMs:
      options.connectTimeoutMs ??
      (resolved.connectTimeout !== undefined && resolved.connectTimeout > 0 ? resolved.connectTimeout * 1000 : defaultConnectTimeoutMs),
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? (resolved.serverAliveInterval > 0 ? resolved.serverAliveInterval * 1000 : 5000),
    keepaliveCountMax: options.keepaliveCountMax ?? resolved.serverAliveCountMax,
  };
}

/**
 * Resolves how to reach `spec`: ssh_config applied under the inventory's values, and the jump hosts.
 * Throws a ConfigError for what the configuration asks and orchestrate refuses (ProxyCommand, Match exec).
 */
export function resolveTarget(spec: ConnectionSpec, config: SshConfig, options: TargetOptions, local: SshLocal = localAccount()): SshTarget {
  const resolved = resolveSshOptions(config, spec.address, commandLineOf(spec), local);
  const chain = resolveJumpChain(config, resolved, local);
  return {
    ...endpointOf(resolved, spec.host, false, options, local),
    jumps: chain.map((hop) => endpointOf(hop, `jump host ${hop.hostArg}`, true, options, local)),
  };
}
