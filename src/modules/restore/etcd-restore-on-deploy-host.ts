// `etcd.restore-on-deploy-host`: the second mode, for members without etcd's tools. The member's dir is
// restored here (its own identity, same flags), archived with tar and uploaded beside its data dir;
// `etcd.restore` with `from: archive` unpacks it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { shellJoin } from '../../shell/quote.js';
import { defineModule } from '../define.js';
import { call, upload } from '../plan-steps.js';
import { booleanSchema, toBool } from '../helpers.js';
import { restoreArgv, restoreCommandLine, type RestoreTool } from '../../etcd/restore/identity.js';
import { isOutcome, memberContext, runIdSchema } from './member-context.js';

const run = promisify(execFile);

export interface RestoreOnDeployHostArgs {
  run_id: string;
  /** The snapshot on the deploy host. */
  snapshot: string;
  tool: RestoreTool;
  /** Folder on the deploy host for the member dirs (removed by the caller). */
  work_dir: string;
  skip_hash_check?: boolean | string;
  timeout_seconds?: number;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export const etcdRestoreOnDeployHostModule = defineModule({
  id: 'etcd.restore-on-deploy-host',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      run_id: runIdSchema,
      snapshot: { type: 'string', minLength: 1 },
      tool: { enum: ['etcdutl', 'etcdctl'] },
      work_dir: { type: 'string', minLength: 1 },
      skip_hash_check: booleanSchema,
      timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
      bump_revision: { type: 'integer', minimum: 0, default: 0 },
    },
    required: ['run_id', 'snapshot', 'tool', 'work_dir'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const { member, members, paths } = found;
    // The name may come from the member's own configuration: `.` or `..` would make the folder that is
    // removed below the work dir itself or its parent.
    const folder = member.name.replace(/[^A-Za-z0-9._-]/g, '_');
    if (folder === '' || folder === '.' || folder === '..')
      return {
        changed: false,
        failed: true,
        msg: `${member.host}: the etcd member name ${JSON.stringify(member.name)} cannot name a folder on the deploy host; fix: set etcd_name for ${member.host} (and its --name) to letters, digits, ".", "_" and "-"`,
      };
    const dir = join(args.work_dir, folder);
    const data = join(dir, 'data');
    const archive = join(dir, 'data.tar');
    if (paths.wal)
      return {
        changed: false,
        failed: true,
        msg: `${member.host} keeps its WAL apart (${paths.wal.dir}): restore it on the member, not with --restore-on deploy-host`,
      };
    const options = {
      tool: args.tool,
      snapshotPath: args.snapshot,
      targetDir: data,
      skipHashCheck: toBool(args.skip_hash_check),
      ...(args.bump_revision > 0 ? { bumpRevision: args.bump_revision } : {}),
    };
    const timeout = (args.timeout_seconds ?? 1800) * 1000;
    const prepared = yield* call(
      `${restoreCommandLine(member, members, options)} && ${shellJoin(['tar', '-C', data, '-cf', archive, '.'])}`,
      false,
      async (signal: AbortSignal) => {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const [program, ...programArgs] = restoreArgv(member, members, options);
        if (program === undefined) throw new Error('the restore command line is empty');
        const env = args.tool === 'etcdctl' ? { ...process.env, ETCDCTL_API: '3' } : process.env;
        await run(program, programArgs, { env, timeout, signal, maxBuffer: 16 * 1024 * 1024 });
        await run('tar', ['-C', data, '-cf', archive, '.'], { timeout, signal });
        await rm(data, { recursive: true, force: true });
        return { archive, sha256: await sha256File(archive) };
      },
    );
    const transfer = yield* upload({
      source: { path: prepared?.archive ?? `<deferred: ${archive}, made by the step above>` },
      dest: paths.uploadArchive,
      mode: 0o600,
    });
    if (transfer && prepared && transfer.sha256 !== prepared.sha256) {
      return {
        changed: true,
        failed: true,
        msg: `sha256 of ${paths.uploadArchive} on the member is ${transfer.sha256}, the archive has ${prepared.sha256}`,
      };
    }
    return { changed: true, result: { archive: paths.uploadArchive } };
  },
});
