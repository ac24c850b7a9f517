// `orchestrate recover` and `orchestrate member replace` on real 3-member labs (kubeasz-style systemd
// units): every case on etcd 3.4, the damaged-WAL case again on etcd 3.5. Keys are written after the last
// backup before each cut; the lab is whole again after each case, and the cases run in order on one lab
// (a member replaced in one case is cut again in the next). Needs root. Lab on 127.0.140.
import { expect } from 'chai';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { memberStatuses, waitHealthy } from '../helpers/lab-data.js';
import { startLab, stopLab, tempLabDir, sshToLabHost, type LabInfo } from '../helpers/lab.js';
import {
  breakDb,
  etcdLogs,
  expectRecoveryReport,
  expectWhole,
  expiredCertificate,
  flipWal,
  killEtcd,
  labForCases,
  missingKeys,
  orchestrate,
  putKeys,
  recover,
  reportOf,
  tail,
  writeOnHost,
} from '../helpers/recover.js';

async function backUp(lab: LabInfo): Promise<void> {
  const result = await orchestrate(['backup', lab.inventoryFile], { timeoutMs: 60_000 });
  expect(result.code, tail(result)).to.equal(0);
}

/** Every file of a host's upper layer with its size and mtime, but etcd's own (it writes while it runs) and the logs. */
async function upperListing(upper: string): Promise<string> {
  const entries = await readdir(upper, { recursive: true, withFileTypes: true });
  const rows: string[] = [];
  for (const e of entries) {
    const path = join(e.parentPath, e.name);
    if (/\/var\/lib\/etcd\/member\/(wal|snap)|\/var\/log\/|\/run\//.test(path)) continue;
    const info = await stat(path).catch(() => undefined);
    rows.push(`${path.slice(upper.length)} ${e.isFile() ? (info?.size ?? '?') : 'dir'} ${e.isFile() ? (info?.mtimeMs ?? '?') : ''}`);
  }
  return rows.sort().join('\n');
}

describe('recover and member replace on a 3-member lab (127.0.140.x)', function () {
  this.timeout(300_000);
  let lab: LabInfo;
  const host = (i: number) => lab.hosts[i]!;

  before(async function () {
    this.timeout(120_000);
    lab = await startLab({ dir: tempLabDir(), net: '127.0.140', members: 3 });
    await waitHealthy(lab);
    await backUp(lab);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(await etcdLogs(lab));
  });

  after(async function () {
    this.timeout(60_000);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- before() may have failed before the lab existed
    if (!lab) return;
    await stopLab(lab.dir);
    await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  it('diagnoses a healthy cluster read-only and finds nothing to do (exit 0, nothing written)', async () => {
    // Everything a host writes lands in its copy-on-write layer: the same listing after means nothing was written.
    const upperBefore = await Promise.all(lab.hosts.map((h) => upperListing(h.upperDir)));
    const result = await recover(lab, ['--dry-run']);
    expect(result.code, tail(result)).to.equal(0);
    const report = reportOf(result);
    expect(report.choice?.kind).to.equal('nothing');
    expect(report.diagnosis?.members.map((m) => m.state)).to.deep.equal(['healthy', 'healthy', 'healthy']);
    expect(report.htmlReport).to.equal(undefined);
    expect(report.diagnosis?.members[0]?.certificates[0]?.notAfter).to.match(/^\d{4}-/);
    for (const [i, before] of upperBefore.entries()) expect(await upperListing(lab.hosts[i]!.upperDir), lab.hosts[i]!.address).to.equal(before);
  });

  it('power cut, every data dir intact: recover starts them as they are, no key lost', async () => {
    const keys = await putKeys(lab, '/after-backup/cut/', 5);
    await killEtcd(lab);
    const result = await recover(lab);
    expect(result.code, tail(result)).to.equal(0);
    const report = reportOf(result);
    expect(report.choice?.kind).to.equal('start');
    expect(report.choice?.start).to.have.length(3);
    expect(report.start?.verdict?.ok).to.equal(true);
    expect(await missingKeys(lab, keys)).to.deep.equal([]);
    await expectRecoveryReport(report, 'start as is, completed');
    expect(await readFile(report.htmlReport ?? '', 'utf8')).not.to.contain('<section id="restore">');
    await expectWhole(lab);
  });

  it('one member WAL bit-flipped: the other two start, that member is replaced, its data kept, no key lost', async () => {
    const keys = await putKeys(lab, '/after-backup/flip/', 5);
    await killEtcd(lab);
    await flipWal(lab, host(2), keys[2] ?? '');
    const result = await recover(lab);
    expect(result.code, tail(result)).to.equal(0);
    const report = reportOf(result);
    expect(report.diagnosis?.members[2]).to.include({ state: 'damaged' });
    expect(report.diagnosis?.members[2]?.wal?.state).to.equal('corrupt');
    expect(report.choice).to.deep.include({ kind: 'start', replace: [host(2).address] });
    const aside = report.start?.replaced[0]?.oldDataAt;
    expect(aside).to.match(/^\/var\/lib\/etcd\.before-replace-\d{8}T\d{6}Z$/);
    const kept = await sshToLabHost(lab, host(2).address, `ls ${aside ?? ''}/member/wal`);
    expect(kept.stdout).to.contain('.wal');
    expect(await missingKeys(lab, keys)).to.deep.equal([]);
    await expectWhole(lab);
  });

  it('member replace: refused while another member is down (quorum would be lost), then replaces the down member', async () => {
    await killEtcd(lab, [host(1)]);
    const refused = await orchestrate(['member', 'replace', lab.inventoryFile, host(0).address, '--yes']);
    expect(refused.code, tail(refused)).to.equal(5);
    expect(refused.stderr).to.contain('would lose quorum');
    const replaced = await orchestrate(['member', 'replace', lab.inventoryFile, host(1).address, '--yes', '--json']);
    expect(replaced.code, tail(replaced)).to.equal(0);
    expect(reportOf(replaced)).to.deep.include({ status: 'completed' });
    await expectWhole(lab);
  });

  it('member replace on a healthy cluster: a new member id, same name and peer URL, keys kept', async () => {
    const before = await memberStatuses(lab);
    const keys = await putKeys(lab, '/after-backup/replace/', 3);
    const result = await orchestrate(['member', 'replace', lab.inventoryFile, host(0).name, '--yes']);
    expect(result.code, tail(result)).to.equal(0);
    const after = await memberStatuses(lab);
    expect(after[0]!.memberId).not.to.equal(before[0]!.memberId);
    expect(after[1]!.memberId).to.equal(before[1]!.memberId);
    expect(await missingKeys(lab, keys)).to.deep.equal([]);
    await expectWhole(lab);
  });

  it('an expired certificate on a member: named with its date, that member left as it is (no restore), then started once renewed', async () => {
    const certFile = lab.pki.certFile;
    const expired = await expiredCertificate(lab, join(lab.dir, 'expired-ca'));
    await killEtcd(lab);
    const dirsBefore = await sshToLabHost(lab, host(1).address, 'ls -d /var/lib/etcd*');
    await writeOnHost(lab, host(1), certFile, expired);
    const result = await recover(lab);
    expect(result.code, tail(result)).to.equal(3);
    const report = reportOf(result);
    expect(report.diagnosis?.members[1]?.state).to.equal('certificate');
    const bad = report.diagnosis?.members[1]?.certificates.find((c) => c.problem);
    expect(bad?.file).to.equal(certFile);
    expect(bad?.problem).to.match(/expired on \d{4}-\d{2}-\d{2}T/);
    expect(report.choice?.leave?.map((l) => l.host)).to.deep.equal([host(1).address]);
    expect(report.restore).to.equal(undefined);
    // Its data untouched: no folder moved aside by this run (an earlier case's replace left its own).
    const dirs = await sshToLabHost(lab, host(1).address, 'ls -d /var/lib/etcd*');
    expect(dirs.stdout.trim().split('\n')).to.deep.equal(dirsBefore.stdout.trim().split('\n'));
    // Renewed (the lab's own certificate back): recover starts it as it is.
    await writeOnHost(lab, host(1), certFile, await readFile(certFile, 'utf8'));
    const again = await recover(lab);
    expect(again.code, tail(again)).to.equal(0);
    expect(reportOf(again).choice?.start).to.deep.equal([host(1).address]);
    await expectWhole(lab);
  });

  it('interrupted mid-replace (the deploy host dies after the data was moved aside), a re-run converges', async () => {
    const keys = await putKeys(lab, '/after-backup/interrupt/', 3);
    await killEtcd(lab);
    await flipWal(lab, host(0), keys[1] ?? '');
    const killed = await recover(lab, [], { ORCHESTRATE_FAILPOINT: `set-aside:${host(0).address}` });
    expect(killed.signal ?? killed.code, tail(killed)).to.be.oneOf(['SIGKILL', 137]);
    const rerun = await recover(lab);
    expect(rerun.code, tail(rerun)).to.equal(0);
    expect(rerun.stdout).to.contain('continuing the interrupted recovery');
    expect(await missingKeys(lab, keys)).to.deep.equal([]);
    await expectWhole(lab);
  });

  it('a majority damaged: rebuilt from the intact member, every key written more than a second before the cut is back; the snapshot would have lost them', async () => {
    await backUp(lab);
    const keys = await putKeys(lab, '/after-backup/majority/', 5);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await killEtcd(lab);
    await flipWal(lab, host(1), keys[2] ?? '');
    await flipWal(lab, host(2), keys[2] ?? '');
    const result = await recover(lab);
    expect(result.code, tail(result)).to.equal(0);
    const report = reportOf(result);
    expect(report.choice).to.deep.include({ kind: 'rebuild', source: host(0).address });
    const snapshotOption = report.options?.find((o) => o.path === 'snapshot');
    expect(snapshotOption?.possible).to.equal(true);
    expect(snapshotOption?.lostRevisions).to.be.at.least(5);
    expect(report.options?.find((o) => o.path === 'rebuild')?.lostRevisions).to.equal(0);
    expect(report.restore?.verdict?.ok).to.equal(true);
    expect(report.restore?.snapshot.path).to.match(/\/rescue\/rescue_.*\.db$/);
    expect((await stat(report.restore!.snapshot.path)).mode & 0o777).to.equal(0o600);
    expect(await missingKeys(lab, keys)).to.deep.equal([]);
    for (const m of report.restore?.members ?? []) expect(m.oldDataAt).to.match(/before-restore/);
    await expectRecoveryReport(report, `rebuild from ${host(0).address}, completed`);
    expect(await readFile(report.htmlReport ?? '', 'utf8')).to.contain('<section id="restore">');
    await expectWhole(lab);
  });

  it('every member damaged: the newest snapshot, and the report says what was lost', async () => {
    await backUp(lab);
    const lost = await putKeys(lab, '/after-backup/lost/', 3);
    await killEtcd(lab);
    for (const h of lab.hosts) await breakDb(lab, h);
    const result = await recover(lab);
    expect(result.code, tail(result)).to.equal(0);
    const report = reportOf(result);
    expect(report.choice?.kind).to.equal('snapshot');
    expect(report.diagnosis?.members.map((m) => m.state)).to.deep.equal(['damaged', 'damaged', 'damaged']);
    // No db can be read, so the writes lost are told by time: from the snapshot to the last WAL write.
    expect(report.options?.find((o) => o.path === 'snapshot')?.lostMs).to.be.greaterThan(0);
    expect(await missingKeys(lab, lost)).to.deep.equal(lost);
    expect(await readdir(join(lab.dir, 'backups'))).to.have.length.greaterThan(0);
    await expectWhole(lab);
  });
});

describe('recover on etcd 3.5 (127.0.140.x)', function () {
  this.timeout(240_000);
  const theLab = labForCases({ dir: tempLabDir(), net: '127.0.140', members: 3, etcd: '3.5' });
  const host = (i: number) => theLab().hosts[i]!;

  it('power cut, one member WAL damaged: the other two start as they are, the third is replaced as a learner, no key lost', async () => {
    const lab = theLab();
    const keys = await putKeys(lab, '/after-cut/35/', 5);
    await killEtcd(lab);
    await flipWal(lab, host(1), keys[2] ?? '');
    const result = await recover(lab);
    expect(result.code, tail(result)).to.equal(0);
    const report = reportOf(result);
    expect(report.diagnosis?.members[1]?.wal?.state).to.equal('corrupt');
    expect(report.choice).to.deep.include({ kind: 'start', replace: [host(1).address] });
    expect(report.start?.replaced[0]?.oldDataAt).to.match(/^\/var\/lib\/etcd\.before-replace-/);
    expect(await missingKeys(lab, keys)).to.deep.equal([]);
    await expectWhole(lab);
  });
});
