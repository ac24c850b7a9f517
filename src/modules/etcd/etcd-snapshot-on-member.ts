// `etcd.snapshot-on-member`: the fallback when the deploy host cannot reach the members' client port.
// Runs `etcdctl snapshot save` on the member (under `timeout`: against a stopped member it hangs
// forever), copies the file back with a sha256-verified download to a temporary name in the backup
// folder, and removes the copy on the member. Run it with `delegate_to:` the member's host.
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { backupDir } from '../../config/etcd-vars.js';
import { snapshotTempBase, type TakenSnapshot } from '../../backup/backup-flow.js';
import { ensureBackupDir } from '../../backup/snapshot-store.js';
import { remoteSnapshotCommand } from '../../etcd/client.js';
import { partialPathFor } from '../../etcd/partial-file.js';
import { shellJoin } from '../../shell/quote.js';
import { defineModule } from '../define.js';
import { asExec, asTransfer, execFailure, execStep } from '../helpers.js';
import { membersByName, takenResult } from './registered.js';

export interface EtcdSnapshotOnMemberArgs {
  /** Member name, or an entry of etcd.status's `candidates`. */
  member: unknown;
  dest_dir?: string;
  /** etcdctl on the member (kubeasz: /opt/kube/bin/etcdctl). */
  etcdctl?: string;
  /** Folder on the member for the temporary copy; default: beside the data dir (same disk, not a tmpfs). */
  remote_dir?: string;
  timeout_seconds?: number;
}

export const etcdSnapshotOnMemberModule = defineModule<EtcdSnapshotOnMemberArgs>({
  id: 'etcd.snapshot-on-member',
  schema: {
    type: 'object',
    properties: {
      member: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'object', required: ['name'] }] },
      dest_dir: { type: 'string', minLength: 1 },
      etcdctl: { type: 'string', minLength: 1 },
      remote_dir: { type: 'string', minLength: 1 },
      timeout_seconds: { type: 'number', exclusiveMinimum: 0, maximum: 86400 },
    },
    required: ['member'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const { members, unknown } = membersByName(ctx.inventory, [args.member]);
    const member = members[0];
    if (!member) return { changed: false, failed: true, msg: `not an etcd member of the inventory: ${unknown.join(', ')}` };
    const dir = args.dest_dir ?? backupDir(ctx.inventory);
    const timeoutSeconds = args.timeout_seconds ?? 120;
    const takenAt = new Date();
    const remotePath = join(args.remote_dir ?? dirname(member.dataDir), `orchestrate-snapshot-${randomBytes(6).toString('hex')}.db`);
    const localPath = partialPathFor(snapshotTempBase(dir, takenAt));
    // etcdctl writes `<path>.part` and renames it: both go, whatever happened.
    const cleanup = execStep(shellJoin(['rm', '-f', remotePath, `${remotePath}.part`]), { timeoutMs: 30_000 });
    const started = Date.now();

    yield { kind: 'call', description: `create ${dir} (0700) on the deploy host`, readOnly: false, run: () => ensureBackupDir(dir) };
    const saved = asExec(
      yield execStep(remoteSnapshotCommand(member, remotePath, { ...(args.etcdctl ? { etcdctl: args.etcdctl } : {}), timeoutSeconds }), {
        timeoutMs: (timeoutSeconds + 15) * 1000,
      }),
    );
    if (saved && saved.exitCode !== 0) {
      yield cleanup;
      const why = saved.exitCode === 124 ? `etcdctl gave no snapshot within ${timeoutSeconds}s (member stopped?)` : execFailure(saved);
      return { changed: false, failed: true, msg: `etcdctl snapshot save on ${member.host} failed: ${why}: ${saved.stderr.trim().split('\n').slice(-3).join(' ')}` };
    }
    // The transport writes the download under its own temporary name, checks its sha256 against the
    // member's and renames it to `localPath`, itself a temporary name that only etcd.verify promotes.
    const transfer = asTransfer(yield { kind: 'download', src: remotePath, dest: localPath, mode: 0o600 });
    yield cleanup;
    if (!saved || !transfer) return { changed: true };
    const taken: TakenSnapshot = {
      partialPath: localPath,
      bytes: transfer.bytes,
      sha256: transfer.sha256,
      member: member.name,
      host: member.host,
      method: 'etcdctl',
      takenAt: takenAt.toISOString(),
      durationMs: Date.now() - started,
    };
    return { changed: true, msg: `${taken.bytes} bytes from ${member.name} via etcdctl`, result: takenResult(taken) };
  },
});
