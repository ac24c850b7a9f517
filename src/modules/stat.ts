// `stat`: facts about a remote path, read-only (it also runs under --dry-run).
import { shellJoin } from '../shell/quote.js';
import { defineModule } from './define.js';
import { formatMode } from './file-mode.js';
import { booleanSchema, toBool } from './helpers.js';
import { check } from './plan-steps.js';
import { statRemote } from './remote-stat.js';

export interface StatArgs {
  path: string;
  follow?: boolean | string;
  get_checksum?: boolean | string;
  checksum_algorithm?: 'sha1' | 'sha256';
}

export const statModule = defineModule({
  id: 'stat',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      follow: booleanSchema,
      get_checksum: booleanSchema,
      checksum_algorithm: { enum: ['sha1', 'sha256'] },
    },
    required: ['path'],
    additionalProperties: false,
  },
  async *plan(_ctx, args) {
    const found = yield* statRemote(args.path, toBool(args.follow));
    if (typeof found === 'string') return { changed: false, failed: true, msg: found };
    if (!found) return { changed: false, result: { stat: { path: args.path } } };
    if (!found.exists) return { changed: false, result: { stat: { exists: false, path: args.path } } };
    const stat: Record<string, unknown> = {
      exists: true,
      path: args.path,
      mode: formatMode(found.mode ?? 0),
      size: found.size,
      uid: found.uid,
      gid: found.gid,
      pw_name: found.owner,
      gr_name: found.group,
      mtime: found.mtime,
      isdir: found.type === 'directory',
      isreg: found.type === 'file',
      islnk: found.type === 'link',
    };
    if (toBool(args.get_checksum) && found.type === 'file') {
      const algorithm = args.checksum_algorithm ?? 'sha1';
      const sum = yield* check(shellJoin([`${algorithm}sum`, '--', args.path]));
      if (sum?.exitCode === 0) stat.checksum = sum.stdout.trim().split(/\s+/)[0];
    }
    return { changed: false, result: { stat } };
  },
});
