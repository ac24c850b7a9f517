// The backup modules: arguments in, steps out (the engine's drive helper answers each step).
import { expect } from 'chai';
import type { ClusterSurvey } from '../../../src/etcd/cluster/observe.js';
import type { Step } from '../../../src/modules/step.js';
import { backupAttemptKey } from '../../../src/modules/etcd/backup-attempt.js';
import { etcdPruneModule, policyFrom } from '../../../src/modules/etcd/etcd-prune.js';
import { etcdRecordModule } from '../../../src/modules/etcd/etcd-record.js';
import { etcdSnapshotModule } from '../../../src/modules/etcd/etcd-snapshot.js';
import { etcdStatusModule } from '../../../src/modules/etcd/etcd-status.js';
import { etcdVerifyModule } from '../../../src/modules/etcd/etcd-verify.js';
import { context, drive, dryRun, scripted } from '../modules/drive.js';

const ctx = () => {
  const c = context();
  c.host.vars = { etcd_ca_file: '/pki/ca.pem', etcd_cert_file: '/pki/etcd.pem', etcd_key_file: '/pki/etcd-key.pem', backup_dir: '/srv/backups' };
  return c;
};

const survey: ClusterSurvey = {
  members: [
    {
      name: 'etcd-10.0.0.1',
      host: '10.0.0.1',
      endpoint: 'https://10.0.0.1:2379',
      ok: true,
      isLeader: false,
      revision: 42,
      clusterId: 'cid',
      version: '3.4.23',
      durationMs: 3,
    },
  ],
  candidates: [
    { name: 'etcd-10.0.0.1', host: '10.0.0.1', endpoint: 'https://10.0.0.1:2379', ok: true, isLeader: false, revision: 42, durationMs: 3 },
  ],
  clusterId: 'cid',
  version: '3.4.23',
};

