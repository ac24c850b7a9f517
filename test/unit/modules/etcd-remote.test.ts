// The remote-copy modules of the backup (etcd.remote-copy, etcd.remote-prune) and what they hand to
// etcd.record and etcd.metrics, driven through the one driver over a RemoteBackups on an in-memory store.
import { expect } from 'chai';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { backupLocations } from '../../../src/etcd/backup/locations.js';
import { verifySnapshotFile } from '../../../src/etcd/snapshot-file.js';
import type { ModuleContext } from '../../../src/modules/define.js';
import { backupAttempt, backupAttemptKey } from '../../../src/modules/etcd/backup-attempt.js';
import { etcdMetricsModule } from '../../../src/modules/etcd/etcd-metrics.js';
import { etcdRecordModule } from '../../../src/modules/etcd/etcd-record.js';
import { etcdRemoteCopyModule } from '../../../src/modules/etcd/etcd-remote-copy.js';
import { etcdRemotePruneModule } from '../../../src/modules/etcd/etcd-remote-prune.js';
import { provideRemoteBackups } from '../../../src/modules/etcd/remote-access.js';
import type { Step } from '../../../src/modules/step.js';
import { RunState } from '../../../src/modules/run-state.js';
import { memoryRemote, placeSnapshot, type MemoryRemote } from '../remote/memory-remote.js';
import { context, drive, dryRun, runCall } from './drive.js';

const runCalls = (step: Step) => (step.kind === 'call' ? runCall : undefined);

function contextFor(fixture: MemoryRemote, overrides: Partial<ModuleContext> = {}): ModuleContext {
  const host = fixture.inventory.hosts.get('127.0.0.1')!;
  const state = new RunState();
  provideRemoteBackups(state, fixture.remote);
  return context({ host, inventory: fixture.inventory, vars: { ...host.vars }, state, ...overrides });
}

/** What etcd.snapshot and etcd.verify leave in the attempt: a verified snapshot in backup_dir. */
async function acceptedSnapshot(ctx: ModuleContext, fixture: MemoryRemote, name: string): Promise<string> {
  const placed = await placeSnapshot(fixture.backupDir, name);
  const report = await verifySnapshotFile(placed.path);
  if (!report.ok) throw new Error('the fixture snapshot does not verify');
  const attempt = backupAttempt(ctx);
  attempt.taken = {
    partialPath: `${placed.path}.partial`,
    bytes: placed.size,
    sha256: placed.sha256,
    member: 'etcd1',
    host: '127.0.0.1',
    method: 'client',
    takenAt: '2026-12-01T10:15:00.000Z',
    durationMs: 5,
  };
  attempt.accepted = { file: placed.path, pointer: join(fixture.backupDir, 'snapshot.db'), report };
  return placed.path;
}

