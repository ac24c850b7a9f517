// Reading ~/.ssh/config (or the file of `--ssh-config`, like `ssh -F`) and /etc/ssh/ssh_config into
// blocks, as OpenSSH reads them: `Host` and `Match` lines, `Include` (globs; relative paths resolve
// against ~/.ssh, or /etc/ssh for the system file), and the options orchestrate honours, each checked.
// Which block applies to a host is decided later (ssh-config-resolve.ts), when the host is known.
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigProblem, SourceLocation } from '../errors.js';
import { ConfigError } from '../errors.js';
import { CONFIG_FILE_LIMIT, FileReadError, readBoundedFile } from './bounded-read.js';
import { parseMatchLine, type MatchCriterion } from './ssh-config-match.js';
import { expandIncludePattern } from './ssh-config-include.js';
import { splitArguments, splitConfigLine } from './ssh-config-lines.js';
import { parseSshOption, type SshOption } from './ssh-config-options.js';

export type SshConfigEntry =
  | { kind: 'host'; patterns: string[]; loc: SourceLocation }
  | { kind: 'match'; criteria: MatchCriterion[]; loc: SourceLocation }
  | { kind: 'include'; files: SshConfigFile[]; loc: SourceLocation }
  | { kind: 'option'; option: SshOption; loc: SourceLocation }
  /** A keyword no OpenSSH knows: refused for a host unless IgnoreUnknown (as set for it so far) names it. */
  | { kind: 'unknown'; keyword: string; written: string; loc: SourceLocation };

export interface SshConfigFile {
  path: string;
  entries: SshConfigEntry[];
}

/** The files in reading order: the user's (or `-F`'s), then the system's. */
export interface SshConfig {
  files: SshConfigFile[];
}

export interface LoadSshConfigOptions {
  /** Like `ssh -F FILE`: only this file is read (it must exist), not the system one; `none` reads nothing. */
  file?: string;
  /** The account's home folder (`~`). Default: the current user's, from the password database as ssh does. */
  homeDir: string;
  /** Current user id, for the ownership check. */
  uid: number;
  /** Default `/etc/ssh/ssh_config`; false skips it. */
  systemFile?: string | false;
}

/** OpenSSH stops reading nested Includes at this depth. */
const maxIncludeDepth = 16;
/** Hostile input: all files together (a file included twice counts twice), and problems before giving up. */
const maxTotalBytes = CONFIG_FILE_LIMIT;
const maxFiles = 1000;
const maxProblems = 50;

interface Reader {
  options: LoadSshConfigOptions;
  problems: ConfigProblem[];
  bytesRead: number;
  filesRead: number;
  /** Set once reading must stop (too many problems, or a budget exceeded). */
  stopped: boolean;
}

function problem(loc: SourceLocation, message: string, hint: string, lineText?: string): ConfigProblem {
  return { severity: 'error', code: 'ssh-config.invalid', message, hint, loc, ...(lineText !== undefined ? { lineText } : {}) };
}

/** Reads the configuration; throws a ConfigError listing every problem found (file:line, the fix). */
export async function loadSshConfig(options: LoadSshConfigOptions): Promise<SshConfig> {
  const reader: Reader = { options, problems: [], bytesRead: 0, filesRead: 0, stopped: false };
  const files: SshConfigFile[] = [];
  if (options.file !== undefined) {
    if (options.file.toLowerCase() !== 'none') {
      const explicit = await readConfigFile(reader, options.file, { user: true, mustExist: true, checkPermissions: false, depth: 0, stack: [] });
      if (explicit) files.push(explicit);
    }
  } else {
    const user = await readConfigFile(reader, join(options.homeDir, '.ssh', 'config'), {
      user: true,
      mustExist: false,
      checkPermissions: true,
      depth: 0,
      stack: [],
    });
    if (user) files.push(user);
    const systemFile = options.systemFile ?? '/etc/ssh/ssh_config';
    if (systemFile !== false) {
      const system = await readConfigFile(reader, systemFile, { user: false, mustExist: false, checkPermissions: false, depth: 0, stack: [] });
      if (system) files.push(system);
    }
  }
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return { files };
}

interface FileMode {
  /** A user's file: `~` allowed in Include, relative Includes under ~/.ssh (else /etc/ssh). */
  user: boolean;
  mustExist: boolean;
  checkPermissions: boolean;
  depth: number;
  /** Real paths of the files including this one, to name an Include loop. */
  stack: string[];
}

async function readConfigFile(reader: Reader, path: string, mode: FileMode): Promise<SshConfigFile | undefined> {
  const at: SourceLocation = { file: path, line: 1, col: 1 };
  let text: string;
  try {
    text = (await readBoundedFile(path, Math.min(CONFIG_FILE_LIMIT, maxTotalBytes - reader.bytesRead))).toString('utf8');
    reader.bytesRead += Buffer.byteLength(text);
    reader.filesRead += 1;
  } catch (error) {
    if (error instanceof FileReadError && error.errno === 'ENOENT' && !mode.mustExist) return undefined;
    const reason = error instanceof FileReadError ? error.reason : (error as Error).message;
    reader.problems.push(
      problem(at, `cannot read ssh config ${path}: ${reason}`, 'check the path given to --ssh-config, or the Include line naming it'),
    );
    return undefined;
  }
  if (mode.checkPermissions && !(await permissionsAreSafe(reader, path, at))) return undefined;
  const entries: SshConfigEntry[] = [];
  const lines = text.split('\n');
  const fileMode = { ...mode, stack: [...mode.stack, await realpath(path).catch(() => path)] };
  for (const [index, lineText] of lines.entries()) {
    if (reader.stopped) break;
    const parsed = parseLine(reader, path, index + 1, lineText.replace(/\r$/, ''), fileMode);
    // Only Include lines wait (for the files they name); the rest is parsed synchronously, for big files.
    const entry = parsed instanceof Promise ? await parsed : parsed;
    if (entry) entries.push(entry);
    if (reader.problems.length >= maxProblems) giveUp(reader, { file: path, line: index + 1, col: 1 });
  }
  return { path, entries };
}

