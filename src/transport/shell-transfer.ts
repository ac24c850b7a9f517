// Transfers whose far end is driven through a shell. Staging, checking and renaming are the same
// commands for every connector; only the raw byte copy differs (sftp for ssh, fs for local sudo).
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TaskFailedError } from '../errors.js';
import { shellQuote } from '../shell/quote.js';
import { mustSucceed } from './exec-result.js';
import { commitLocalFile } from './local-commit.js';
import { parseSha256Output, sha256Command, sha256File, sha256Hex } from './sha256.js';
import { stagePathInTmp, tempPathFor } from './temp-path.js';
import type { ExecResult, TransferResult } from './types.js';

export type UploadSource = { path: string } | { content: string | Buffer };

export interface ShellFileAccess {
  readonly host: string;
  /** Login user on the far side; staged downloads are handed to this user. */
  readonly loginUser: string;
  /** Run a command, through sudo when `sudo` is true. Throws UnreachableError when the host is gone. */
  run(command: string, sudo: boolean): Promise<ExecResult>;
  /** Copy bytes (`bytes` of them, as already found) to a new far-side file owned by the login user, mode 0600. */
  putRaw(source: UploadSource, farPath: string, bytes: number): Promise<void>;
  /** Copy a far-side file the login user can read to a new local file, mode 0600. */
  getRaw(farPath: string, localPath: string): Promise<void>;
}

export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Exit status of the far-side script when the sha256 differs (distinct from any tool's own failure). */
const checksumMismatchStatus = 97;

/**
 * Upload to `dest.orchestrate-tmp-*`, then one far-side script sets the mode, compares the sha256 with
 * ours and renames into place (one round trip). With sudo the bytes go to a staging file in /tmp first
 * and `install` copies them as root.
 */
export async function uploadThroughShell(
  access: ShellFileAccess,
  source: UploadSource,
  dest: string,
  options: { mode: number; sudo: boolean; sha256?: string },
): Promise<TransferResult> {
  const { bytes, sha256: expected } = await describeSource(access.host, source, options.sha256);
  const tmp = tempPathFor(dest);
  const stage = options.sudo ? stagePathInTmp() : tmp;
  const mode = octalMode(options.mode);
  const [quotedTmp, quotedStage, quotedDest] = [tmp, stage, dest].map(shellQuote);
  const script = [
    options.sudo ? `install -m ${mode} -- ${quotedStage} ${quotedTmp} || exit 1` : `chmod ${mode} -- ${quotedTmp} || exit 1`,
    `sum=$(${sha256Command(tmp)}) || exit 1`,
    // The expected digest is quoted too: it may come from a caller (a catalog record), not only from our own hash.
    `case "$sum" in ${shellQuote(expected)}*|'\\'${shellQuote(expected)}*) ;; *) rm -f -- ${quotedTmp}; printf '%s\\n' "\${sum%% *}" >&2; exit ${checksumMismatchStatus};; esac`,
    `if [ -d ${quotedDest} ]; then printf '%s\\n' ${shellQuote(`${dest} is a directory; give the full path of the file`)} >&2; exit 1; fi`,
    `mv -f -- ${quotedTmp} ${quotedDest}`,
  ].join('\n');
  try {
    await access.putRaw(source, stage, bytes);
    const result = await access.run(script, options.sudo);
    if (result.exitCode === checksumMismatchStatus) {
      throw new TaskFailedError(
        `${access.host}: upload to ${dest} failed verification: sha256 ${result.stderr.trim() || '(none)'} on the host, ${expected} here`,
        'the source changed during the upload or the transfer was corrupted; run again',
        'transfer.checksum',
      );
    }
    mustSucceed(result, `${access.host}: cannot write ${dest}`, { code: 'transfer.failed' });
    return { bytes, sha256: expected };
  } catch (error) {
    await removeQuietly(access, tmp, options.sudo);
    throw error;
  } finally {
    if (options.sudo) await removeQuietly(access, stage, false);
  }
}

async function describeSource(host: string, source: UploadSource, knownSha256?: string): Promise<TransferResult> {
  if (!('path' in source)) return { bytes: Buffer.byteLength(source.content), sha256: knownSha256 ?? sha256Hex(source.content) };
  try {
    const [info, sha256] = await Promise.all([stat(source.path), knownSha256 ?? sha256File(source.path)]);
    return { bytes: info.size, sha256 };
  } catch (error) {
    throw new TaskFailedError(`${host}: cannot read the local file ${source.path}: ${(error as Error).message}`, undefined, 'transfer.failed');
  }
}

/**
 * Hash the far-side file, copy it to `localPath.orchestrate-tmp-*`, verify and rename. With sudo the
 * file is first copied (as root) to a staging file in /tmp owned by the login user.
 */
export async function downloadThroughShell(
  access: ShellFileAccess,
  src: string,
  localPath: string,
  options: { mode: number; sudo: boolean },
): Promise<TransferResult> {
  await mkdir(dirname(localPath), { recursive: true, mode: 0o700 });
  const stage = options.sudo ? stagePathInTmp() : undefined;
  try {
    const read = stage
      ? `umask 077 && ${sha256Command(src)} && cp -- ${shellQuote(src)} ${shellQuote(stage)} && chown -- ${shellQuote(access.loginUser)} ${shellQuote(stage)}`
      : sha256Command(src);
    const hashed = await runChecked(access, read, options.sudo, `cannot read ${src}`);
    const expectedSha256 = parseSha256Output(hashed.stdout);
    if (!expectedSha256)
      throw new TaskFailedError(`${access.host}: cannot read ${src}: no sha256 in ${JSON.stringify(hashed.stdout)}`, undefined, 'transfer.failed');
    const tmp = tempPathFor(localPath);
    try {
      await access.getRaw(stage ?? src, tmp);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    return await commitLocalFile(tmp, localPath, { expectedSha256, mode: options.mode, source: `${access.host}:${src}` });
  } finally {
    if (stage) await removeQuietly(access, stage, true);
  }
}

async function runChecked(access: ShellFileAccess, command: string, sudo: boolean, failure: string): Promise<ExecResult> {
  return mustSucceed(await access.run(command, sudo), `${access.host}: ${failure}`, { code: 'transfer.failed' });
}

async function removeQuietly(access: ShellFileAccess, farPath: string, sudo: boolean): Promise<void> {
  try {
    await access.run(`rm -f -- ${shellQuote(farPath)}`, sudo);
  } catch {
    // best effort: the original failure is the one worth reporting
  }
}
