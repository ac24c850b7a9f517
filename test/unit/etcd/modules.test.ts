// The backup modules: arguments in, steps out (the engine's drive helper answers each step).
import { expect } from 'chai';
import type { ClusterSurvey } from '../../../src/backup/backup-flow.js';
import type { Step } from '../../../src/engine/step.js';
import { attemptFromResults } from '../../../src/modules/etcd/etcd-record.js';
import { etcdPruneModule, policyFrom } from '../../../src/modules/etcd/etcd-prune.js';
import { etcdSnapshotModule } from '../../../src/modules/etcd/etcd-snapshot.js';
import { etcdStatusModule } from '../../../src/modules/etcd/etcd-status.js';
import { etcdVerifyModule } from '../../../src/modules/etcd/etcd-verify.js';
import { context, drive, scripted } from '../modules/drive.js';

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
    expect(outcome.result).to.include({ snapshot_host: '10.0.0.1', cluster_id: 'cid', version: '3.4.23' });
    expect(outcome.msg).to.equal('etcd-10.0.0.1 (follower) at revision 42');
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
    const planned = await drive(etcdSnapshotModule, { members: survey.candidates }, scripted(), ctx());
    expect(planned.lines).to.deep.equal([
      'call etcd maintenance.snapshot from etcd-10.0.0.1 (https://10.0.0.1:2379) -> /srv/backups/snapshot_<UTC time>.db.partial-* (0600, fsync)',
    ]);
  });

  // etcd.snapshot-on-member: test/unit/etcd/snapshot-on-member.test.ts

  it('etcd.verify: under --dry-run (the snapshot known only at run time) shows the step it would take', async () => {
    const { lines, outcome } = await drive(
      etcdVerifyModule,
      { snapshot: '<deferred: streamed>' as unknown as Record<string, unknown> },
      scripted(),
      ctx(),
    );
    expect(lines).to.deep.equal([
      'call verify the new snapshot (sha256 trailer, bbolt pages, revision/keys/hash); if good: name it /srv/backups/snapshot_<time>_rev<revision>.db, point snapshot.db at it',
    ]);
    expect(outcome.changed).to.equal(true);
    const failed = await drive(etcdVerifyModule, { snapshot: { failed: true, msg: 'boom' } }, scripted(), ctx());
    expect(failed.outcome).to.include({ failed: true, msg: 'no snapshot to verify (failed: boom)' });
  });

  it('etcd.verify: the placeholder a dry-run registers for the snapshot task is planned, not failed; a real run refuses it', async () => {
    const placeholder = { changed: true };
    const dry = ctx();
    dry.dryRun = true;
    const planned = await drive(etcdVerifyModule, { snapshot: placeholder }, scripted(), dry);
    expect(planned.outcome.failed).to.equal(undefined);
    expect(planned.lines).to.have.length(1);
    expect(planned.lines[0]).to.match(/^call verify the new snapshot/);
    const skipped = await drive(etcdVerifyModule, { snapshot: { skipped: true } }, scripted(), dry);
    expect(skipped.outcome).to.include({ failed: true, msg: 'no snapshot to verify (skipped)' });
    const real = await drive(etcdVerifyModule, { snapshot: placeholder }, scripted(), ctx());
    expect(real.outcome).to.include({ failed: true, msg: 'the snapshot argument is not the result of etcd.snapshot' });
  });

  describe('etcd.record: the attempt from the registered results', () => {
    const status = {
      started_at: '2026-11-22T10:00:00.000Z',
      members: survey.members,
      candidates: survey.candidates,
      cluster_id: 'cid',
      version: '3.4.23',
    };
    const snapshot = {
      partial_path: '/srv/backups/x.partial-1',
      bytes: 10,
      sha256: 's',
      member: 'etcd-10.0.0.1',
      host: '10.0.0.1',
      method: 'client',
      taken_at: '2026-11-22T10:00:00.100Z',
    };
    const verified = {
      file: '/srv/backups/snapshot_20261122T100000Z_rev42.db',
      size: 10,
      sha256: 's',
      revision: 42,
      keys: 7,
      hash: 99,
      total_size: 8192,
      has_hash: true,
    };
    const cases: [string, Parameters<typeof attemptFromResults>[1], string | undefined][] = [
      [
        'status failed',
        { status: { ...status, failed: true, msg: 'no healthy etcd member' }, snapshot: { skipped: true }, verified: { skipped: true } },
        'no healthy etcd member',
      ],
      [
        'snapshot failed',
        { status, snapshot: { failed: true, msg: 'stream cut' }, verified: { failed: true, msg: 'no snapshot to verify' } },
        'stream cut',
      ],
      [
        'verification failed',
        { status, snapshot, verified: { failed: true, msg: 'the snapshot failed verification' } },
        'the snapshot failed verification',
      ],
      ['all good', { status, snapshot, verified }, undefined],
    ];
    for (const [name, args, error] of cases) {
      it(name, () => {
        const parts = attemptFromResults('etcd-cluster-0', args);
        expect(parts.start).to.equal('2026-11-22T10:00:00.000Z');
        expect(parts.error).to.equal(error);
        expect(parts.accepted !== undefined).to.equal(error === undefined);
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
});
