// What ssh_config may ask that orchestrate does not do, refused for the host it applies to with the line
// that asks it and the fix: commands (ProxyCommand), other ways to trust host keys or to log in
// (ssh-config-keywords.ts), another agent, DNS canonicalisation, RefuseConnection, and host or user
// names OpenSSH itself rejects. Ignoring any of these would reach another host or use other credentials.
import { ConfigError, type ConfigProblem, type SourceLocation } from '../errors.js';
import { ignoredSshKeywords, readSshKeywords, refusedSshKeywords, type RefusedKey } from './ssh-config-keywords.js';
import type { Options, SingleKey, SshLocal, Sourced } from './ssh-config-resolve.js';
import { didYouMean } from './suggest.js';
import { expandTilde, expandTokens, TokenError, type TokenValues } from './ssh-tokens.js';

export function refusal(loc: SourceLocation | undefined, message: string, hint: string): ConfigError {
  return new ConfigError([{ severity: 'error', code: 'ssh-config.refused', message, hint, ...(loc ? { loc } : {}) }]);
}

export function unknownKeywordProblem(written: string, loc: SourceLocation): ConfigProblem {
  const suggestion = didYouMean(written.toLowerCase(), [...readSshKeywords, ...ignoredSshKeywords]);
  return {
    severity: 'error',
    code: 'ssh-config.unknown-keyword',
    message: `unknown ssh_config keyword "${written}" (ssh stops at it too)`,
    hint: `${suggestion !== undefined ? `${suggestion} ` : ''}fix the keyword, or add "IgnoreUnknown ${written}" above it if another ssh client needs it`,
    loc,
  };
}

const sourced = (options: Options, key: SingleKey): Sourced<unknown> | undefined => options.single.get(key);

function stringValue(options: Options, key: SingleKey): (Sourced<string> & { loc: SourceLocation }) | undefined {
  const found = sourced(options, key);
  return found?.loc && typeof found.value === 'string' ? { value: found.value, loc: found.loc } : undefined;
}

const isNone = (value: unknown): boolean => typeof value === 'string' && value.toLowerCase() === 'none';

/**
 * After the first pass: true when CanonicalizeHostname asks ssh to read the configuration again; throws
 * where ssh would look the name up in DNS (CanonicalDomains, CNAME rules), which could reach another host.
 */
export function checkCanonicalization(options: Options, hostArg: string, hostname: string): boolean {
  const mode = sourced(options, 'canonicalizehostname');
  const value = mode?.value ?? 'no';
  // `ProxyJump none` counts as a proxy here, as in ssh.c (jump_host is still "none", not NULL, at this point).
  const direct = (!sourced(options, 'proxycommand') || isNone(sourced(options, 'proxycommand')?.value)) && !sourced(options, 'proxyjump');
  if (!direct && value !== 'always') return value !== 'no';
  const isAddress = /^[\d.]+$/.test(hostname) || hostname.includes(':');
  const domains = sourced(options, 'canonicaldomains')?.value as string[] | undefined;
  const maxDots = (sourced(options, 'canonicalizemaxdots')?.value as number | undefined) ?? 1;
  const dots = hostname.split('.').length - 1;
  const searched =
    value !== 'no' &&
    !isAddress &&
    (hostname.endsWith('.') || (dots <= maxDots && domains !== undefined && domains.length > 0 && !isNone(domains[0])));
  const cnames = sourced(options, 'canonicalizepermittedcnames');
  // With CanonicalizeHostname no, ssh may still look the name up but does not follow the CNAME (check_follow_cname).
  const followed = value !== 'no' && !isAddress && cnames !== undefined && !isNone((cnames.value as string[])[0]);
  if (searched || followed) {
    const where = searched ? (sourced(options, 'canonicaldomains')?.loc ?? mode?.loc) : cnames?.loc;
    throw refusal(
      where,
      `ssh would look ${hostname}${hostname === hostArg ? '' : ` (for ${hostArg})`} up in DNS to canonicalise it (CanonicalizeHostname with CanonicalDomains or CanonicalizePermittedCNAMEs); orchestrate does not`,
      `give ${hostArg} its full name (HostName, or ansible_host in the inventory), or exclude it from those lines`,
    );
  }
  return value !== 'no';
}