/** A hostile or broken file: stop after `maxProblems`, saying so once. */
function giveUp(reader: Reader, loc: SourceLocation): void {
  if (reader.stopped) return;
  reader.stopped = true;
  reader.problems.push(problem(loc, `more than ${maxProblems} problems; stopped reading`, 'fix these first'));
}

/** As ssh: a config writable by others, or owned by someone else than the user or root, is refused. */
async function permissionsAreSafe(reader: Reader, path: string, at: SourceLocation): Promise<boolean> {
  const info = await stat(path);
  if ((info.uid === 0 || info.uid === reader.options.uid) && (info.mode & 0o022) === 0) return true;
  reader.problems.push(
    problem(
      at,
      `bad owner or permissions on ${path}: ssh refuses it too (others could change which hosts and keys are used)`,
      `chmod go-w ${path}; it must belong to you or root`,
    ),
  );
  return false;
}

function parseLine(
  reader: Reader,
  path: string,
  line: number,
  lineText: string,
  mode: FileMode,
): SshConfigEntry | undefined | Promise<SshConfigEntry | undefined> {
  const split = splitConfigLine(lineText);
  if (split.kind === 'blank') return undefined;
  if (split.kind === 'error') {
    reader.problems.push(problem({ file: path, line, col: split.col }, split.message, 'give the keyword a value, or remove the line', lineText));
    return undefined;
  }
  const { keyword, rest, restCol } = split.line;
  const loc: SourceLocation = { file: path, line, col: split.line.col };
  const report = (message: string, hint: string): SshConfigEntry | undefined => {
    reader.problems.push(problem(loc, message, hint, lineText));
    return undefined;
  };
  const args = splitArguments(rest);
  if (!args) return report(`unbalanced quotes in ${keyword}`, 'close the quote, or escape it with a backslash');
  if (keyword === 'host') {
    if (args.length === 0 || args.includes('')) return report('Host needs at least one pattern', 'write Host PATTERN..., e.g. Host web-* !web-3');
    return { kind: 'host', patterns: args, loc };
  }
  if (keyword === 'match') {
    const parsed = parseMatchLine(rest);
    if (typeof parsed === 'string')
      return report(`bad Match line: ${parsed}`, 'see "man ssh_config" for Match (all, host, originalhost, user, localuser, final)');
    return { kind: 'match', criteria: parsed, loc: { ...loc, col: restCol } };
  }
  if (keyword === 'include') return includeEntry(reader, args, loc, mode, report);
  const parsed = parseSshOption(keyword, rest, args);
  if (parsed.kind === 'error') return report(`${keyword}: ${parsed.message}`, `fix the value of ${keyword}`);
  if (parsed.kind === 'unknown') return { kind: 'unknown', keyword, written: lineText.slice(loc.col - 1).split(/[\s=]/)[0] ?? keyword, loc };
  return parsed.kind === 'option' ? { kind: 'option', option: parsed.option, loc } : undefined;
}

async function includeEntry(
  reader: Reader,
  args: string[],
  loc: SourceLocation,
  mode: FileMode,
  report: (message: string, hint: string) => SshConfigEntry | undefined,
): Promise<SshConfigEntry | undefined> {
  if (args.length === 0 || args.includes('')) return report('Include needs a file name', 'write Include FILE (globs allowed)');
  if (mode.depth + 1 > maxIncludeDepth) return report(`Include nested deeper than ${maxIncludeDepth} files`, 'look for an Include loop');
  const files: SshConfigFile[] = [];
  for (const pattern of args) {
    if (pattern.startsWith('~') && !mode.user) return report(`Include ${pattern}: ~ is not allowed in the system file`, 'give an absolute path');
    const anchored = pattern.startsWith('/') || pattern.startsWith('~') ? pattern : mode.user ? `~/.ssh/${pattern}` : `/etc/ssh/${pattern}`;
    for (const path of await expandIncludePattern(anchored, reader.options.homeDir)) {
      const skip = await includeRefusal(reader, path, mode);
      if (skip === 'skip') continue;
      if (skip !== undefined) return report(skip.message, skip.hint);
      // OpenSSH checks the permissions of every included file.
      const included = await readConfigFile(reader, path, { ...mode, mustExist: false, checkPermissions: true, depth: mode.depth + 1 });
      if (included) files.push(included);
      if (reader.stopped) break;
    }
  }
  return { kind: 'include', files, loc };
}

/** Why `path` is not read: `skip` for a folder (ssh reads nothing from it), or a loop or budget problem. */
async function includeRefusal(reader: Reader, path: string, mode: FileMode): Promise<'skip' | { message: string; hint: string } | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) return 'skip';
  const real = await realpath(path).catch(() => path);
  const at = mode.stack.indexOf(real);
  if (at >= 0) {
    reader.stopped = true;
    return {
      message: `Include loop: ${[...mode.stack.slice(at), real].join(' includes ')}`,
      hint: 'remove the Include that leads back to a file being read',
    };
  }
  if (reader.filesRead >= maxFiles || reader.bytesRead >= maxTotalBytes) {
    reader.stopped = true;
    return {
      message: `more than ${maxFiles} files or ${maxTotalBytes / 1024 / 1024} MiB included`,
      hint: 'include fewer files (look for globs matching too much)',
    };
  }
  return undefined;
}
