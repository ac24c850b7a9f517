// End-to-end scenarios on real labs (sshd + TLS etcd 3.4, kubeasz-style units): a power cut, a host that
// cannot be reached before a restore, a backup taken with etcdctl on a member, a single-member cluster,
// a raw member/snap/db without a hash trailer, and expired or expiring certificates. Needs root.
// Labs: 3 members on 127.0.108, 1 member on 127.0.109. The CLI runs as a child process with no terminal.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hostSystemctl } from '../../src/lab/index.js';
import { runProgram } from '../../src/lab/run-program.js';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { damage, keyValues, memberStatuses, putKey, waitHealthy, type MemberStatus } from '../helpers/lab-data.js';
import { etcdctlInLab, readSystemctlLog, sshToLabHost, startLab, stopLab, tempLabDir, type LabHostInfo, type LabInfo } from '../helpers/lab.js';

/**
 * Runs the CLI from source, stdin not a terminal (as cron or CI would). The deadline is below the test's
 * own, so a hung run fails with its output instead of a bare mocha timeout.
 */
function orchestrate(args: string[], timeoutMs = 150_000): Promise<CliResult> {
  return runCliFromSource(args, { env: { CI: '1' }, timeoutMs });
}

interface RestoreReport {
  status: string;
  runId: string;
  exitCode: number;
  failure?: string;
  snapshot: { path: string; revision: number };
  members: { host: string; oldDataAt?: string }[];
  verdict?: { ok: boolean; problems: string[] };
  warnings: string[];
}