describe('backup modules with backup_remote', () => {
  const fixtures: MemoryRemote[] = [];
  const make = async (options?: Parameters<typeof memoryRemote>[0]) => {
    const fixture = await memoryRemote(options);
    fixtures.push(fixture);
    return fixture;
  };
  after(async () => {
    for (const fixture of fixtures) await rm(fixture.dir, { recursive: true, force: true });
  });

  it('etcd.remote-copy is skipped without backup_remote', async () => {
    const { outcome, steps } = await drive(etcdRemoteCopyModule, {}, runCalls);
    expect(steps).to.deep.equal([]);
    expect(outcome).to.deep.include({ skipped: true, changed: false });
    expect(outcome.msg).to.match(/no backup_remote/);
  });

  it('etcd.remote-copy under --dry-run: one step naming the object, the endpoint, the encryption, never the secret', async () => {
    const fixture = await make();
    const ctx = contextFor(fixture, { dryRun: true });
    const { planned, outcome } = await drive(etcdRemoteCopyModule, {}, dryRun(runCalls), ctx);
    expect(outcome.failed).to.equal(undefined);
    expect(planned).to.have.length(1);
    const text = planned[0]!.text;
    expect(planned[0]!.ran).to.equal(false);
    expect(text).to.contain('s3://backups/prod/snapshots/unit/snapshot_<time>_rev<revision>.db.age at https://s3.example.test');
    expect(text).to.contain('with key AKIA…KEY1 from unit test');
    expect(text).to.contain('encrypted on the way with age for 1 recipient(s)');
    expect(text).to.contain('then record it in s3://backups/prod/catalog/unit.json');
    expect(text).not.to.contain('unit-test-secret-value');
    expect(fixture.store.objects.size).to.equal(0);
  });

  it('etcd.remote-copy copies the accepted snapshot, checked on the server; etcd.record records it in both places', async () => {
    const fixture = await make();
    const ctx = contextFor(fixture);
    const path = await acceptedSnapshot(ctx, fixture, 'snapshot_20261201T101500Z_rev2.db');
    const { outcome } = await drive(etcdRemoteCopyModule, {}, runCalls, ctx);
    expect(outcome.failed, outcome.msg).to.equal(undefined);
    const key = 'prod/snapshots/unit/snapshot_20261201T101500Z_rev2.db.age';
    expect(outcome.msg).to.match(new RegExp(`^s3://backups/${key}: 0\\.0 MiB, age-encrypted, verified by server-md5 in \\d+\\.\\ds$`));
    expect(fixture.store.objects.get(key)?.data.subarray(0, 21).toString()).to.equal('age-encryption.org/v1');
    const attempt = ctx.state.peek(backupAttemptKey)!;
    expect(attempt.remote).to.deep.include({ result: 'ok', url: `s3://backups/${key}`, encrypted: true, verifiedBy: 'server-md5' });
    expect(attempt.error).to.equal(undefined);

    const recorded = await drive(etcdRecordModule, {}, runCalls, ctx);
    expect(recorded.outcome.failed).to.equal(undefined);
    const line = (await readFile(backupLocations(fixture.inventory).catalogFile, 'utf8')).trim();
    expect(JSON.parse(line)).to.deep.include({ result: 'ok', where: 'both', file: path });
  });

  it('a copy that fails fails the attempt; the verified local snapshot stays and is recorded local-only', async () => {
    const fixture = await make();
    const ctx = contextFor(fixture);
    const path = await acceptedSnapshot(ctx, fixture, 'snapshot_20261201T111500Z_rev2.db');
    fixture.store.failures.set('create', [Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })]);
    const { outcome } = await drive(etcdRemoteCopyModule, {}, runCalls, ctx);
    expect(outcome.failed).to.equal(true);
    expect(outcome.msg).to.match(/^remote copy failed: .*AccessDenied.*\(fix: the credentials were refused/);
    expect(outcome.msg).to.contain(`the verified local snapshot ${path} is kept and recorded as local-only`);
    const attempt = ctx.state.peek(backupAttemptKey)!;
    expect(attempt.remote).to.deep.include({ result: 'failed', kind: 'credentials', encrypted: true });
    expect(attempt.error).to.equal(outcome.msg);

    await drive(etcdRecordModule, {}, runCalls, ctx);
    const record = JSON.parse((await readFile(backupLocations(fixture.inventory).catalogFile, 'utf8')).trim()) as Record<string, unknown>;
    expect(record).to.deep.include({ result: 'failed', where: 'local', file: path });
    expect(await verifySnapshotFile(path)).to.deep.include({ ok: true });

    // The metrics show both: the local snapshot is fresh, the remote copy failed.
    const metrics = await drive(etcdMetricsModule, {}, runCalls, ctx);
    expect(metrics.outcome.msg).to.match(/consecutive failures 0; remote: last success never, consecutive failures 1$/);
    const text = await readFile(backupLocations(fixture.inventory).metricsFile, 'utf8');
    expect(text).to.include('orchestrate_backup_remote_last_attempt_success{cluster="unit"} 0\n');
    expect(text).to.include('orchestrate_backup_last_attempt_success{cluster="unit"} 1\n');
  });

  it('etcd.remote-prune applies backup_remote.keep_last; --dry-run deletes nothing and writes no catalog', async () => {
    const fixture = await make({ remoteVars: '      keep_last: 1\n' });
    for (const [name, day] of [
      ['snapshot_20261120T101500Z_rev2.db', 20],
      ['snapshot_20261125T101500Z_rev2.db', 25],
    ] as const) {
      const placed = await placeSnapshot(fixture.backupDir, name);
      await fixture.remote.copy({ ...placed, name, takenAt: new Date(`2026-11-${day}T10:15:00Z`), revision: 2 });
    }
    const keys = () => [...fixture.store.objects.keys()].filter((k) => k.includes('/snapshots/')).sort();
    expect(keys()).to.have.length(2);
    const puts = fixture.store.calls.filter((c) => c === 'put').length;
    const dry = await drive(etcdRemotePruneModule, {}, dryRun(runCalls), contextFor(fixture, { dryRun: true }));
    expect(dry.planned.map((s) => [s.ran, s.text.replace(/ \(.*$/, '')])).to.deep.equal([
      [true, 'plan retention in s3://backups/prod/snapshots/: {"keepLast":1}'],
      [false, 'delete s3://backups/prod/snapshots/unit/snapshot_20261120T101500Z_rev2.db.age'],
    ]);
    expect(keys()).to.have.length(2);
    expect(fixture.store.calls.filter((c) => c === 'put').length).to.equal(puts);

    const real = await drive(etcdRemotePruneModule, {}, runCalls, contextFor(fixture));
    expect(real.outcome.msg).to.equal('kept 1, deleted 1');
    expect(keys()).to.deep.equal(['prod/snapshots/unit/snapshot_20261125T101500Z_rev2.db.age']);
  });

  it('etcd.remote-prune keeps everything without a policy, and prunes nothing after a failed attempt', async () => {
    const fixture = await make();
    const none = await drive(etcdRemotePruneModule, {}, runCalls, contextFor(fixture));
    expect(none.outcome.msg).to.match(/no retention policy for the remote copies/);
    const ctx = contextFor(fixture, { vars: { backup_keep_last: 1 } });
    backupAttempt(ctx).error = 'remote copy failed';
    const afterFailure = await drive(etcdRemotePruneModule, {}, runCalls, ctx);
    expect(afterFailure.outcome).to.deep.include({ skipped: true, msg: 'the backup attempt failed: nothing is pruned' });
  });
});
