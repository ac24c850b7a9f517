// Shared by the restore modules: which etcd member the task's host is, and its restore paths.
import { etcdMembers } from '../../config/etcd-vars.js';
import type { EtcdMember } from '../../config/types.js';
import type { ModuleContext, ModuleOutcome } from '../define.js';
import { restorePaths, type MemberRestorePaths } from '../../etcd/restore/paths.js';

export interface MemberContext {
  member: EtcdMember;
  members: EtcdMember[];
  paths: MemberRestorePaths;
}

/** The member this task runs for, or a failed outcome saying why there is none. */
export function memberContext(ctx: ModuleContext, runId: string): MemberContext | ModuleOutcome {
  const members = etcdMembers(ctx.inventory);
  const member = members.find((m) => m.host === ctx.host.name);
  if (!member) return { changed: false, failed: true, msg: `${ctx.host.name} is not in the etcd group: restore modules run on etcd members only` };
  if (!/^[0-9A-Za-z]+$/.test(runId))
    return { changed: false, failed: true, msg: `run_id "${runId}" must be letters and digits (it becomes part of directory names)` };
  return { member, members, paths: restorePaths(member.dataDir, runId) };
}

export function isOutcome(value: MemberContext | ModuleOutcome): value is ModuleOutcome {
  return 'changed' in value;
}

export const runIdSchema = { type: 'string', pattern: '^[0-9A-Za-z]+$', minLength: 1 } as const;
