// ProxyJump values as OpenSSH reads them: `none`, or a comma-separated chain of `[user@]host[:port]` or
// `ssh://[user@]host[:port]`, the first hop first. IPv6 addresses go in brackets (`[fd00::1]:22`).
import { parseSshPort } from './ssh-tokens.js';

export interface JumpHop {
  user?: string;
  host: string;
  port?: number;
}

export type JumpValue = { kind: 'none' } | { kind: 'chain'; hops: JumpHop[] } | { kind: 'error'; message: string };

/** Parses a ProxyJump value; a `#` starts a comment, as in ssh_config. */
export function parseProxyJump(text: string): JumpValue {
  const value = text.replace(/#.*$/, '').trim();
  if (value.toLowerCase() === 'none') return { kind: 'none' };
  if (value === '') return { kind: 'error', message: 'an empty ProxyJump' };
  const hops: JumpHop[] = [];
  for (const part of value.split(',')) {
    const hop = part.startsWith('ssh://') ? parseSshUri(part) : parseUserHostPort(part);
    if (typeof hop === 'string') return { kind: 'error', message: `"${part}": ${hop}` };
    hops.push(hop);
  }
  return { kind: 'chain', hops };
}

/** The hops back in ProxyJump syntax (for `-J` of the next hop, and for messages). */
export function formatJumpHops(hops: readonly JumpHop[]): string {
  return hops
    .map((hop) => {
      const host = hop.host.includes(':') ? `[${hop.host}]` : hop.host;
      return `${hop.user !== undefined ? `${hop.user}@` : ''}${host}${hop.port !== undefined ? `:${hop.port}` : ''}`;
    })
    .join(',');
}

function parsePort(text: string): number | string {
  return parseSshPort(text) ?? `bad port "${text}"`;
}

/** `[user@]host[:port]`: the user is everything before the last `@`. */
function parseUserHostPort(text: string): JumpHop | string {
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  if (user === '') return 'an empty user name';
  const hostPort = splitHostPort(text.slice(at + 1));
  if (typeof hostPort === 'string') return hostPort;
  return { ...(user !== undefined ? { user } : {}), ...hostPort };
}

function parseSshUri(text: string): JumpHop | string {
  const rest = text.slice('ssh://'.length);
  const at = rest.indexOf('@');
  let user = at >= 0 ? rest.slice(0, at) : undefined;
  if (user !== undefined) user = decodeURIComponent(user.split(';')[0] ?? '');
  if (user === '') return 'an empty user name';
  const hostPort = splitHostPort(rest.slice(at + 1).replace(/\/$/, ''));
  if (typeof hostPort === 'string') return hostPort;
  // OpenSSH's valid_domain: an ssh:// host is a name or an IPv4 address (no IPv6, no path).
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(hostPort.host)) return `"${hostPort.host}" is not a valid host name for an ssh:// URI`;
  return { ...(user !== undefined ? { user } : {}), ...hostPort };
}

/** hpdelim: `host`, `host:port`, `[v6]` or `[v6]:port`. */
function splitHostPort(text: string): { host: string; port?: number } | string {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return 'a [ without ]';
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return `unexpected "${after}" after ]`;
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (host === '') return 'no host name';
  if (/[\s,]/.test(host)) return `"${host}" is not a host name`;
  if (portText === undefined || portText === '') return { host };
  const port = parsePort(portText);
  return typeof port === 'string' ? port : { host, port };
}
