// Node's isIPv6 builds a large regular expression on its first call (~5 ms of every start, paid even for
// IPv4 addresses and group names); only text with a colon can be an IPv6 literal.
import { isIPv6 } from 'node:net';

export function isIPv6Literal(text: string): boolean {
  return text.includes(':') && isIPv6(text);
}
