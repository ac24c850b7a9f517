// `copy`: write content, or a file from the deploy host, to a remote path. The remote sha256 and mode are read
// first (read-only), so an identical file is "ok" and nothing is uploaded.
import { basename } from 'node:path';
import { shellJoin } from '../shell/quote.js';
import { defineModule, type ModuleOutcome } from './define.js';
import { formatMode, modeProblem, parseMode } from './file-mode.js';
import { check, upload } from './plan-steps.js';
import { deployHostPath, localSha256, sha256Of } from './local-files.js';
import { applyAttributes } from './file.js';

export interface CopyArgs {
  content?: string;
  src?: string;
  dest: string;
  mode?: string | number;
  owner?: string;
  group?: string;
}

export const copyModule = defineModule({
  id: 'copy',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      content: { type: 'string' },
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      mode: { type: ['string', 'integer'] },
      owner: { type: 'string', minLength: 1 },
      group: { type: 'string', minLength: 1 },
    },
    required: ['dest'],
    additionalProperties: false,
    oneOf: [{ required: ['content'] }, { required: ['src'] }],
  },
  check(args) {
    const problems: string[] = [];
    const problem = modeProblem(args.mode);
    if (problem) problems.push(problem);
    if (args.content !== undefined && args.dest.endsWith('/'))
      problems.push(`dest "${args.dest}" is a directory: with content, dest must name the file to write`);
    return problems;
  },
  async *plan(ctx, args) {
    const localPath = args.src === undefined ? undefined : deployHostPath(args.src, ctx.vars);
    const dest = localPath && args.dest.endsWith('/') ? `${args.dest}${basename(localPath)}` : args.dest;
    const wantedSha = localPath ? await localSha256(localPath) : sha256Of(args.content ?? '');
    if (wantedSha === undefined) return { changed: false, failed: true, msg: `src ${localPath} does not exist on the deploy host`, result: { dest } };

    const probe = yield* check(`${shellJoin(['stat', '-c', '%a %U %G', '--', dest])} && ${shellJoin(['sha256sum', '--', dest])}`);
    const current = probe?.exitCode === 0 ? parseProbe(probe.stdout) : undefined;
    const wantedMode = args.mode === undefined ? undefined : parseMode(args.mode);
    const result = (changed: boolean): ModuleOutcome => ({
      changed,
      result: { dest, checksum: wantedSha, ...(wantedMode !== undefined ? { mode: formatMode(wantedMode) } : {}) },
    });

    if (current?.sha256 !== wantedSha) {
      const mode = wantedMode ?? current?.mode ?? 0o644;
      const source = localPath ? { path: localPath } : { content: args.content ?? '' };
      const written = yield* upload({ source, dest, mode });
      if (written && written.sha256 !== wantedSha) {
        return { changed: true, failed: true, msg: `uploaded ${dest} has sha256 ${written.sha256}, expected ${wantedSha}`, result: { dest } };
      }
      if (args.owner === undefined && args.group === undefined) return result(true);
      // Mode was set by the upload; owner and group still need chown.
      yield* applyAttributes(dest, { owner: args.owner, group: args.group }, undefined);
      return result(true);
    }
    // Here the file exists: an absent one has no sha256 and took the upload branch above.
    return result(yield* applyAttributes(dest, args, { exists: true, ...current }));
  },
});

function parseProbe(stdout: string): { mode: number; owner: string; group: string; sha256: string } | undefined {
  const [first = '', second = ''] = stdout.trim().split('\n');
  const [mode = '', owner = '', group = ''] = first.split(' ');
  const sha256 = second.split(/\s+/)[0] ?? '';
  if (!/^[0-7]+$/.test(mode) || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  return { mode: Number.parseInt(mode, 8), owner, group, sha256 };
}