describe('etcd backup modules', () => {
  it('etcd.status: one read-only call to every member; the result names the snapshot member and host', async () => {
    const { steps, outcome } = await drive(
      etcdStatusModule,
      { timeout_seconds: 2 },
      (step: Step) => (step.kind === 'call' ? survey : undefined),
      ctx(),
    );
    expect(steps).to.have.length(1);
    expect(steps[0]).to.include({ kind: 'call', readOnly: true });
    expect((steps[0] as { description: string }).description).to.equal(
      'etcd maintenance.status on etcd-10.0.0.1 (https://10.0.0.1:2379), 2s deadline each',
    );
    expect(outcome.failed).to.equal(undefined);
    expect(outcome.result).to.include({ snapshot_host: '10.0.0.1', cluster_id: 'cid' });
    expect(outcome.msg).to.equal('etcd-10.0.0.1 (follower) at revision 42');
  });

  it('etcd.status: the survey goes to the run state for the snapshot task, typed', async () => {
    const c = ctx();
    await drive(etcdStatusModule, { timeout_seconds: 2 }, (step: Step) => (step.kind === 'call' ? survey : undefined), c);
    expect(c.state.peek(backupAttemptKey)?.survey?.candidates.map((m) => m.name)).to.deep.equal(['etcd-10.0.0.1']);
    expect(c.state.peek(backupAttemptKey)?.error).to.equal(undefined);
  });

  it('etcd.status: no usable member fails, naming each member and why', async () => {
    const down: ClusterSurvey = {
      members: [{ ...survey.members[0]!, ok: false, error: 'connection refused at 10.0.0.1:2379 (etcd not running, or not listening there)' }],
      candidates: [],
    };
    const { outcome } = await drive(etcdStatusModule, {}, () => down, ctx());
    expect(outcome.failed).to.equal(true);
    expect(outcome.msg).to.equal(
      'no healthy etcd member to take a snapshot from (etcd-10.0.0.1: connection refused at 10.0.0.1:2379 (etcd not running, or not listening there))',
    );
    expect(outcome.result).to.include({ snapshot_host: '10.0.0.1' });
  });

  it('etcd.status: members answering for different clusters fail the survey (no backup of one side of a split brain)', async () => {
    const member = survey.members[0]!;
    const split: ClusterSurvey = {
      members: [member, { ...member, name: 'etcd-10.0.0.2', host: '10.0.0.2', clusterId: 'other' }],
      candidates: [survey.candidates[0]!],
      clusterId: 'cid',
    };
    const { outcome } = await drive(etcdStatusModule, {}, () => split, ctx());
    expect(outcome.failed).to.equal(true);
    expect(outcome.msg).to.match(
      /^split brain: the members disagree on the cluster id \(etcd-10\.0\.0\.1 reports cluster id cid; etcd-10\.0\.0\.2 reports cluster id other\)/,
    );
    expect(outcome.msg).to.contain('repair the cluster first');
    expect(outcome.result).to.include({ snapshot_host: '10.0.0.1' });
  });

  it('etcd.snapshot: refuses members that are not in the inventory; plans one call with the fallback order', async () => {
    const bad = await drive(etcdSnapshotModule, { members: ['nope'] }, scripted(), ctx());
    expect(bad.outcome).to.include({ failed: true, msg: 'not etcd members of the inventory: nope' });
    const c = ctx();
    c.state.get(backupAttemptKey).survey = survey;
    const planned = await drive(etcdSnapshotModule, {}, dryRun(scripted()), c);
    expect(planned.lines).to.deep.equal([
      'call etcd maintenance.snapshot from etcd-10.0.0.1 (https://10.0.0.1:2379) -> /srv/backups/snapshot_<UTC time>.db.partial-* (0600, fsync)',
    ]);
  });

  it("etcd.snapshot: without a survey or names there is no member to ask; the failure is the attempt's", async () => {
    const c = ctx();
    const { outcome } = await drive(etcdSnapshotModule, {}, scripted(), c);
    expect(outcome).to.include({ failed: true });
    expect(outcome.msg).to.contain('run etcd.status first');
    expect(c.state.peek(backupAttemptKey)?.error).to.equal(outcome.msg);
  });

  // etcd.snapshot-on-member: test/unit/etcd/snapshot-on-member.test.ts

  it('etcd.verify: under --dry-run (no snapshot yet) shows the step it would take; a real run without one fails', async () => {
    const { lines, outcome } = await drive(etcdVerifyModule, {}, dryRun(scripted()), ctx());
    expect(lines).to.deep.equal([
      'call verify the new snapshot (sha256 trailer, bbolt pages, revision/keys/hash); if good: name it /srv/backups/snapshot_<time>_rev<revision>.db, point snapshot.db at it',
    ]);
    expect(outcome.changed).to.equal(true);
    const c = ctx();
    c.state.get(backupAttemptKey).error = 'stream cut';
    const failed = await drive(etcdVerifyModule, {}, scripted(), c);
    expect(failed.outcome).to.include({ failed: true, msg: 'no snapshot to verify (stream cut)' });
    expect(c.state.peek(backupAttemptKey)?.error).to.equal('stream cut');
  });

  describe('etcd.record: the record from the attempt the modules built', () => {
    const taken = {
      partialPath: '/srv/backups/x.partial-1',
      bytes: 10,
      sha256: 's',
      member: 'etcd-10.0.0.1',
      host: '10.0.0.1',
      method: 'client' as const,
      takenAt: '2026-11-22T10:00:00.100Z',
      durationMs: 5,
    };
    const accepted = {
      file: '/srv/backups/snapshot_20261122T100000Z_rev42.db',
      pointer: '/srv/backups/snapshot.db',
      report: {
        ok: true as const,
        path: '/srv/backups/snapshot_20261122T100000Z_rev42.db',
        fileSize: 10,
        hasHash: true,
        sha256: 's',
        buckets: [],
        durationMs: 1,
        problems: [],
        status: { hash: 99, revision: 42, totalKey: 7, totalSize: 8192 },
      },
    };
    const cases: [string, { error?: string; taken?: typeof taken; accepted?: typeof accepted }, string | undefined][] = [
      ['status failed', { error: 'no healthy etcd member' }, 'no healthy etcd member'],
      ['snapshot failed', { error: 'stream cut' }, 'stream cut'],
      ['verification failed', { taken, error: 'the snapshot failed verification' }, 'the snapshot failed verification'],
      ['never verified', { taken }, 'the snapshot was not verified'],
      ['all good', { taken, accepted }, undefined],
    ];
    for (const [name, parts, error] of cases) {
      it(name, async () => {
        const c = ctx();
        c.inventory = { ...c.inventory, dir: '/nonexistent-orchestrate-test' };
        Object.assign(c.state.get(backupAttemptKey), { startedAt: '2026-11-22T10:00:00.000Z', survey, ...parts });
        const { outcome } = await drive(
          etcdRecordModule,
          {},
          (step: Step) => (step.kind === 'call' ? { written: false, warning: 'read-only test' } : undefined),
          c,
        );
        const record = c.state.peek(backupAttemptKey)?.record;
        expect(record?.start).to.equal('2026-11-22T10:00:00.000Z');
        expect(record?.error).to.equal(error);
        expect(record?.result).to.equal(error === undefined ? 'ok' : 'failed');
        if (error === undefined)
          expect(record).to.include({ revision: 42, keys: 7, member: 'etcd-10.0.0.1', etcdVersion: '3.4.23', clusterId: 'cid' });
        expect(outcome.msg).to.contain('read-only test');
      });
    }
  });

  it('etcd.prune: the policy from arguments, else the inventory; none given is a skip, not a deletion', async () => {
    expect(policyFrom({ keep_last: 3 }, { backup_keep_last: 9, backup_ttl_seconds: '86400' })).to.deep.equal({ keepLast: 3, ttlSeconds: 86400 });
    expect(policyFrom({}, { backup_keep_daily: 7, backup_keep_weekly: '4' })).to.deep.equal({ daily: 7, weekly: 4 });
    const { steps, outcome } = await drive(etcdPruneModule, {}, scripted(), ctx());
    expect(steps).to.deep.equal([]);
    expect(outcome.skipped).to.equal(true);
    const bad = await drive(etcdPruneModule, {}, scripted(), { ...ctx(), vars: { backup_keep_last: 0 } });
    expect(bad.outcome).to.include({ failed: true });
  });

  it('etcd.prune: after a failed backup attempt nothing is pruned', async () => {
    const c = ctx();
    c.vars = { backup_keep_last: 1 };
    c.state.get(backupAttemptKey).error = 'stream cut';
    const { steps, outcome } = await drive(etcdPruneModule, {}, scripted(), c);
    expect(steps).to.deep.equal([]);
    expect(outcome).to.include({ skipped: true, msg: 'the backup attempt failed: nothing is pruned' });
  });
});