/** The checks on the settings of one host, after all passes. */
export function checkResolved(options: Options, hostArg: string, hostname: string, local: SshLocal): void {
  const command = stringValue(options, 'proxycommand');
  if (command && !isNone(command.value)) {
    throw refusal(
      command.loc,
      `ProxyCommand "${command.value}" applies to ${hostArg}; orchestrate does not run proxy commands`,
      'use ProxyJump (orchestrate connects through jump hosts itself, one connection per jump host), or set ssh_jump_hosts in the inventory',
    );
  }
  if (sourced(options, 'refuseconnection')?.value === true) {
    throw refusal(
      sourced(options, 'refuseconnection')?.loc,
      `RefuseConnection yes applies to ${hostArg}: ssh_config forbids connecting to it`,
      'remove RefuseConnection for this host if orchestrate may reach it',
    );
  }
  for (const [key, what] of Object.entries(refusedSshKeywords) as [RefusedKey, (typeof refusedSshKeywords)[RefusedKey]][]) {
    const set = stringValue(options, key);
    if (!set || (isNone(set.value) && key !== 'hostkeyalias')) continue;
    throw refusal(set.loc, `${what.name} "${set.value}" applies to ${hostArg}: ${what.why}`, what.hint);
  }
  checkIdentityAgent(options, hostArg, hostname, local);
  checkNames(options, hostArg, hostname);
}

/** orchestrate uses the agent of SSH_AUTH_SOCK: IdentityAgent must name that one, or `none` with no agent set. */
function checkIdentityAgent(options: Options, hostArg: string, hostname: string, local: SshLocal): void {
  const agent = stringValue(options, 'identityagent');
  if (!agent || agent.value === 'SSH_AUTH_SOCK') return;
  const env = local.env ?? process.env;
  const current = env.SSH_AUTH_SOCK ?? '';
  let wanted: string;
  try {
    const tokens: TokenValues = {
      host: hostname,
      originalHost: hostArg,
      remoteUser: (sourced(options, 'user')?.value as string | undefined) ?? local.user,
      port: (sourced(options, 'port')?.value as number | undefined) ?? 22,
      localUser: local.user,
      homeDir: local.homeDir,
      uid: local.uid,
      localHostname: local.hostname,
    };
    wanted = expandTokens(expandTilde(agent.value, local.homeDir), tokens, { dollar: true, env });
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    throw refusal(agent.loc, `cannot expand IdentityAgent "${agent.value}": ${error.message}`, 'fix the value (ssh refuses it too)');
  }
  // The legacy `$NAME` form names a variable (unset: no agent).
  if (wanted.startsWith('$')) wanted = env[wanted.slice(1)] ?? 'none';
  if (wanted === 'none' ? current === '' : wanted === current) return;
  throw refusal(
    agent.loc,
    `IdentityAgent ${agent.value} applies to ${hostArg}, but orchestrate uses the agent of SSH_AUTH_SOCK (${current === '' ? 'unset' : current}) and would offer other keys`,
    wanted === 'none'
      ? 'run orchestrate with SSH_AUTH_SOCK unset (env -u SSH_AUTH_SOCK orchestrate ...)'
      : `run orchestrate with SSH_AUTH_SOCK=${wanted}`,
  );
}

/**
 * OpenSSH (9.6 and later) rejects these in the host name and the user given on its command line (here: the
 * inventory); ssh-config-jumps.ts refuses them in ProxyJump hosts and users too.
 */
export const badHostChar = /[\s'`"$\\;&<>|(){},\p{Cc}]/u;
const badUserChar = /['`";&<>|(){}\p{Cc}]|\s-|\\$/u;

function checkNames(options: Options, hostArg: string, hostname: string): void {
  const hostnameSet = sourced(options, 'hostname');
  for (const [name, loc] of [
    [hostArg, undefined],
    [hostname, hostnameSet?.loc],
  ] as const) {
    if (name.startsWith('-') || badHostChar.test(name) || name === '') {
      throw refusal(
        loc,
        `host name ${JSON.stringify(name)} starts with "-" or holds spaces, quotes or shell characters (OpenSSH 9.6 and later refuse it)`,
        "use the host's DNS name or address",
      );
    }
  }
  const user = sourced(options, 'user');
  if (typeof user?.value === 'string' && !user.loc && (user.value.startsWith('-') || badUserChar.test(user.value))) {
    throw refusal(
      undefined,
      `user name ${JSON.stringify(user.value)} of ${hostArg} starts with "-" or holds quotes or shell characters (OpenSSH 9.6 and later refuse it)`,
      "use the account's login name",
    );
  }
}
