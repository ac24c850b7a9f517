// `data.move-aside` swaps the restored dir in (old data moved aside, timestamped, kept); `data.move-back`
// undoes it (restored data moved aside, old data back). Both are idempotent: sent again after an
// interruption they finish or report what is already so.
import { defineModule, type ModuleOutcome } from '../define.js';
import { asExec, booleanSchema, execFailure, execStep, toBool } from '../helpers.js';
import { revertSwapCommand, swapCommand } from './data-commands.js';
import { isOutcome, memberContext, runIdSchema } from './member-context.js';

export interface DataMoveArgs {
  run_id: string;
  /** Whether the member had a data dir when the restore began (preflight). Default true. */
  had_old_data?: boolean | string;
}

const schema = {
  type: 'object',
  properties: { run_id: runIdSchema, had_old_data: booleanSchema },
  required: ['run_id'],
  additionalProperties: false,
};

function outcomeOf(stdout: string | undefined, unchanged: string, result: Record<string, unknown>): ModuleOutcome {
  const said = stdout?.trim();
  return { changed: said !== unchanged, result: { ...result, ...(said ? { outcome: said } : {}) } };
}

export const dataMoveAsideModule = defineModule<DataMoveArgs>({
  id: 'data.move-aside',
  schema,
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const { paths } = found;
    const hadOld = toBool(args.had_old_data, true);
    const run = asExec(yield execStep(swapCommand(paths, hadOld), { timeoutMs: 60_000 }));
    if (run && run.exitCode !== 0) return { changed: false, failed: true, msg: `${execFailure(run)}: ${run.stderr.trim() || 'no output'}` };
    return outcomeOf(run?.stdout, 'already-swapped', { data_dir: paths.dataDir, ...(hadOld ? { old_data_at: paths.asideDir } : {}) });
  },
});

export const dataMoveBackModule = defineModule<DataMoveArgs>({
  id: 'data.move-back',
  schema,
  async *plan(ctx, args) {
    const found = memberContext(ctx, args.run_id);
    if (isOutcome(found)) return found;
    const { paths } = found;
    const run = asExec(yield execStep(revertSwapCommand(paths, toBool(args.had_old_data, true)), { timeoutMs: 60_000 }));
    if (run && run.exitCode !== 0) return { changed: false, failed: true, msg: `${execFailure(run)}: ${run.stderr.trim() || 'no output'}` };
    const said = run?.stdout.trim();
    return outcomeOf(said, 'already-reverted', {
      data_dir: paths.dataDir,
      ...(said === 'reverted' ? { restored_data_at: paths.restoredAsideDir } : {}),
    });
  },
});
