// `fetch`: copy a remote file to the deploy host, verified by sha256, owner-only (0600) unless told otherwise.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { shellJoin } from '../shell/quote.js';
import { defineModule } from './define.js';
import { formatMode, modeProblem, parseMode } from './file-mode.js';
import { booleanSchema, toBool } from './helpers.js';
import { check, download } from './plan-steps.js';
import { deployHostPath, localSha256 } from './local-files.js';

export interface FetchArgs {
  src: string;
  dest: string;
  flat?: boolean | string;
  fail_on_missing?: boolean | string;
  mode?: string | number;
}

export const fetchModule = defineModule({
  id: 'fetch',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      flat: booleanSchema,
      fail_on_missing: booleanSchema,
      validate_checksum: booleanSchema,
      mode: { type: ['string', 'integer'] },
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  check(args) {
    const problem = modeProblem(args.mode);
    return problem ? [problem] : [];
  },
  async *plan(ctx, args) {
    const base = deployHostPath(args.dest, ctx.vars);
    const dest = toBool(args.flat) ? (args.dest.endsWith('/') ? join(base, baseName(args.src)) : base) : join(base, ctx.host.name, args.src);
    const mode = args.mode === undefined ? 0o600 : parseMode(args.mode);

    const probe = yield* check(shellJoin(['sha256sum', '--', args.src]));
    const remoteSha = probe?.exitCode === 0 ? probe.stdout.trim().split(/\s+/)[0] : undefined;
    if (probe && remoteSha === undefined) {
      const msg = `the remote file ${args.src} does not exist or is not readable: ${probe.stderr.trim()}`;
      return toBool(args.fail_on_missing, true)
        ? { changed: false, failed: true, msg, result: { dest } }
        : { changed: false, msg, result: { dest, file: args.src } };
    }
    if (remoteSha !== undefined && (await localSha256(dest)) === remoteSha) {
      return { changed: false, result: { dest, checksum: remoteSha, remote_checksum: remoteSha } };
    }
    yield {
      kind: 'call',
      description: `mkdir -p ${dirname(dest)} (mode 0700 for new folders) on the deploy host`,
      readOnly: false,
      run: async () => mkdir(dirname(dest), { recursive: true, mode: 0o700 }),
    };
    const written = yield* download({ src: args.src, dest, mode });
    if (written && remoteSha !== undefined && written.sha256 !== remoteSha) {
      return {
        changed: true,
        failed: true,
        msg: `${args.src} changed while it was fetched (sha256 ${written.sha256}, expected ${remoteSha})`,
        result: { dest },
      };
    }
    return { changed: true, result: { dest, mode: formatMode(mode), ...(remoteSha ? { checksum: remoteSha, remote_checksum: remoteSha } : {}) } };
  },
});

function baseName(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? path;
}
