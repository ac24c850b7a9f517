// `etcd.verify-cluster`: wait (bounded) until every member answers through its own TLS client and the
// cluster is one cluster: one leader, one cluster id, distinct member ids, the inventory's members, the
// snapshot's revision. Fails naming N leaders / 8e9e05c52164694d when dirs were restored without identity.
import { etcdMembers } from '../../config/etcd-vars.js';
import { defineModule } from '../define.js';
import { booleanSchema, toBool } from '../helpers.js';
import { waitForVerifiedCluster, type WaitResult } from './cluster-probe.js';

export interface EtcdVerifyClusterArgs {
  /** The snapshot's revision; leave out after a rollback. */
  revision?: number;
  timeout_seconds?: number;
  /** After a rollback a majority answering is enough (silent members become warnings). */
  quorum_only?: boolean | string;
}

export const etcdVerifyClusterModule = defineModule<EtcdVerifyClusterArgs>({
  id: 'etcd.verify-cluster',
  local: true,
  schema: {
    type: 'object',
    properties: {
      revision: { type: 'integer', minimum: 0 },
      timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
      quorum_only: booleanSchema,
    },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const members = etcdMembers(ctx.inventory);
    const timeoutSeconds = args.timeout_seconds ?? 60;
    const expect = { ...(args.revision !== undefined ? { revision: args.revision } : {}), quorumOnly: toBool(args.quorum_only) };
    const what = expect.quorumOnly
      ? "a quorum answers with one leader and the inventory's members"
      : `all answer, one leader, one cluster id, members = inventory${args.revision !== undefined ? `, revision = ${args.revision}` : ''}`;
    const waited = (yield {
      kind: 'call',
      description: `etcd status + member list on each of the ${members.length} members until ${what} (at most ${timeoutSeconds}s)`,
      readOnly: false,
      run: (signal: AbortSignal) => waitForVerifiedCluster(members, expect, { timeoutMs: timeoutSeconds * 1000, signal }),
    }) as WaitResult | undefined;
    if (!waited) return { changed: false };
    const { verdict } = waited;
    const result = { verdict, observations: waited.observations, waited_ms: waited.waitedMs };
    if (!verdict.ok) return { changed: false, failed: true, msg: verdict.problems.join('; '), result };
    return { changed: false, msg: `one leader (${verdict.leader?.name ?? '?'}), revision ${verdict.revision ?? '?'}`, result };
  },
});
