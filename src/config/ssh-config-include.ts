// `Include` arguments are glob(3) patterns with `~` expanded (GLOB_TILDE): `*`, `?` and `[...]` within one
// path segment, names starting with `.` matched only by a pattern starting with `.`, results sorted,
// nothing for a pattern that matches no file.
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';

const magic = /[*?[]/;

/** The home folder of `user` from the password database (for `~user/...`). */
function homeOf(user: string): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === user) return fields[5];
    }
  } catch {
    // no password file: leave the pattern as it is
  }
  return undefined;
}

function expandTildePattern(pattern: string, homeDir: string): string {
  if (!pattern.startsWith('~')) return pattern;
  const slash = pattern.indexOf('/');
  const user = pattern.slice(1, slash < 0 ? undefined : slash);
  const home = user === '' ? homeDir : homeOf(user);
  if (home === undefined) return pattern;
  return `${home.replace(/\/$/, '')}${slash < 0 ? '' : pattern.slice(slash)}`;
}

/** fnmatch for one segment: `*`, `?`, `[a-z]`, `[!x]` and backslash escapes; a leading `.` only literally. */
export function segmentMatches(pattern: string, name: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern.charAt(i);
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern.charAt(++i));
    else if (char === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, 's').test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The existing files an absolute or `~` Include pattern names, sorted. */
export async function expandIncludePattern(pattern: string, homeDir: string): Promise<string[]> {
  const expanded = expandTildePattern(pattern, homeDir);
  if (!expanded.startsWith('/')) return [];
  let bases = ['/'];
  const segments = expanded.split('/').filter((segment) => segment !== '');
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of bases) {
      const prefix = base === '/' ? '/' : `${base}/`;
      if (!magic.test(segment)) {
        next.push(`${prefix}${segment.replace(/\\(.)/g, '$1')}`);
        continue;
      }
      let names: string[];
      try {
        names = await readdir(base);
      } catch {
        continue;
      }
      for (const name of names) if (segmentMatches(segment, name)) next.push(`${prefix}${name}`);
    }
    bases = next;
  }
  const found: string[] = [];
  for (const path of bases) if (await exists(path)) found.push(path);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
