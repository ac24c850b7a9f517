// `data.move-aside` swaps the restored dir in (old data moved aside, timestamped, kept); `data.move-back`
// undoes it (restored data moved aside, old data back). Both are idempotent: sent again after an
// interruption they finish or report what is already so.
import { defineModule, type ModuleOutcome } from '../define.js';
import { booleanSchema, toBool } from '../helpers.js';
import { exec, mustSucceed } from '../plan-steps.js';
import { revertSwapCommand, swapCommand } from '../../etcd/restore/data-commands.js';
import { isOutcome, memberContext, runIdSchema } from './member-context.js';

// had_old_data: whether the member had a data dir when the restore began (preflight). Default true.
const schema = {
  type: 'object',
  properties: { run_id: runIdSchema, had_old_data: booleanSchema },
  required: ['run_id'],
  additionalProperties: false,
} as const;

function outcomeOf(stdout: string | undefined, unchanged: string, result: Record<string, unknown>): ModuleOutcome {
  const said = stdout?.trim();
  return { changed: said !== unchanged, result: { ...result, ...(said ? { outcome: said } : {}) } };
}

export const dataMoveAsideModule = defineModule({
  id: 'data.move-aside',
  meta: { runsOn: 'host' },
  schema,
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const { paths } = found;
    const hadOld = toBool(args.had_old_data, true);
    const run = mustSucceed(yield* exec(swapCommand(paths, hadOld), { timeoutMs: 60_000 }), 'swap the data dirs');
    return outcomeOf(run?.stdout, 'already-swapped', { data_dir: paths.dataDir, ...(hadOld ? { old_data_at: paths.asideDir } : {}) });
  },
});

export const dataMoveBackModule = defineModule({
  id: 'data.move-back',
  meta: { runsOn: 'host' },
  schema,
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const { paths } = found;
    const run = mustSucceed(
      yield* exec(revertSwapCommand(paths, toBool(args.had_old_data, true)), { timeoutMs: 60_000 }),
      'put the old data dir back',
    );
    const said = run?.stdout.trim();
    return outcomeOf(said, 'already-reverted', {
      data_dir: paths.dataDir,
      ...(said === 'reverted' ? { restored_data_at: paths.restoredAsideDir } : {}),
    });
  },
});
