// The ssh_config keywords orchestrate honours or refuses, each parsed and checked as OpenSSH does (a bad
// value is an error even in a block that does not apply). Known keywords not listed here are ignored
// (ssh-config-keywords.ts); unknown ones are kept, to be refused unless IgnoreUnknown names them.
import { ignoredSshKeywords, type RefusedKey } from './ssh-config-keywords.js';
import { parseProxyJump } from './ssh-jump.js';
import { parseSshPort, parseSshTime } from './ssh-tokens.js';

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';
export type Canonicalize = 'no' | 'yes' | 'always';

export type SshOption =
  | { key: 'hostname' | 'user' | 'identityfile' | 'proxycommand' | 'proxyjump' | 'identityagent' | 'ignoreunknown' | 'tag'; value: string }
  | { key: RefusedKey; value: string }
  | { key: 'port' | 'serveralivecountmax' | 'canonicalizemaxdots'; value: number }
  | { key: 'identitiesonly' | 'refuseconnection'; value: boolean }
  /** Seconds; undefined for `none`. */
  | { key: 'connecttimeout' | 'serveraliveinterval'; value: number | undefined }
  | { key: 'userknownhostsfile' | 'globalknownhostsfile' | 'canonicaldomains' | 'canonicalizepermittedcnames'; value: string[] }
  | { key: 'stricthostkeychecking'; value: StrictHostKeyChecking }
  | { key: 'canonicalizehostname'; value: Canonicalize };

export type OptionParse =
  | { kind: 'option'; option: SshOption }
  | { kind: 'ignored' }
  /** Not a keyword of any OpenSSH: an error unless IgnoreUnknown names it (decided per host). */
  | { kind: 'unknown' }
  | { kind: 'error'; message: string };

const flags: Record<string, boolean> = { yes: true, true: true, no: false, false: false };
const strictValues: Record<string, StrictHostKeyChecking> = {
  yes: 'yes',
  true: 'yes',
  no: 'no',
  false: 'no',
  off: 'no',
  ask: 'ask',
  'accept-new': 'accept-new',
};

const canonicalizeValues: Record<string, Canonicalize> = { yes: 'yes', true: 'yes', no: 'no', false: 'no', always: 'always' };

const single = (key: 'hostname' | 'user' | 'identityfile' | 'identityagent' | 'ignoreunknown' | 'tag' | RefusedKey, args: string[]): OptionParse => {
  const [value, ...extra] = args;
  if (value === undefined || value === '') return { kind: 'error', message: 'missing value' };
  if (extra.length > 0) return { kind: 'error', message: `one value expected, got also "${extra.join(' ')}"` };
  return { kind: 'option', option: { key, value } };
};

const oneArgument = (args: string[]): string | undefined => (args.length === 1 && args[0] !== '' ? args[0] : undefined);

function parsePort(args: string[]): OptionParse {
  const text = oneArgument(args);
  const port = text === undefined ? undefined : parseSshPort(text);
  if (port === undefined) return { kind: 'error', message: `bad port "${args.join(' ')}" (expected 1 to 65535, or a service name)` };
  return { kind: 'option', option: { key: 'port', value: port } };
}

function parseTime(key: 'connecttimeout' | 'serveraliveinterval', args: string[]): OptionParse {
  const text = oneArgument(args);
  if (text === 'none') return { kind: 'option', option: { key, value: undefined } };
  const seconds = text === undefined ? undefined : parseSshTime(text);
  if (seconds === undefined) return { kind: 'error', message: `bad time "${args.join(' ')}" (expected seconds such as 30, 1m or 1h30m, or none)` };
  return { kind: 'option', option: { key, value: seconds } };
}

function parseChoice<T>(args: string[], choices: Record<string, T>, build: (value: T) => SshOption): OptionParse {
  const text = oneArgument(args)?.toLowerCase();
  const value = text === undefined ? undefined : choices[text];
  if (value === undefined) return { kind: 'error', message: `bad value "${args.join(' ')}" (expected ${Object.keys(choices).join(', ')})` };
  return { kind: 'option', option: build(value) };
}

function parseList(
  key: 'userknownhostsfile' | 'globalknownhostsfile' | 'canonicaldomains' | 'canonicalizepermittedcnames',
  args: string[],
): OptionParse {
  if (args.length === 0 || args.includes('')) return { kind: 'error', message: 'missing value' };
  if (args.some((arg) => arg.toLowerCase() === 'none') && args.length > 1) return { kind: 'error', message: '"none" must appear alone' };
  return { kind: 'option', option: { key, value: args } };
}

function parseCount(key: 'serveralivecountmax' | 'canonicalizemaxdots', args: string[]): OptionParse {
  const text = oneArgument(args);
  if (text === undefined || !/^\d{1,9}$/.test(text)) return { kind: 'error', message: `bad number "${args.join(' ')}"` };
  return { kind: 'option', option: { key, value: Number(text) } };
}

/**
 * `rest` is the raw text after the keyword (ProxyJump and ProxyCommand read it whole), `args` the same
 * split into arguments.
 */
export function parseSshOption(keyword: string, rest: string, args: string[]): OptionParse {
  switch (keyword) {
    case 'hostname':
    case 'user':
    case 'identityfile':
    case 'identityagent':
    case 'ignoreunknown':
    case 'tag':
    case 'hostkeyalias':
    case 'revokedhostkeys':
    case 'certificatefile':
    case 'pkcs11provider':
      return single(keyword, args);
    case 'identityfile2': // an old name of IdentityFile
      return single('identityfile', args);
    case 'smartcarddevice': // the same setting as PKCS11Provider
      return single('pkcs11provider', args);
    case 'knownhostscommand':
      return { kind: 'option', option: { key: 'knownhostscommand', value: rest } };
    case 'port':
      return parsePort(args);
    case 'identitiesonly':
    case 'refuseconnection':
      return parseChoice(args, flags, (value) => ({ key: keyword, value }));
    case 'canonicalizehostname':
      return parseChoice(args, canonicalizeValues, (value) => ({ key: 'canonicalizehostname', value }));
    case 'stricthostkeychecking':
      return parseChoice(args, strictValues, (value) => ({ key: 'stricthostkeychecking', value }));
    case 'connecttimeout':
    case 'serveraliveinterval':
      return parseTime(keyword, args);
    case 'protocolkeepalives': // Debian's names for ServerAliveInterval (keepalive-extensions patch)
    case 'setuptimeout':
      return parseTime('serveraliveinterval', args);
    case 'serveralivecountmax':
    case 'canonicalizemaxdots':
      return parseCount(keyword, args);
    case 'userknownhostsfile':
    case 'globalknownhostsfile':
    case 'canonicaldomains':
    case 'canonicalizepermittedcnames':
      return parseList(keyword, args);
    case 'proxyjump': {
      const parsed = parseProxyJump(rest);
      if (parsed.kind === 'error') return { kind: 'error', message: `invalid ProxyJump: ${parsed.message}` };
      return { kind: 'option', option: { key: 'proxyjump', value: rest.replace(/#.*$/, '').trim() } };
    }
    case 'proxycommand':
      return { kind: 'option', option: { key: 'proxycommand', value: rest.replace(/^[\s=]+/, '') } };
    default:
      return ignoredSshKeywords.has(keyword) ? { kind: 'ignored' } : { kind: 'unknown' };
  }
}
