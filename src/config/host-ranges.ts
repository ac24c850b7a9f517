// Host patterns of Ansible's INI inventory: `host:port`, `[v6::addr]:port`, and ranges such as
// `10.0.0.[1:3]`, `node[01:10:2]` (leading zeros kept), `db-[a:c]` (letters), several in one name.
// The rules and their errors are Ansible's (parse_address and expand_hostname_range).

export class HostRangeError extends Error {}

const numericRange = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const hexRange = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const alphanumericRange = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const v6Part = String.raw`(?:[0-9a-f]{1,4}|${hexRange})`;
const v4Part = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${numericRange})`;
const label = String.raw`(?:[\p{L}\p{N}_]|${alphanumericRange})(?:[\p{L}\p{N}_-]|${alphanumericRange})*(?<![_-])`;

const patterns = {
  bracketedHostPort: /^\[(.+)\]:([0-9]+)$/,
  hostPort: /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/,
  ipv4: new RegExp(String.raw`^(?:${v4Part}\.){3}${v4Part}$`, 'i'),
  ipv6: new RegExp(
    '^(?:' +
      [
        String.raw`(?:${v6Part}:){7}${v6Part}`,
        String.raw`(?:${v6Part}:){1,6}:`,
        String.raw`(?:${v6Part}:)(?::${v6Part}){1,6}`,
        String.raw`(?:${v6Part}:){2}(?::${v6Part}){1,5}`,
        String.raw`(?:${v6Part}:){3}(?::${v6Part}){1,4}`,
        String.raw`(?:${v6Part}:){4}(?::${v6Part}){1,3}`,
        String.raw`(?:${v6Part}:){5}(?::${v6Part}){1,2}`,
        String.raw`(?:${v6Part}:){6}(?::${v6Part})`,
        String.raw`:(?::${v6Part}){1,6}`,
        String.raw`${v6Part}?::`,
        String.raw`(?:0:){6}(?:${v6Part}\.){3}${v6Part}`,
        String.raw`::(?:ffff:)?(?:${v6Part}\.){3}${v6Part}`,
        String.raw`(?:0:){5}ffff:(?:${v6Part}\.){3}${v6Part}`,
      ].join('|') +
      ')$',
    'i',
  ),
  hostname: new RegExp(String.raw`^${label}(?:\.${label})*$`, 'iu'),
};

/** A host name or address with its optional port, as Ansible's parse_address reads it; undefined when it is neither. */
function parseAddress(pattern: string): { host: string; port?: number } | undefined {
  let address = pattern;
  let port: number | undefined;
  for (const matcher of [patterns.bracketedHostPort, patterns.hostPort]) {
    const match = matcher.exec(address);
    if (match) {
      address = match[1] as string;
      port = Number(match[2]);
    }
  }
  if (!patterns.ipv4.test(address) && !patterns.ipv6.test(address) && !patterns.hostname.test(address)) return undefined;
  return port === undefined ? { host: address } : { host: address, port };
}

export interface ExpandedHosts {
  hosts: string[];
  port?: number;
}

/** Expand one host pattern of an INI host line into its host names and port; throws HostRangeError as Ansible would fail. */
export function expandHostPattern(pattern: string): ExpandedHosts {
  // A pattern Ansible cannot parse as an address is taken whole, port and all (and its ranges expanded).
  const parsed = parseAddress(pattern) ?? { host: pattern };
  if (pattern.trim().endsWith(':') && parsed.port === undefined) {
    throw new HostRangeError(`a host cannot end in ":" (that character introduces a port): "${pattern}"`);
  }
  const hosts = parsed.host.includes('[') ? expandRanges(parsed.host) : [parsed.host];
  if (hosts.length === 0) throw new HostRangeError(`the range in "${pattern}" gives no host (its start is after its end)`);
  if (hosts.some((host) => host.trim() === '---')) throw new HostRangeError('"---" is not a host name; is this a YAML file?');
  return parsed.port === undefined ? { hosts } : { hosts, port: parsed.port };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Ansible's expand_hostname_range: the first `[begin:end(:step)]` expanded, then the rest of the name, recursively. */
function expandRanges(line: string): string[] {
  const open = line.indexOf('[');
  const close = line.indexOf(']', open);
  if (close === -1 || line.indexOf(']') < open) throw new HostRangeError(`the range in "${line}" is not closed with "]"`);
  const head = line.slice(0, open);
  const tail = line.slice(close + 1);
  const bounds = line.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3)
    throw new HostRangeError(`a host range must be [begin:end] or [begin:end:step], not "[${bounds.join(':')}]"`);
  const begin = bounds[0] || '0';
  const end = bounds[1] as string;
  const stepText = bounds[2] ?? '1';
  if (end === '') throw new HostRangeError(`the host range "[${bounds.join(':')}]" has no end`);
  const step = integer(stepText, 'step');
  if (step <= 0) throw new HostRangeError(`the step of a host range must be 1 or more, not ${stepText}`);
  let fill = (value: number): string => String(value);
  if (begin.startsWith('0') && begin.length > 1) {
    // A leading zero sets the width of every number; begin and end must have it.
    if (begin.length !== end.length) throw new HostRangeError(`the range "[${bounds.join(':')}]" must give begin and end the same number of digits`);
    fill = (value) => String(value).padStart(begin.length, '0');
  }
  let sequence: string[];
  const letterBegin = LETTERS.indexOf(begin);
  const letterEnd = LETTERS.indexOf(end);
  if (letterBegin !== -1 && letterEnd !== -1) {
    if (letterBegin > letterEnd) throw new HostRangeError(`the letters of the range "[${bounds.join(':')}]" must run forwards`);
    sequence = [];
    for (let i = letterBegin; i <= letterEnd; i += step) sequence.push(LETTERS[i] as string);
  } else {
    const first = integer(begin, 'begin');
    const last = integer(end, 'end');
    if (Math.floor((last - first) / step) + 1 > MAX_RANGE_HOSTS) {
      throw new HostRangeError(`the range "[${bounds.join(':')}]" gives more than ${MAX_RANGE_HOSTS} hosts`);
    }
    sequence = [];
    for (let value = first; value <= last; value += step) sequence.push(fill(value));
  }
  const hosts: string[] = [];
  for (const item of sequence) {
    const name = `${head}${item}${tail}`;
    if (name.includes('[')) hosts.push(...expandRanges(name));
    else hosts.push(name);
    if (hosts.length > MAX_RANGE_HOSTS) throw new HostRangeError(`"${line}" gives more than ${MAX_RANGE_HOSTS} hosts`);
  }
  return hosts;
}

/** A bound on what one line may expand to, so a typo such as [1:1000000000] fails instead of filling memory. */
const MAX_RANGE_HOSTS = 100_000;

function integer(text: string, what: string): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new HostRangeError(`the ${what} of a host range must be a number or a letter, not "${text}"`);
  return Number.parseInt(text.trim(), 10);
}
