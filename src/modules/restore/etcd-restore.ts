// `etcd.restore`: restore this member, with its own --name, peer URL, initial cluster and token, into a new
// dir beside its data dir (the old one is untouched until `data.move-aside`). `from: archive` unpacks a dir
// restored on the deploy host instead (`etcd.restore-on-deploy-host`).
import { defineModule } from '../define.js';
import { booleanSchema, toBool } from '../helpers.js';
import { check, exec, mustSucceed } from '../plan-steps.js';
import { parseTool, restoreIntoNewDirCommand, toolCommand, unpackNewDirCommand } from '../../etcd/restore/data-commands.js';
import type { RestoreTool } from '../../etcd/restore/identity.js';
import { isOutcome, memberContext, runIdSchema } from './member-context.js';

export interface EtcdRestoreArgs {
  run_id: string;
  /** `auto` (default) prefers etcdutl, falls back to etcdctl (Debian's 3.4). */
  tool?: RestoreTool | 'auto';
  /** Only for a raw member/snap/db copy, which has no sha256 trailer. */
  skip_hash_check?: boolean | string;
  from?: 'snapshot' | 'archive';
  timeout_seconds?: number;
}

export const etcdRestoreModule = defineModule({
  id: 'etcd.restore',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      run_id: runIdSchema,
      tool: { enum: ['auto', 'etcdutl', 'etcdctl'] },
      skip_hash_check: booleanSchema,
      from: { enum: ['snapshot', 'archive'] },
      timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
      // etcd 3.5.10+: raise revisions by this much and mark the old ones compacted (0: do not).
      bump_revision: { type: 'integer', minimum: 0, default: 0 },
    },
    required: ['run_id'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const { member, members, paths } = found;
    const timeoutMs = (args.timeout_seconds ?? 1800) * 1000;
    let command: string;
    if (args.from === 'archive') {
      command = unpackNewDirCommand(paths);
    } else {
      let tool = args.tool === 'auto' || args.tool === undefined ? undefined : args.tool;
      if (!tool) {
        const probe = yield* check(toolCommand());
        tool = probe?.exitCode === 0 ? parseTool(probe.stdout) : undefined;
        if (probe && !tool) return { changed: false, failed: true, msg: 'neither etcdutl nor etcdctl is on the PATH' };
        tool ??= 'etcdutl';
      }
      command = restoreIntoNewDirCommand(member, members, paths, tool, {
        skipHashCheck: toBool(args.skip_hash_check),
        ...(args.bump_revision > 0 ? { bumpRevision: args.bump_revision } : {}),
      });
    }
    mustSucceed(yield* exec(command, { timeoutMs }), args.from === 'archive' ? 'unpack the restored dir' : `restore ${member.name}`);
    return { changed: true, result: { name: member.name, restored_dir: paths.newDir } };
  },
});