/** The end of a run's output, for assertion messages. */
function tail(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout (end)\n${result.stdout.slice(-3000)}\n--- stderr (end)\n${result.stderr.slice(-3000)}`;
}

function restoreReport(result: CliResult): RestoreReport {
  const line = result.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"type":"report"'));
  if (!line) throw new Error(`no JSON report: ${tail(result)}`);
  return JSON.parse(line) as RestoreReport;
}

interface BackupRecord {
  result: string;
  file?: string;
  sha256?: string;
  host?: string;
  method?: string;
  revision?: number;
}

/** `orchestrate backup INVENTORY --json [extra]`: the record of the attempt, which must have succeeded. */
async function backUp(lab: LabInfo, extra: string[] = []): Promise<BackupRecord> {
  const result = await orchestrate(['backup', lab.inventoryFile, '--json', ...extra], 60_000);
  expect(result.code, `backup: ${tail(result)}`).to.equal(0);
  const outcome = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { record: BackupRecord };
  expect(outcome.record.result).to.equal('ok');
  return outcome.record;
}

function expectOneLeader(statuses: MemberStatus[], size: number): void {
  expect(new Set(statuses.map((s) => s.leader)).size, 'every member names the same leader').to.equal(1);
  expect(statuses.filter((s) => s.leader === s.memberId)).to.have.length(1);
  expect(new Set(statuses.map((s) => s.clusterId)).size).to.equal(1);
  expect(new Set(statuses.map((s) => s.memberId)).size).to.equal(size);
  expect(statuses.map((s) => s.memberId)).not.to.include('8e9e05c52164694d');
}

async function etcdPid(host: LabHostInfo): Promise<string> {
  return (await readFile(join(host.upperDir, 'var', 'lib', 'lab-systemd', 'etcd.pid'), 'utf8').catch(() => '')).trim();
}

/**
 * Everything a restore could change on a host, read from the deploy host through its upper layer (so it
 * works for a host whose sshd is stopped): the etcd pid and whether it lives, the systemctl log, the
 * etcd* dirs in /var/lib and the files of the data dir.
 */
async function hostFingerprint(lab: LabInfo, host: LabHostInfo): Promise<string> {
  const varLib = join(host.upperDir, 'var', 'lib');
  const pid = await etcdPid(host);
  const alive =
    pid !== '' &&
    (await stat(`/proc/${pid}`).then(
      () => true,
      () => false,
    ));
  const dirs = (await readdir(varLib)).filter((name) => name.startsWith('etcd')).sort();
  const wal = (await readdir(join(varLib, 'etcd', 'member', 'wal')).catch(() => [] as string[])).sort();
  const snap = (await readdir(join(varLib, 'etcd', 'member', 'snap')).catch(() => [] as string[])).sort();
  const log = await readSystemctlLog(lab, host.address);
  return `${host.address}: etcd pid ${pid} ${alive ? 'alive' : 'dead'}; ${log.length} systemctl events (last ${JSON.stringify(log.at(-1))}); dirs ${dirs.join(',')}; wal ${wal.join(',')}; snap ${snap.join(',')}`;
}

async function oldDataKept(lab: LabInfo, report: RestoreReport): Promise<void> {
  for (const member of report.members) {
    expect(member.oldDataAt, member.host).to.equal(`/var/lib/etcd.before-restore-${report.runId}`);
    const kept = await sshToLabHost(lab, member.host, `test -d ${member.oldDataAt}/member/wal && echo kept`);
    expect(kept.stdout.trim(), member.host).to.equal('kept');
  }
}

/** openssl `ca` time format (UTCTime), to the second. */
function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/**
 * A certificate for the lab's member key, signed by the lab CA, valid from `notBefore` to `notAfter`.
 * OpenSSL 3.0 `x509 -req` cannot set dates in the past, `openssl ca -startdate/-enddate` can.
 */
async function certificateWithDates(lab: LabInfo, dir: string, name: string, notBefore: Date, notAfter: Date): Promise<string> {
  await mkdir(dir, { recursive: true });
  const work = join(dir, `${name}.ca`);
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'index.txt'), '');
  await writeFile(join(work, 'serial'), `${createHash('sha256').update(`${name}${Date.now()}`).digest('hex').slice(0, 16)}\n`);
  const config = join(work, 'ca.cnf');
  await writeFile(
    config,
    [
      '[ ca ]',
      'default_ca = lab_ca',
      '[ lab_ca ]',
      `database = ${join(work, 'index.txt')}`,
      `new_certs_dir = ${work}`,
      `serial = ${join(work, 'serial')}`,
      'default_md = sha256',
      'policy = any_name',
      'unique_subject = no',
      'x509_extensions = member_ext',
      '[ any_name ]',
      'commonName = supplied',
      '[ member_ext ]',
      'extendedKeyUsage = serverAuth, clientAuth',
      '',
    ].join('\n'),
  );
  const csr = join(work, 'member.csr');
  const out = join(dir, `${name}.pem`);
  const run = async (args: string[]) => {
    const result = await runProgram('openssl', args, { timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`openssl ${args[0]}: ${result.stderr}`);
  };
  await run(['req', '-new', '-key', lab.pki.keyFile, '-subj', `/CN=${name}`, '-out', csr]);
  const caKey = join(dirname(lab.pki.caFile), 'ca-key.pem');
  await run([
    'ca',
    '-batch',
    '-config',
    config,
    '-cert',
    lab.pki.caFile,
    '-keyfile',
    caKey,
    '-in',
    csr,
    '-out',
    out,
    '-notext',
    '-startdate',
    asn1Time(notBefore),
    '-enddate',
    asn1Time(notAfter),
  ]);
  return out;
}

/** Put a local file at the same path on every lab host (the inventory's paths are used on both sides). */
async function copyToHosts(lab: LabInfo, file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  for (const host of lab.hosts) {
    const result = await sshToLabHost(lab, host.address, `mkdir -p '${dirname(file)}' && cat > '${file}'`, { input: text });
    expect(result.code, `${host.address}: ${result.stderr}`).to.equal(0);
  }
}

/** A copy of the lab's inventory (beside it, so backup_dir resolves the same) with one variable changed. */
async function inventoryWith(lab: LabInfo, name: string, variable: string, value: string): Promise<string> {
  const text = await readFile(lab.inventoryFile, 'utf8');
  const changed = text.replace(new RegExp(`${variable}: .*`), `${variable}: ${value}`);
  expect(changed).to.not.equal(text);
  const file = join(lab.dir, name);
  await writeFile(file, changed);
  return file;
}

async function removeLab(lab: LabInfo | undefined): Promise<void> {
  if (!lab) return;
  await stopLab(lab.dir);
  // The lab leaves what it did not create (backups, .orchestrate, extra files): drop its temp folder.
  if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
}

describe('scenarios on a 3-member lab (127.0.108.x)', function () {
  this.timeout(240_000);
  let lab: LabInfo | undefined;
  let baseline: BackupRecord;
  let stoppedSshd: number | undefined;

  const theLab = (): LabInfo => lab!;

  before(async function () {
    this.timeout(120_000);
    lab = await startLab({ dir: tempLabDir(), net: '127.0.108', members: 3 });
    await waitHealthy(lab);
    baseline = await backUp(lab);
  });

  after(async function () {
    this.timeout(60_000);
    if (stoppedSshd) process.kill(stoppedSshd, 'SIGCONT');
    await removeLab(lab);
  });

  it('backup --method etcdctl: saved on a member, copied back sha256-checked, 0600, accepted by snapshots verify', async () => {
    const lab = theLab();
    const record = await backUp(lab, ['--method', 'etcdctl', '--known-hosts', lab.knownHostsFile]);
    expect(record.method).to.equal('etcdctl');
    expect(lab.hosts.map((h) => h.address)).to.include(record.host);
    const file = record.file!;
    expect(file).to.match(/\/snapshot_\d{8}T\d{6}Z_rev\d+(_\d+)?\.db$/);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    ).to.equal(record.sha256);
    const verified = await orchestrate(['snapshots', 'verify', file]);
    expect(verified.code, tail(verified)).to.equal(0);
    expect(verified.stdout).to.contain(`${file}: ok, sha256 trailer ok`);
    expect(verified.stdout).to.contain(`revision ${record.revision},`);
    // Nothing left behind on the member.
    const member = lab.hosts.find((h) => h.address === record.host)!;
    const leftovers = (await readdir(join(member.upperDir, 'var', 'lib'))).filter((name) => name.startsWith('orchestrate-snapshot-'));
    expect(leftovers).to.deep.equal([]);
  });

  it('restore --dry-run refuses a certificate that expired yesterday, naming the file and the date; warns about one that expires soon', async () => {
    const lab = theLab();
    const dir = join(lab.dir, 'pki-scenarios');
    const nowSeconds = Math.floor(Date.now() / 1000) * 1000;
    const expiredAt = new Date(nowSeconds - 86_400_000);
    const expired = await certificateWithDates(lab, dir, 'etcd-expired', new Date(nowSeconds - 30 * 86_400_000), expiredAt);
    const soon = await certificateWithDates(lab, dir, 'etcd-expires-soon', new Date(nowSeconds - 86_400_000), new Date(nowSeconds + 3 * 86_400_000));
    // The certificate really is what the test says, by openssl's own account.
    const checked = await runProgram('openssl', ['x509', '-in', expired, '-noout', '-checkend', '0'], { timeoutMs: 10_000 });
    expect(checked.stdout).to.contain('will expire');
    await copyToHosts(lab, expired);
    await copyToHosts(lab, soon);

    const before = await Promise.all(lab.hosts.map((h) => hostFingerprint(lab, h)));
    const inventory = await inventoryWith(lab, 'inventory-expired-cert.yml', 'etcd_cert_file', expired);
    const refused = await orchestrate(['restore', inventory, '--snapshot', baseline.file!, '--dry-run']);
    expect(refused.code, tail(refused)).to.equal(5);
    expect(refused.stderr).to.contain('preflight failed');
    for (const host of lab.hosts) {
      expect(refused.stderr).to.contain(
        `${host.name} (${host.address}): the certificate ${expired} (CN=etcd-expired) expired on ${expiredAt.toISOString()}`,
      );
    }
    expect(refused.stderr).to.not.match(/\n\s+at /); // no stack trace

    const warned = await orchestrate([
      'restore',
      await inventoryWith(lab, 'inventory-soon-cert.yml', 'etcd_cert_file', soon),
      '--snapshot',
      baseline.file!,
      '--dry-run',
    ]);
    expect(warned.code, tail(warned)).to.equal(0);
    expect(warned.stderr).to.match(
      new RegExp(`warning: .*the certificate ${soon.replace(/[.]/g, '\\.')} \\(CN=etcd-expires-soon\\) expires in 2 day\\(s\\)`),
    );
    expect(await Promise.all(lab.hosts.map((h) => hostFingerprint(lab, h)))).to.deep.equal(before);
  });

  it("restore --yes refuses before changing anything when one member's sshd does not answer (exit 4, host named)", async () => {
    const lab = theLab();
    const victim = lab.hosts[1]!;
    const journal = join(lab.dir, '.orchestrate', 'restore-journal', 'etcd-cluster-0.json');
    const journalBefore = await readFile(journal, 'utf8').catch(() => 'none');
    const before = await Promise.all(lab.hosts.map((h) => hostFingerprint(lab, h)));
    const keysBefore = await keyValues(lab);
    // SIGSTOP the host's sshd (also the holder of its mount namespace, which must not die): the kernel still
    // accepts TCP connections but no SSH banner ever comes, like a host hung after a power problem.
    process.kill(victim.pid, 'SIGSTOP');
    stoppedSshd = victim.pid;
    let result: CliResult;
    try {
      const started = Date.now();
      result = await orchestrate(['restore', lab.inventoryFile, '--snapshot', baseline.file!, '--yes', '--connect-timeout', '3']);
      expect(Date.now() - started).to.be.below(30_000);
    } finally {
      process.kill(victim.pid, 'SIGCONT');
      stoppedSshd = undefined;
    }
    expect(result.code, tail(result)).to.equal(4); // README: 4 = a host was unreachable
    expect(result.stderr).to.contain(victim.address);
    expect(result.stderr).to.match(/unreachable|timed out/);
    expect(result.stderr).to.contain('nothing was changed');
    expect(result.stderr).to.not.match(/\n\s+at /);
    for (const other of lab.hosts.filter((h) => h !== victim)) expect(result.stderr).to.not.contain(`${other.address}:`);
    expect(await Promise.all(lab.hosts.map((h) => hostFingerprint(lab, h)))).to.deep.equal(before);
    expect(await readFile(journal, 'utf8').catch(() => 'none')).to.equal(journalBefore);
    expect(await keyValues(lab)).to.deep.equal(keysBefore);
    // The host is back once sshd runs again.
    const back = await sshToLabHost(lab, victim.address, 'echo back');
    expect(back.stdout.trim()).to.equal('back');
  });

  it('restores from a raw member/snap/db copied out over scp: verify says "no sha256 trailer", restore skips the hash check and succeeds', async () => {
    const lab = theLab();
    const source = lab.hosts[2]!;
    const raw = join(lab.dir, 'raw-member-db.db');
    // A key only this copy has, so the restore is seen to bring back this file and no other.
    await putKey(lab, '/registry/configmaps/default/raw-copy-marker', 'from member/snap/db');
    // A put returns once the leader committed it; wait until this member has applied it too (serializable read).
    for (let i = 0; ; i++) {
      const seen = await etcdctlInLab(
        lab,
        ['get', '/registry/configmaps/default/raw-copy-marker', '--consistency=s', '--print-value-only'],
        [source.address],
      );
      if (seen.stdout.trim() === 'from member/snap/db') break;
      if (i >= 50) throw new Error(`${source.address} never applied the marker`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A consistent copy needs the member stopped (bbolt is written in place while etcd runs).
    expect((await sshToLabHost(lab, source.address, 'systemctl stop etcd', { timeoutMs: 30_000 })).code).to.equal(0);
    try {
      const copied = await runProgram(
        'scp',
        [
          '-q',
          '-i',
          lab.keyFile,
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=yes',
          '-o',
          `UserKnownHostsFile=${lab.knownHostsFile}`,
          '-o',
          'ConnectTimeout=10',
          `root@${source.address}:/var/lib/etcd/member/snap/db`,
          raw,
        ],
        { timeoutMs: 60_000 },
      );
      expect(copied.code, copied.stderr).to.equal(0);
    } finally {
      expect((await sshToLabHost(lab, source.address, 'systemctl start etcd', { timeoutMs: 30_000 })).code).to.equal(0);
    }
    await waitHealthy(lab);
    const rawKeys = await keyValues(lab);
    expect(rawKeys.has('/registry/configmaps/default/raw-copy-marker')).to.equal(true);

    const verified = await orchestrate(['snapshots', 'verify', raw]);
    expect(verified.code, tail(verified)).to.equal(0);
    expect(verified.stdout).to.contain(`${raw}: ok, no sha256 trailer`);
    const strict = await orchestrate(['snapshots', 'verify', raw, '--require-hash']);
    expect(strict.code).to.not.equal(0);

    await damage(lab, '/registry/rogue/before-raw-restore');
    // What the code documents (src/restore/restore-run.ts, README "Restore"): a file without a trailer is
    // restored with --skip-hash-check, with a warning saying so.
    const dry = await orchestrate(['restore', lab.inventoryFile, '--snapshot', raw, '--dry-run']);
    expect(dry.code, tail(dry)).to.equal(0);
    expect(dry.stdout).to.contain('--skip-hash-check');
    expect(dry.stdout).to.contain('no hash trailer');
    const result = await orchestrate(['restore', lab.inventoryFile, '--snapshot', raw, '--yes', '--json']);
    const report = restoreReport(result);
    expect(result.code, `${report.failure ?? ''}\n${result.stderr}`).to.equal(0);
    expect(report.status).to.equal('completed');
    expect(report.verdict?.ok).to.equal(true);
    expect(report.warnings.join('\n')).to.contain(`${raw} has no sha256 trailer`);
    expect(await keyValues(lab)).to.deep.equal(rawKeys);
    expectOneLeader(await memberStatuses(lab), 3);
    await oldDataKept(lab, report);
  });

  it('power cut: every member down; status says so with the backup age; restore still works and verifies', async () => {
    const lab = theLab();
    await putKey(lab, '/registry/configmaps/default/power-cut-marker', 'taken just before the power cut');
    const record = await backUp(lab);
    const snapshotKeys = await keyValues(lab);
    expect(snapshotKeys.get('/registry/configmaps/default/power-cut-marker')).to.equal('taken just before the power cut');
    await damage(lab, '/registry/rogue/before-power-cut');
    await Promise.all(
      lab.hosts.map(async (host) => {
        const stopped = await hostSystemctl(host.pid, ['stop', 'etcd']);
        expect(stopped.code, `${host.address}: ${stopped.stderr}`).to.equal(0);
      }),
    );
    for (const host of lab.hosts) {
      const pid = await etcdPid(host);
      expect(
        pid === '' ||
          !(await stat(`/proc/${pid}`).then(
            () => true,
            () => false,
          )),
        `etcd on ${host.address} is stopped`,
      ).to.equal(true);
    }

    const status = await orchestrate(['status', lab.inventoryFile, '--max-age', '1h', '--timeout', '2']);
    // A fresh backup does not make a dead cluster look fine: exit 7 (unhealthy), and the backup age is still shown.
    expect(status.code, tail(status)).to.equal(7);
    expect(status.stdout).to.contain('0/3 members healthy, leader none');
    expect(status.stdout).to.contain('UNHEALTHY: 0 of 3 members healthy');
    for (const host of lab.hosts) expect(status.stdout).to.match(new RegExp(`^${host.name.replace(/[.]/g, '\\.')}\\s+\\S+\\s+DOWN`, 'm'));
    expect(status.stdout).to.contain(`newest verified snapshot: ${record.file}`);
    expect(status.stdout).to.match(/^ {2}taken \S+ \([^)]*\bago\), revision \d+/m);
    const statusJson = await orchestrate(['status', lab.inventoryFile, '--max-age', '1h', '--timeout', '2', '--json']);
    const parsed = JSON.parse(statusJson.stdout) as {
      healthy: number;
      stale: boolean;
      newestVerifiedSnapshot: { path: string; ageSeconds: number } | null;
    };
    expect(parsed.healthy).to.equal(0);
    expect(parsed.stale).to.equal(false);
    expect(parsed.newestVerifiedSnapshot?.path).to.equal(record.file);
    expect(parsed.newestVerifiedSnapshot!.ageSeconds).to.be.within(0, 600);

    const result = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
    const report = restoreReport(result);
    expect(result.code, `${report.failure ?? ''}\n${result.stderr}`).to.equal(0);
    expect(result.stdout).to.contain('cluster   does not answer now');
    expect(report.snapshot.path).to.equal(record.file);
    expect(report.status).to.equal('completed');
    expect(report.verdict?.ok).to.equal(true);
    await waitHealthy(lab);
    expect(await keyValues(lab)).to.deep.equal(snapshotKeys);
    expectOneLeader(await memberStatuses(lab), 3);
    await oldDataKept(lab, report);
  });
});

describe('scenarios on a single-member lab (127.0.109.1)', function () {
  this.timeout(180_000);
  let lab: LabInfo | undefined;

  before(async function () {
    this.timeout(90_000);
    lab = await startLab({ dir: tempLabDir(), net: '127.0.109', members: 1 });
    await waitHealthy(lab);
  });

  after(async function () {
    this.timeout(60_000);
    await removeLab(lab);
  });

  it('N=1: backup, damage, restore --yes: keys back, one leader with its own identity, old data kept aside', async () => {
    const one = lab!;
    const idBefore = (await memberStatuses(one))[0]!.memberId;
    const record = await backUp(one);
    const snapshotKeys = await keyValues(one);
    expect([...snapshotKeys.keys()].some((k) => k.startsWith('/registry/pods/'))).to.equal(true);
    await damage(one, '/registry/rogue/single-member');
    expect(await keyValues(one)).to.not.deep.equal(snapshotKeys);

    const result = await orchestrate(['restore', one.inventoryFile, '--yes', '--json']);
    const report = restoreReport(result);
    expect(result.code, `${report.failure ?? ''}\n${result.stderr}`).to.equal(0);
    expect(report.status).to.equal('completed');
    expect(report.snapshot.path).to.equal(record.file);
    expect(report.verdict?.ok).to.equal(true);
    expect(await keyValues(one)).to.deep.equal(snapshotKeys);
    const statuses = await memberStatuses(one);
    expectOneLeader(statuses, 1);
    expect(statuses[0]!.memberId).to.equal(idBefore);
    const list = await etcdctlInLab(one, ['member', 'list', '-w', 'simple']);
    expect(list.stdout.trim().split('\n')).to.have.length(1);
    expect(list.stdout).to.contain(`${one.hosts[0]!.name}, ${one.hosts[0]!.peerUrl}`);
    await oldDataKept(one, report);
  });
});
