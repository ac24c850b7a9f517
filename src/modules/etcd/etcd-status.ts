// `etcd.status`: ask every member at once, each through its own TLS client with a deadline, and order
// the members a snapshot can come from (healthy followers, then the leader). A stopped or silent
// member costs at most `timeout_seconds`. Fails, naming each member's problem, when none is usable.
import { etcdMembers } from '../../config/etcd-vars.js';
import { noHealthyMemberMessage } from '../../etcd/backup/backup-flow.js';
import { surveyCluster } from '../../etcd/cluster/observe.js';
import { splitBrainFindings } from '../../etcd/cluster/verdict.js';
import { defineModule } from '../define.js';
import { clusterObserver } from '../etcd-access.js';
import { call } from '../plan-steps.js';
import { backupAttempt, failAttempt } from './backup-attempt.js';

export const etcdStatusModule = defineModule({
  id: 'etcd.status',
  meta: { runsOn: 'deploy-host' },
  schema: {
    type: 'object',
    properties: { timeout_seconds: { type: 'number', exclusiveMinimum: 0, maximum: 600, default: 5 } },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const members = etcdMembers(ctx.inventory);
    const attempt = backupAttempt(ctx);
    if (members.length === 0) return failAttempt(attempt, 'the inventory has no etcd members (group "etcd")');
    const timeoutMs = Math.round(args.timeout_seconds * 1000);
    const description = `etcd maintenance.status on ${members.map((m) => `${m.name} (${m.clientUrl})`).join(', ')}, ${timeoutMs / 1000}s deadline each`;
    const survey = yield* call(description, true, () => surveyCluster(members, { timeoutMs }, clusterObserver(ctx.state, ctx.inventory)));
    if (!survey) return { changed: false };
    attempt.survey = survey;
    const result = {
      // Always set (the first member when none is healthy), so `delegate_to: "{{ cluster.snapshot_host }}"` resolves.
      snapshot_host: survey.candidates[0]?.host ?? members[0]?.host,
      members: survey.members,
      candidates: survey.candidates.map((c) => c.name),
      ...(survey.clusterId ? { cluster_id: survey.clusterId } : {}),
      ...(survey.leader ? { leader: survey.leader } : {}),
    };
    // A snapshot of one side of a split would later pass for the cluster's newest good backup.
    const split = splitBrainFindings(survey.members.filter((m) => m.ok));
    if (split.length > 0) {
      const msg = `${split.join('; ')}. A snapshot now would hold one side only and could later be restored as if it were the whole cluster: repair the cluster first (orchestrate status shows each member)`;
      return { ...failAttempt(attempt, msg), result };
    }
    const chosen = survey.candidates[0];
    if (!chosen) return { ...failAttempt(attempt, noHealthyMemberMessage(survey)), result };
    const down = survey.members.filter((m) => !m.ok).map((m) => m.name);
    const msg = `${chosen.name} (${chosen.isLeader === true ? 'leader: no healthy follower' : 'follower'}) at revision ${chosen.revision ?? '?'}${down.length ? `; not answering: ${down.join(', ')}` : ''}`;
    return { changed: false, msg, result };
  },
});
