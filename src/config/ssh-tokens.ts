// ssh_config's value syntax: `%x` tokens and `${ENV}` in file names, `~` for a home folder, and time
// values such as `90`, `1m30s` or `1h` (OpenSSH's convtime).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/** The values `%` tokens expand to, as OpenSSH names them. */
export interface TokenValues {
  /** %h: the remote host name (after HostName). */
  host: string;
  /** %n: the host as given (the inventory's ansible_host, or its name). */
  originalHost: string;
  /** %r: the remote user. */
  remoteUser: string;
  /** %p: the remote port. */
  port: number;
  /** %u: the local user. */
  localUser: string;
  /** %d: the local user's home folder. */
  homeDir: string;
  /** %i: the local user id. */
  uid: number;
  /** %l: this machine's host name. */
  localHostname: string;
  /** %k: HostKeyAlias, else the host as given. */
  keyAlias?: string;
}

export class TokenError extends Error {}

function tokenTable(values: TokenValues): Record<string, string> {
  const shortHost = values.localHostname.split('.')[0] ?? values.localHostname;
  const port = String(values.port);
  return {
    C: createHash('sha1').update(`${values.localHostname}${values.host}${port}${values.remoteUser}`).digest('hex'),
    L: shortHost,
    i: String(values.uid),
    k: values.keyAlias ?? values.originalHost,
    l: values.localHostname,
    n: values.originalHost,
    p: port,
    d: values.homeDir,
    h: values.host,
    r: values.remoteUser,
    u: values.localUser,
  };
}

/**
 * OpenSSH's percent_expand (and, with `dollar`, `${ENV}`): `%%` is a `%`, an unknown token or an
 * unset variable is an error (thrown as TokenError), as ssh refuses them.
 */
export function expandTokens(text: string, values: TokenValues, options: { dollar: boolean; env?: NodeJS.ProcessEnv }): string {
  const table = tokenTable(values);
  const env = options.env ?? process.env;
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charAt(i);
    if (options.dollar && char === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end < 0) throw new TokenError(`\${ without a closing } in "${text}"`);
      const name = text.slice(i + 2, end);
      const value = name === '' ? undefined : env[name];
      if (value === undefined) throw new TokenError(name === '' ? 'an empty ${} in the value' : `environment variable \${${name}} is not set`);
      out += value;
      i = end;
    } else if (char === '%') {
      const key = text[i + 1];
      if (key === undefined) throw new TokenError(`a % at the end of "${text}" (write %% for a percent sign)`);
      const value = key === '%' ? '%' : table[key];
      if (value === undefined)
        throw new TokenError(
          `unknown token %${key} (known: %%, ${Object.keys(table)
            .map((k) => `%${k}`)
            .join(', ')})`,
        );
      out += value;
      i += 1;
    } else {
      out += char;
    }
  }
  return out;
}

/** `~`, `~/x` and `~user/x` as OpenSSH's tilde_expand_filename; other paths unchanged. */
export function expandTilde(path: string, homeDir: string, homeOf: (user: string) => string | undefined = () => undefined): string {
  if (!path.startsWith('~')) return path;
  const slash = path.indexOf('/');
  const user = path.slice(1, slash < 0 ? undefined : slash);
  const rest = slash < 0 ? '' : path.slice(slash).replace(/^\/+/, '');
  const home = user === '' ? homeDir : homeOf(user);
  if (home === undefined) throw new TokenError(`no such user ${user} in ${path}`);
  return `${home.endsWith('/') ? home : `${home}/`}${rest}`;
}

/** convtime: seconds, or undefined when the text is not a valid time. */
export function parseSshTime(text: string): number | undefined {
  const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  if (text === '') return undefined;
  let total = 0;
  for (const part of text.matchAll(/(\d+)([a-zA-Z]?)/gy)) {
    const multiplier = units[(part[2] ?? '').toLowerCase()];
    if (multiplier === undefined) return undefined;
    total += Number(part[1]) * multiplier;
  }
  if (!/^(\d+[sSmMhHdDwW]?)+$/.test(text) || total > 2 ** 31 - 1) return undefined;
  return total;
}

let services: Map<string, number> | undefined;

/** getservbyname(name, "tcp") from /etc/services (names and aliases, case-sensitive). */
function tcpService(name: string): number | undefined {
  if (!services) {
    services = new Map();
    let text = '';
    try {
      text = readFileSync('/etc/services', 'utf8');
    } catch {
      // no services database: numbers only
    }
    for (const line of text.split('\n')) {
      const [first, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
      const match = /^(\d+)\/tcp$/.exec(portProto ?? '');
      if (first === undefined || !match) continue;
      for (const alias of [first, ...aliases]) if (!services.has(alias)) services.set(alias, Number(match[1]));
    }
  }
  return services.get(name);
}

/** OpenSSH's a2port: a decimal number (an optional sign, leading zeros allowed) or a TCP service name; 1 to 65535. */
export function parseSshPort(text: string): number | undefined {
  const port = /^[ \t\n\v\f\r]*[+-]?\d+$/.test(text) ? Number(text.trim()) : tcpService(text);
  return port !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

/** Local facts the tokens need; `homeDir` is the account's home, as OpenSSH reads it (not $HOME). */
export function localTokenValues(): Pick<TokenValues, 'localUser' | 'homeDir' | 'uid'> {
  const info = userInfo();
  return { localUser: info.username, homeDir: info.homedir, uid: info.uid };
}
