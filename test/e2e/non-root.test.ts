// End-to-end: backup and restore logged in as the lab's non-root `deploy` user (passwordless sudo), as real
// clusters are often reached (`ansible_user: deploy` + `ansible_become: true`); and the same user without
// `ansible_become`, which restore must refuse in preflight and `restore --rollback` before it changes
// anything. 3 members on 127.0.114. Needs root.
import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { damage, keyValues, memberStatuses, putKey, waitHealthy } from '../helpers/lab-data.js';
import { readSystemctlLog, sshToLabHost, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

/** Stays below each test's own timeout, so a hung run fails with its output. */
function orchestrate(args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<CliResult> {
  return runCliFromSource(args, { env: { CI: '1', ...env }, timeoutMs });
}

function tail(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout (end)\n${result.stdout.slice(-2500)}\n--- stderr (end)\n${result.stderr.slice(-2500)}`;
}

/** The lab's inventory with other login settings, written beside it (so `backup_dir: backups` means the same folder). */
async function inventoryAs(lab: LabInfo, file: string, loginVars: Record<string, unknown>): Promise<string> {
  const inventory = parse(await readFile(lab.inventoryFile, 'utf8')) as { all: { vars: Record<string, unknown> } };
  inventory.all.vars = { ...inventory.all.vars, ...loginVars };
  const path = join(lab.dir, file);
  await writeFile(path, stringify(inventory), { mode: 0o644 });
  return path;
}

/** `owner:group mode path` of every file under the data dir, except etcd's preallocated WAL segments (`*.tmp`, created by the running etcd as root). */
async function ownersUnder(lab: LabInfo, address: string, dir: string): Promise<string[]> {
  const listed = await sshToLabHost(lab, address, `find ${dir} ! -name '*.tmp' -printf '%u:%g %m %P\\n' | sort`);
  if (listed.code !== 0) throw new Error(`${address}: find ${dir}: ${listed.stderr}`);
  return listed.stdout.trim().split('\n');
}

/** Everything a refused restore must leave alone: the etcd* dirs, the data dir's files and owners, the service log. */
async function hostState(lab: LabInfo): Promise<string[]> {
  return Promise.all(
    lab.hosts.map(async (host) => {
      const dirs = await sshToLabHost(lab, host.address, "ls -1a /var/lib | grep '^etcd'");
      const events = (await readSystemctlLog(lab, host.address)).length;
      return `${host.address}: ${events} systemctl events; dirs ${dirs.stdout.trim().split('\n').join(',')}; ${(await ownersUnder(lab, host.address, '/var/lib/etcd')).join('; ')}`;
    }),
  );
}

describe('backup and restore as a non-root SSH user (127.0.114.x)', function () {
  let lab: LabInfo;
  /** Set before the lab starts, so after() cleans up even when before() failed half-way. */
  let labDir: string | undefined;
  let withBecome: string;
  let withoutBecome: string;
  let snapshot: string;
  let snapshotKeys: Map<string, string>;
  /** The keys just before the restore (damage included): what a rollback brings back. */
  let keysBeforeRestore: Map<string, string>;
  let journalFile: string;
  const dataOwner = 'etcd:etcd';

  before(async function () {
    this.timeout(60_000);
    labDir = tempLabDir();
    lab = await startLab({ dir: labDir, net: '127.0.114', members: 3 });
    await waitHealthy(lab);
    // The lab's etcd runs as root on a root-owned dir; give the dirs Debian's etcd owner so "keeps its owner" means something.
    for (const host of lab.hosts) {
      const chowned = await sshToLabHost(lab, host.address, `chown -R ${dataOwner} /var/lib/etcd && stat -c %U:%G /var/lib/etcd`);
      expect(chowned.stdout.trim(), `${host.address}: ${chowned.stderr}`).to.equal(dataOwner);
    }
    withBecome = await inventoryAs(lab, 'inventory-deploy-become.yml', { ansible_user: lab.deployUser, ansible_become: true });
    withoutBecome = await inventoryAs(lab, 'inventory-deploy-plain.yml', { ansible_user: lab.deployUser });
    await putKey(lab, '/registry/configmaps/default/non-root-marker', 'kept by the restore');
  });

  after(async function () {
    this.timeout(30_000);
    if (!labDir) return;
    await stopLab(labDir);
    if (dirname(labDir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(labDir), { recursive: true, force: true });
  });

  it('backup --method etcdctl runs etcdctl on a member through sudo; the snapshot verifies', async function () {
    this.timeout(25_000);
    const result = await orchestrate(['backup', withBecome, '--method', 'etcdctl', '--known-hosts', lab.knownHostsFile, '--json'], 20_000);
    expect(result.code, tail(result)).to.equal(0);
    const { record } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      record: { result: string; method?: string; file?: string; host?: string };
    };
    expect(record.result).to.equal('ok');
    expect(record.method).to.equal('etcdctl');
    expect(lab.hosts.map((h) => h.address)).to.include(record.host);
    snapshot = record.file!;
    snapshotKeys = await keyValues(lab);
    const verified = await orchestrate(['snapshots', 'verify', snapshot], 15_000);
    expect(verified.code, tail(verified)).to.equal(0);
    expect(verified.stdout).to.contain(`${snapshot}: ok, sha256 trailer ok`);
  });

  it('restore --yes through sudo, the snapshot copied by the ssh client: one leader, damage gone, owners kept, old data moved aside', async function () {
    this.timeout(40_000);
    expect(snapshot, 'the backup test ran first').to.be.a('string');
    await damage(lab, '/registry/rogue/non-root');
    keysBeforeRestore = await keyValues(lab);
    const ownersBefore = await Promise.all(
      lab.hosts.map((h) => sshToLabHost(lab, h.address, 'stat -c %U:%G /var/lib/etcd').then((r) => r.stdout.trim())),
    );
    expect(ownersBefore).to.deep.equal(lab.hosts.map(() => dataOwner));

    // The lab's snapshot is small: ORCHESTRATE_BULK_COPY=ssh sends it the way multi-GiB ones go (staged in /tmp as
    // the login user, installed by sudo); a copy that could not use ssh would say so.
    const result = await orchestrate(
      ['restore', withBecome, '--snapshot', snapshot, '--known-hosts', lab.knownHostsFile, '--yes', '--json'],
      35_000,
      {
        ORCHESTRATE_BULK_COPY: 'ssh',
      },
    );
    expect(result.code, tail(result)).to.equal(0);
    expect(result.stderr).not.to.match(/sftp/);
    const line = result.stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{"type":"report"'));
    const report = JSON.parse(line ?? '{}') as {
      status?: string;
      runId?: string;
      journal?: string;
      members?: { host: string; oldDataAt?: string }[];
    };
    expect(report.status, tail(result)).to.equal('completed');
    journalFile = report.journal!;

    expect(await keyValues(lab)).to.deep.equal(snapshotKeys);
    const statuses = await memberStatuses(lab);
    expect(new Set(statuses.map((s) => s.leader)).size, 'every member names the same leader').to.equal(1);
    expect(statuses.filter((s) => s.leader === s.memberId)).to.have.length(1);

    expect(report.members).to.have.length(lab.hosts.length);
    for (const member of report.members ?? []) {
      const restored = await ownersUnder(lab, member.host, '/var/lib/etcd');
      expect(
        restored.some((row) => row.endsWith(' member/snap/db')),
        `${member.host}: ${restored.join('; ')}`,
      ).to.equal(true);
      for (const row of restored) expect(row, `${member.host}: restored data dir`).to.match(new RegExp(`^${dataOwner} `));
      expect(member.oldDataAt).to.equal(`/var/lib/etcd.before-restore-${report.runId}`);
      const aside = await ownersUnder(lab, member.host, member.oldDataAt!);
      expect(
        aside.some((row) => row.endsWith(' member/wal')),
        `${member.host}: old data kept`,
      ).to.equal(true);
      for (const row of aside) expect(row, `${member.host}: old data`).to.match(new RegExp(`^${dataOwner} `));
    }
  });

  it('restore --yes as the same user without ansible_become refuses in preflight, naming the host and the fix; nothing changes', async function () {
    this.timeout(25_000);
    await waitHealthy(lab);
    const before = await hostState(lab);
    const result = await orchestrate(['restore', withoutBecome, '--snapshot', snapshot, '--known-hosts', lab.knownHostsFile, '--yes'], 20_000);
    expect(result.code, tail(result)).to.equal(5);
    expect(result.stderr).to.contain('preflight failed');
    for (const host of lab.hosts) {
      expect(result.stderr, tail(result)).to.contain(`${host.name} (${host.address}): commands run as ${lab.deployUser} (uid `);
    }
    expect(result.stderr).to.contain('not root').and.to.contain('cannot write /var/lib').and.to.contain('set ansible_become: true');
    // One clear cause per host, not its consequences (certificates the user cannot read, and the like).
    expect(result.stderr.split('\n').filter((line) => line.startsWith('  - '))).to.have.length(lab.hosts.length);
    expect(await hostState(lab)).to.deep.equal(before);
  });

  it('restore --rollback without ansible_become refuses before it changes anything, naming each host; the data dirs and the journal stay', async function () {
    this.timeout(20_000);
    expect(journalFile, 'the restore test ran first').to.be.a('string');
    const journalBefore = await readFile(journalFile, 'utf8');
    const before = await parentListings(lab);
    const result = await orchestrate(['restore', '--rollback', withoutBecome, '--known-hosts', lab.knownHostsFile, '--yes'], 15_000);
    expect(result.code, tail(result)).to.equal(5);
    expect(result.stderr).to.contain('rollback refused').and.to.contain('nothing was changed');
    for (const host of lab.hosts) {
      expect(result.stderr, tail(result)).to.contain(`${host.name} (${host.address}): commands run as ${lab.deployUser} (uid `);
    }
    expect(result.stderr).to.contain('set ansible_become: true');
    expect(result.stderr.split('\n').filter((line) => line.startsWith('  - '))).to.have.length(lab.hosts.length);
    expect(await parentListings(lab)).to.deep.equal(before);
    expect(await readFile(journalFile, 'utf8')).to.equal(journalBefore);
  });

  it('restore --rollback with ansible_become then puts the old data back on every member', async function () {
    this.timeout(40_000);
    expect(keysBeforeRestore, 'the restore test ran first').to.be.instanceOf(Map);
    const result = await orchestrate(['restore', '--rollback', withBecome, '--known-hosts', lab.knownHostsFile, '--yes', '--json'], 35_000);
    expect(result.code, tail(result)).to.equal(0);
    const line = result.stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{"type":"report"'));
    const report = JSON.parse(line ?? '{}') as { status?: string; runId?: string; members?: { host: string; restoredDataAt?: string }[] };
    expect(report.status, tail(result)).to.equal('rolled-back');
    await waitHealthy(lab);
    expect(await keyValues(lab)).to.deep.equal(keysBeforeRestore);
    for (const member of report.members ?? []) expect(member.restoredDataAt).to.equal(`/var/lib/etcd.rolled-back-${report.runId}`);
    for (const listing of await parentListings(lab)) {
      expect(listing).to.contain(`etcd.rolled-back-${report.runId}`).and.not.to.contain(`etcd.before-restore-${report.runId}`);
    }
  });
});

/** `ls -1a` of the data dir's parent on every member, and how many times units were started or stopped there. */
async function parentListings(lab: LabInfo): Promise<string[]> {
  return Promise.all(
    lab.hosts.map(async (host) => {
      const listed = await sshToLabHost(lab, host.address, 'ls -1a /var/lib');
      if (listed.code !== 0) throw new Error(`${host.address}: ls /var/lib: ${listed.stderr}`);
      return `${host.address}: ${(await readSystemctlLog(lab, host.address)).length} systemctl events; ${listed.stdout.trim().split('\n').join(',')}`;
    }),
  );
}
