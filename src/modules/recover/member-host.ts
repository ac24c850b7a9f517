// The member-side steps of a replace: `data.set-aside` moves the data dir aside (kept for forensics, never
// deleted), `etcd.join` starts etcd once with --initial-cluster-state existing through a systemd drop-in
// (and removes it once the member has joined). Both can be sent again after an interruption.
import {
  ensureDataDirCommand,
  joinDropIn,
  joinDropInPath,
  removeDropInCommand,
  replacedDataDir,
  setAsideCommand,
  writeDropInCommand,
} from '../../etcd/member/replace.js';
import { startEtcdCommand } from '../../etcd/restore/unit-commands.js';
import { defineModule, type ModuleContext } from '../define.js';
import { exec, ModuleFailure, mustSucceed } from '../plan-steps.js';
import { runIdSchema } from '../restore/member-context.js';
import { restoreClusterKey, restoreMembers } from '../restore/restore-state.js';
import { replaceProgress } from './replace-state.js';

/** The member as its own configuration says (etcd.member-config ran first), the inventory's values where it says nothing. */
function memberOf(ctx: ModuleContext) {
  const members = restoreMembers(ctx);
  const member = members.find((m) => m.host === ctx.host.name);
  if (!member) throw new ModuleFailure(`${ctx.host.name} is not an etcd member`);
  return { member, members };
}

export const dataSetAsideModule = defineModule({
  id: 'data.set-aside',
  meta: { runsOn: 'host' },
  schema: { type: 'object', properties: { run_id: runIdSchema }, required: ['run_id'], additionalProperties: false },
  async *plan(ctx, args) {
    const { member } = memberOf(ctx);
    const aside = replacedDataDir(member.dataDir, args.run_id);
    const run = mustSucceed(yield* exec(setAsideCommand(member.dataDir, aside), { timeoutMs: 60_000 }), `move ${member.dataDir} aside`);
    const said = run?.stdout.trim();
    if (said !== 'none') ctx.state.get(replaceProgress).set(member.host, { ...ctx.state.get(replaceProgress).get(member.host), asideDir: aside });
    return {
      changed: said === 'moved' || said === undefined,
      result: { old_data_at: said === 'none' ? null : aside, ...(said ? { outcome: said } : {}) },
    };
  },
});

export const etcdJoinModule = defineModule({
  id: 'etcd.join',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    // checked: build the drop-in from the member's configuration and change nothing (the preflight refuses a member it cannot join).
    properties: { run_id: runIdSchema, state: { enum: ['checked', 'started', 'joined'] } },
    required: ['run_id', 'state'],
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const { member, members } = memberOf(ctx);
    const path = joinDropInPath(member.service);
    if (args.state === 'joined') {
      mustSucceed(yield* exec(removeDropInCommand(path), { timeoutMs: 30_000 }), `remove ${path}`);
      return { changed: true, result: { drop_in: path } };
    }
    // An earlier attempt's drop-in (90-orchestrate-join.conf) is part of what was read; it sets the same flags.
    const built = joinDropIn(ctx.state.get(restoreClusterKey).configs.get(member.host), member, members, args.run_id);
    if (typeof built !== 'string') throw new ModuleFailure(built.problem);
    if (args.state === 'checked') return { changed: false, msg: `${path} can be written`, result: { drop_in: path } };
    mustSucceed(
      yield* exec(ensureDataDirCommand(member.dataDir, replacedDataDir(member.dataDir, args.run_id)), { timeoutMs: 30_000 }),
      `create ${member.dataDir}`,
    );
    mustSucceed(yield* exec(writeDropInCommand(path, built), { timeoutMs: 30_000 }), `write ${path}`);
    mustSucceed(yield* exec(startEtcdCommand(member.service), { timeoutMs: 120_000 }), `start ${member.service}`);
    return { changed: true, result: { drop_in: path } };
  },
});
