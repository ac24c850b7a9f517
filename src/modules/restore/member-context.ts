// Shared by the restore modules: which etcd member the task's host is (its identity as checked), all the
// members (for --initial-cluster), and where the restore puts things on it.
import type { ResolvedMember } from '../../etcd/members/resolve.js';
import { restorePaths, type MemberRestorePaths } from '../../etcd/restore/paths.js';
import type { ModuleContext, ModuleOutcome } from '../define.js';
import { restoreClusterKey, restoreMembers } from './restore-state.js';

export interface MemberContext {
  member: ResolvedMember;
  members: ResolvedMember[];
  paths: MemberRestorePaths;
}

/** The member this task runs for, or a failed outcome saying why there is none. */
export function memberContext(ctx: ModuleContext, runId: string): MemberContext | ModuleOutcome {
  const members = restoreMembers(ctx);
  const member = members.find((m) => m.host === ctx.host.name);
  if (!member) return { changed: false, failed: true, msg: `${ctx.host.name} is not in the etcd group: restore modules run on etcd members only` };
  if (!/^[0-9A-Za-z]+$/.test(runId))
    return { changed: false, failed: true, msg: `run_id "${runId}" must be letters and digits (it becomes part of directory names)` };
  const layout = ctx.state.get(restoreClusterKey).layouts.get(member.host);
  const paths = restorePaths(member.dataDir, runId, {
    ...(layout ? { mode: layout.mode } : {}),
    ...(member.walDir !== undefined ? { walDir: member.walDir, ...(layout?.walMode ? { walMode: layout.walMode } : {}) } : {}),
  });
  return { member, members, paths };
}

export function isOutcome(value: MemberContext | ModuleOutcome): value is ModuleOutcome {
  return 'changed' in value;
}

export const runIdSchema = { type: 'string', pattern: '^[0-9A-Za-z]+$', minLength: 1 } as const;
