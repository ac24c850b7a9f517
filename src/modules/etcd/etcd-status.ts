// `etcd.status`: ask every member at once, each through its own TLS client with a deadline, and order
// the members a snapshot can come from (healthy followers, then the leader). A stopped or silent
// member costs at most `timeout_seconds`. Fails, naming each member's problem, when none is usable.
import { etcdMembers } from '../../config/etcd-vars.js';
import { noHealthyMemberMessage, surveyCluster, type ClusterSurvey } from '../../backup/backup-flow.js';
import { splitBrainFindings } from '../../backup/cluster-verdict.js';
import { defineModule } from '../define.js';

export interface EtcdStatusArgs {
  timeout_seconds?: number;
}

export const etcdStatusModule = defineModule<EtcdStatusArgs>({
  id: 'etcd.status',
  local: true,
  schema: {
    type: 'object',
    properties: { timeout_seconds: { type: 'number', exclusiveMinimum: 0, maximum: 600 } },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const members = etcdMembers(ctx.inventory);
    if (members.length === 0) return { changed: false, failed: true, msg: 'the inventory has no etcd members (group "etcd")' };
    const timeoutMs = Math.round((args.timeout_seconds ?? 5) * 1000);
    const startedAt = new Date().toISOString();
    const survey = (yield {
      kind: 'call',
      description: `etcd maintenance.status on ${members.map((m) => `${m.name} (${m.clientUrl})`).join(', ')}, ${timeoutMs / 1000}s deadline each`,
      readOnly: true,
      run: () => surveyCluster(members, { timeoutMs }),
    }) as ClusterSurvey | undefined;
    if (!survey) return { changed: false };
    const result = {
      started_at: startedAt,
      // Always set (the first member when none is healthy), so `delegate_to: "{{ cluster.snapshot_host }}"` resolves.
      snapshot_host: survey.candidates[0]?.host ?? members[0]!.host,
      members: survey.members,
      candidates: survey.candidates,
      ...(survey.clusterId ? { cluster_id: survey.clusterId } : {}),
      ...(survey.version ? { version: survey.version } : {}),
      ...(survey.leader ? { leader: survey.leader } : {}),
    };
    const down = survey.members.filter((m) => !m.ok).map((m) => m.name);
    // A snapshot of one side of a split would later pass for the cluster's newest good backup.
    const split = splitBrainFindings(survey.members.filter((m) => m.ok));
    if (split.length > 0) {
      const msg = `${split.join('; ')}. A snapshot now would hold one side only and could later be restored as if it were the whole cluster: repair the cluster first (orchestrate status shows each member)`;
      return { changed: false, failed: true, msg, result };
    }
    if (survey.candidates.length === 0) return { changed: false, failed: true, msg: noHealthyMemberMessage(survey), result };
    const chosen = survey.candidates[0]!;
    const msg = `${chosen.name} (${chosen.isLeader ? 'leader: no healthy follower' : 'follower'}) at revision ${chosen.revision}${down.length ? `; not answering: ${down.join(', ')}` : ''}`;
    return { changed: false, msg, result };
  },
});
