// `etcd.verify-cluster`: wait (bounded) until every member answers through its own TLS client and the
// cluster is one cluster: one leader, one cluster id, distinct member ids, the expected members, the
// snapshot's revision. Fails naming N leaders / 8e9e05c52164694d when dirs were restored without identity.
import type { ClusterNeed } from '../../etcd/cluster/verdict.js';
import { waitForVerifiedCluster } from '../../etcd/cluster/wait.js';
import { defineModule } from '../define.js';
import { booleanSchema, toBool } from '../helpers.js';
import { call } from '../plan-steps.js';
import { clusterObserver } from '../etcd-access.js';
import { restoreMembers } from './restore-state.js';

export const etcdVerifyClusterModule = defineModule({
  id: 'etcd.verify-cluster',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    properties: {
      // The snapshot's revision; leave out after a rollback.
      revision: { type: 'integer', minimum: 0 },
      timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: 60 },
      // After a rollback a majority answering is enough (silent members become warnings).
      quorum_only: booleanSchema,
    },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    // The members as checked before the restore (or as the journal recorded them, for a rollback).
    const members = restoreMembers(ctx);
    const quorumOnly = toBool(args.quorum_only);
    const need: ClusterNeed = quorumOnly
      ? { kind: 'quorum', members }
      : { kind: 'restored', members, ...(args.revision !== undefined ? { revision: args.revision } : {}) };
    const what = quorumOnly
      ? "a quorum answers with one leader and the inventory's members"
      : `all answer, one leader, one cluster id, members = inventory${args.revision !== undefined ? `, revision = ${args.revision}` : ''}`;
    const description = `etcd status + member list on each of the ${members.length} members until ${what} (at most ${args.timeout_seconds}s)`;
    const waited = yield* call(description, false, (signal) =>
      waitForVerifiedCluster(members, need, { timeoutMs: args.timeout_seconds * 1000, signal, observe: clusterObserver(ctx.state, ctx.inventory) }),
    );
    if (!waited) return { changed: false };
    const { verdict } = waited;
    const result = { verdict, observations: waited.observations, waited_ms: waited.waitedMs };
    if (!verdict.ok) return { changed: false, failed: true, msg: verdict.problems.join('; '), result };
    return { changed: false, msg: `one leader (${verdict.leader?.name ?? '?'}), revision ${verdict.revision ?? '?'}`, result };
  },
});
