// `etcd.snapshot-copy`: put the snapshot beside the member's data dir (0600), its sha256 checked on the
// member by the transport; `state: absent` removes the copy once the restore is done.
import { defineModule } from '../define.js';
import { exec, mustSucceed, upload } from '../plan-steps.js';
import { cleanupCommand } from '../../etcd/restore/data-commands.js';
import { isOutcome, memberContext, runIdSchema } from './member-context.js';

export interface EtcdSnapshotCopyArgs {
  run_id: string;
  /** The snapshot on the deploy host. */
  src?: string;
  /** sha256 the copy must have (from the verification on the deploy host). */
  sha256?: string;
  state?: 'present' | 'absent';
}

export const etcdSnapshotCopyModule = defineModule({
  id: 'etcd.snapshot-copy',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      run_id: runIdSchema,
      src: { type: 'string', minLength: 1 },
      sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      state: { enum: ['present', 'absent'] },
    },
    required: ['run_id'],
    additionalProperties: false,
    if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
    then: { required: ['src', 'sha256'] },
  },
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const dest = found.paths.snapshotCopy;
    if (args.state === 'absent') {
      mustSucceed(yield* exec(cleanupCommand(found.paths), { timeoutMs: 60_000 }), `remove ${dest}`);
      return { changed: true, result: { dest } };
    }
    // The schema requires src unless state is absent; this keeps the type honest.
    if (args.src === undefined) return { changed: false, failed: true, msg: 'src is required unless state is absent' };
    // The snapshot's sha256 was verified on the deploy host: the member's copy is checked against it.
    const transfer = yield* upload({ source: { path: args.src }, dest, mode: 0o600, ...(args.sha256 ? { sha256: args.sha256 } : {}) });
    if (transfer && transfer.sha256 !== args.sha256) {
      return { changed: true, failed: true, msg: `sha256 of ${dest} on the member is ${transfer.sha256}, the verified snapshot has ${args.sha256}` };
    }
    return { changed: true, result: { dest, sha256: args.sha256 } };
  },
});
