// `restore.login-access`: the read-only probe of the restore and rollback preflights (src/etcd/restore/
// login-access.ts judges it): commands run as root here, and each member's data dir parent is writable.
import { connectionFor, currentUser } from '../../config/connection.js';
import { etcdMembers } from '../../config/etcd-vars.js';
import { judgeLoginAccess, loginAccessCommand } from '../../etcd/restore/login-access.js';
import { restorePaths } from '../../etcd/restore/paths.js';
import { defineModule } from '../define.js';
import { check } from '../plan-steps.js';

export const loginAccessModule = defineModule({
  id: 'restore.login-access',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      // Folders the restore creates and renames entries in; default: the member's data dir parent (none on kube-only hosts).
      dirs: { type: 'array', items: { type: 'string', minLength: 1 } },
    },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const member = etcdMembers(ctx.inventory).find((m) => m.host === ctx.host.name);
    const dirs = args.dirs ?? (member ? [restorePaths(member.dataDir, 'x').parentDir] : []);
    const probe = yield* check(loginAccessCommand(dirs));
    if (!probe) return { changed: false, result: { problems: [] } };
    const spec = connectionFor(ctx.host);
    // A local connection runs as whoever runs orchestrate, whatever ansible_user says.
    const judged = judgeLoginAccess(probe, { user: spec.local ? currentUser() : spec.user, become: spec.become }, dirs);
    const failed = judged.problems.length > 0;
    return { changed: false, failed, ...(failed ? { msg: judged.problems.join('; ') } : {}), result: { ...judged } };
  },
});
