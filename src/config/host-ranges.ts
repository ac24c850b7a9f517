// Host patterns of Ansible's INI inventory: `host:port`, `[v6::addr]:port`, and ranges such as
// `10.0.0.[1:3]`, `node[01:10:2]` (leading zeros kept), `db-[a:c]` (letters), several in one name.
// The rules and their errors are Ansible's (parse_address and expand_hostname_range).

export class HostRangeError extends Error {
  constructor(
    message: string,
    /** True when the pattern gives more hosts than the limit it was expanded with. */
    readonly overLimit = false,
  ) {
    super(message);
  }
}

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
        // Only the last alternative ends in `$`: in Ansible's pattern `^a|b|...|z$` binds `$` to z alone, so
        // `[fe80::1%eth0]:22` is an address (its prefix matches) and keeps its port.
        String.raw`(?:0:){5}ffff:(?:${v6Part}\.){3}${v6Part}$`,
      ].join('|') +
      ')',
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

/**
 * Expand one host pattern of an INI host line into its host names and port; throws HostRangeError as Ansible
 * would fail, and where the ranges give more than `limit` hosts.
 */
export function expandHostPattern(pattern: string, limit = MAX_RANGE_HOSTS): ExpandedHosts {
  // A pattern Ansible cannot parse as an address is taken whole, port and all (and its ranges expanded).
  const parsed = parseAddress(pattern) ?? { host: pattern };
  if (pattern.trim().endsWith(':') && parsed.port === undefined) {
    throw new HostRangeError(`a host cannot end in ":" (that character introduces a port): "${short(pattern)}"`);
  }
  let hosts = [parsed.host];
  if (parsed.host.includes('[')) {
    if (parsed.host.split('[').length - 1 > MAX_RANGES_PER_NAME)
      throw new HostRangeError(`"${short(pattern)}" has more than ${MAX_RANGES_PER_NAME} ranges`);
    hosts = expandRanges(parsed.host, limit);
  }
  if (hosts.some((host) => host.trim() === '---')) throw new HostRangeError('"---" is not a host name; is this a YAML file?');
  // Host(name, port) in Ansible keeps a port only when it is not 0.
  return parsed.port ? { hosts, port: parsed.port } : { hosts };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A bound on what one line may expand to, so a typo such as [1:1000000000] fails instead of filling memory. */
export const MAX_RANGE_HOSTS = 100_000;
/** Ansible recurses once per range and fails near Python's recursion limit of 1000. */
const MAX_RANGES_PER_NAME = 900;

/**
 * Ansible's expand_hostname_range: the first `[begin:end(:step)]` expanded, then the rest of the name, recursively.
 * A range that runs backwards gives no host, as Python's range() does; the caller warns about it.
 */
function expandRanges(line: string, limit: number): string[] {
  // Ansible splits the name at the first "[" and "]" after turning them into "|": any other "|" breaks that split.
  if (line.includes('|')) throw new HostRangeError(`a host name with a range cannot contain "|": "${short(line)}"`);
  const open = line.indexOf('[');
  const close = line.indexOf(']', open);
  if (close === -1 || line.indexOf(']') < open) throw new HostRangeError(`the range in "${short(line)}" is not closed with "]"`);
  const head = line.slice(0, open);
  const tail = line.slice(close + 1);
  const hosts: string[] = [];
  for (const item of rangeItems(line.slice(open + 1, close).split(':'), limit)) {
    const name = `${head}${item}${tail}`;
    if (name.includes('[')) for (const host of expandRanges(name, limit - hosts.length)) hosts.push(host);
    else hosts.push(name);
    if (hosts.length > limit) throw new HostRangeError(`"${short(line)}" gives more than ${limit} hosts`, true);
  }
  return hosts;
}

/** The items of one range's bounds, as Ansible computes them (letters, or numbers with Python's int() and range()). */
function rangeItems(bounds: string[], limit: number): string[] {
  const written = short(`[${bounds.join(':')}]`);
  if (bounds.length !== 2 && bounds.length !== 3) throw new HostRangeError(`a host range must be [begin:end] or [begin:end:step], not "${written}"`);
  const begin = bounds[0] || '0';
  const end = bounds[1] as string;
  if (end === '') throw new HostRangeError(`the host range "${written}" has no end`);
  // A leading zero sets the width of every number; begin and end must have it.
  const width = begin.startsWith('0') && begin.length > 1 ? begin.length : 0;
  if (width && width !== end.length) throw new HostRangeError(`the range "${written}" must give begin and end the same number of digits`);
  const letterBegin = LETTERS.indexOf(begin);
  const letterEnd = LETTERS.indexOf(end);
  const stepText = bounds[2] ?? '1';
  if (letterBegin !== -1 && letterEnd !== -1 && pythonInt(stepText) !== 0n) {
    if (letterBegin > letterEnd) throw new HostRangeError(`the letters of the range "${written}" must run forwards`);
    const step = Number(integer(stepText, 'step'));
    const letters: string[] = [];
    for (let i = letterBegin; step > 0 && i <= letterEnd; i += step) letters.push(LETTERS[i] as string);
    return letters;
  }
  const first = integer(begin, 'begin');
  const stop = integer(end, 'end') + 1n;
  const step = integer(stepText, 'step');
  if (step === 0n) throw new HostRangeError(`the step of the host range "${written}" cannot be 0`);
  // BigInt: bounds beyond 2^53 must neither lose digits nor loop forever.
  const count = step > 0n ? (stop - first + step - 1n) / step : (first - stop - step - 1n) / -step;
  if (count > BigInt(limit)) throw new HostRangeError(`the range "${written}" gives more than ${limit} hosts`, true);
  const items: string[] = [];
  for (let value = first, i = 0n; i < count; i++, value += step) items.push(zfill(value, width));
  return items;
}

/** Python's str(value).zfill(width): zeros go after the sign. */
function zfill(value: bigint, width: number): string {
  const digits = (value < 0n ? -value : value).toString();
  const sign = value < 0n ? '-' : '';
  return sign + digits.padStart(width - sign.length, '0');
}

/** Python's int() of a range bound: blanks around, a sign, digits with single underscores between them. */
function pythonInt(text: string): bigint | undefined {
  const match = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(text);
  if (!match) return undefined;
  const value = BigInt((match[2] as string).replaceAll('_', ''));
  return match[1] === '-' ? -value : value;
}

function integer(text: string, what: string): bigint {
  const value = pythonInt(text);
  if (value === undefined) throw new HostRangeError(`the ${what} of a host range must be a number or a letter, not "${text}"`);
  return value;
}

/** A pattern quoted in a message, cut short: a hostile line may be megabytes long. */
function short(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
