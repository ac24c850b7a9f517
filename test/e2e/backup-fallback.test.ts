// End to end on a lab of 3 real hosts (sshd + TLS etcd 3.4), net 127.0.113: `backup --method etcdctl`
// tries each healthy member in turn when etcdctl or the copy fails on one, and leaves no
// `orchestrate-snapshot-*` file on any member, whether it worked, failed everywhere or was interrupted; and
// moves on when a member's sshd does not answer at all (stopped, not killed: see freezeSshd in test/helpers/lab.ts).
// A member's etcdctl is replaced through that host's own copy-on-write view of / (the deploy host and the
// other members keep the real one). Needs root (the lab).
import { expect } from 'chai';
import { readFile, readdir, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { runBackup, type BackupOutcome } from '../../src/commands/backup.js';
import { runCliFromSource } from '../helpers/cli.js';
import { etcdctlSnapshotStatus } from '../helpers/etcd.js';
import { memberStatuses, waitHealthy } from '../helpers/lab-data.js';
import { freezeSshd, sshToLabHost, startLab, stopLab, tempLabDir, thawSshd, type LabHostInfo, type LabInfo } from '../helpers/lab.js';

const realEtcdctl = '/usr/bin/etcdctl';
const savedEtcdctl = '/usr/bin/etcdctl.orchestrate-test-real';
/** Where the stand-ins log each call, inside the host (read from its upper layer). */
const fakeLog = 'var/log/fake-etcdctl.log';

const slowSeconds = 4;

/** Stand-ins for a broken etcdctl. Each logs its umask and arguments, then misbehaves with the path it was given. */
const fakes = {
  /** Writes junk where it was told to and a `.part`, then fails (as a crashed or refused save would). */
  failsLeavingFiles: `printf partial > "$target.part"; printf junk > "$target"; echo 'Error: stand-in etcdctl: snapshot failed' >&2; exit 1`,
  /** Says it worked but only leaves `.part`: the copy back then fails. */
  succeedsWithoutFile: `printf partial > "$target.part"; exit 0`,
  /** Takes its time, then finishes as etcdctl does (rename `.part`): unless it is killed, a full copy appears late. */
  slow: `printf partial > "$target.part"; sleep ${slowSeconds}; mv "$target.part" "$target"; echo finished >> /${fakeLog}`,
} as const;

function fakeScript(behaviour: string): string {
  return `#!/bin/sh\nfor target; do :; done\necho "umask=$(umask) args=$*" >> /${fakeLog}\n${behaviour}\n`;
}

async function onHost(lab: LabInfo, host: LabHostInfo, command: string, input?: string): Promise<void> {
  const result = await sshToLabHost(lab, host.address, command, { timeoutMs: 20_000, ...(input !== undefined ? { input } : {}) });
  if (result.code !== 0) throw new Error(`${host.address}: ${command}: ${result.stderr}`);
}

async function replaceEtcdctl(lab: LabInfo, host: LabHostInfo, behaviour: string): Promise<void> {
  await onHost(
    lab,
    host,
    `[ -e ${savedEtcdctl} ] || cp -p ${realEtcdctl} ${savedEtcdctl}; cat > ${realEtcdctl} && chmod 755 ${realEtcdctl} && : > /${fakeLog}`,
    fakeScript(behaviour),
  );
}

async function restoreEtcdctl(lab: LabInfo, host: LabHostInfo): Promise<void> {
  await onHost(lab, host, `if [ -e ${savedEtcdctl} ]; then mv -f ${savedEtcdctl} ${realEtcdctl}; fi`);
}

async function fakeCalls(host: LabHostInfo): Promise<string[]> {
  const text = await readFile(join(host.upperDir, fakeLog), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

/** `orchestrate-snapshot-*` files on each host, beside its data dir (/var/lib) where the module writes them. */
async function leftovers(lab: LabInfo): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  for (const host of lab.hosts) {
    const names = await readdir(join(host.upperDir, 'var', 'lib')).catch(() => [] as string[]);
    found[host.address] = names.filter((name) => name.startsWith('orchestrate-snapshot-'));
  }
  return found;
}

const nothingLeft = (lab: LabInfo): Record<string, string[]> => Object.fromEntries(lab.hosts.map((h) => [h.address, []]));

async function leaderAddress(lab: LabInfo): Promise<string> {
  const leader = (await memberStatuses(lab)).find((row) => row.memberId === row.leader);
  if (!leader) throw new Error('the lab has no leader');
  return leader.address;
}

describe('backup --method etcdctl falls back across members and cleans up (e2e, 127.0.113)', function () {
  this.timeout(240_000);
  let lab: LabInfo;
  let labDir: string | undefined;
  let backupDir: string;
  /** sshd pids a test stopped, resumed in after() should it fail half-way. */
  const frozenSshd = new Set<number>();

  const backup = (extra: Partial<Parameters<typeof runBackup>[0]> = {}): Promise<BackupOutcome> =>
    runBackup({ inventoryFile: lab.inventoryFile, output: 'silent', method: 'etcdctl', knownHostsFile: lab.knownHostsFile, ...extra });

  /** Temporary names the deploy host may have left in the backup folder (a partial download, a transfer temp). */
  const localTemporaries = async (): Promise<string[]> =>
    (await readdir(backupDir).catch(() => [] as string[])).filter((name) => name.includes('.partial-') || name.includes('orchestrate-tmp'));

  before(async function () {
    this.timeout(120_000);
    labDir = tempLabDir();
    lab = await startLab({ dir: labDir, net: '127.0.113', members: 3 });
    await waitHealthy(lab);
    backupDir = join(labDir, 'backups');
  });

  afterEach(async function () {
    this.timeout(60_000);
    // Mocha runs afterEach only after a test, so only once before() has started the lab.
    for (const host of lab.hosts) await restoreEtcdctl(lab, host);
  });

  after(async function () {
    this.timeout(60_000);
    for (const pid of frozenSshd) process.kill(pid, 'SIGCONT');
    if (!labDir) return;
    await stopLab(labDir);
    // The lab keeps files it did not create (our backups, catalog): remove its temp folder.
    await rm(dirname(labDir), { recursive: true, force: true });
  });

  it("--dry-run prints what runs: the first member's save (umask 077, timeout), download and cleanup, and the fallback order; nothing runs", async () => {
    const result = await runCliFromSource(['backup', lab.inventoryFile, '--method', 'etcdctl', '--dry-run', '--known-hosts', lab.knownHostsFile], {
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stdout.split('\n').map((line) => line.trim());
    const described = lines.find((line) => line.includes('snapshot with etcdctl on'));
    expect(described, result.stdout).to.match(
      /^> create .*\/backups \(0700\) on the deploy host; snapshot with etcdctl on (etcd-127\.0\.113\.\d) \(if that fails: (etcd-127\.0\.113\.\d), then (etcd-127\.0\.113\.\d), the same way\) \[on the deploy host\]$/,
    );
    const order = /on (\S+) \(if that fails: (\S+), then (\S+),/.exec(described!)!.slice(1);
    expect([...order].sort()).to.deep.equal(lab.hosts.map((h) => h.name).sort());
    const first = lab.hosts.find((h) => h.name === order[0])!;
    const save = lines.find((line) => line.includes(' snapshot save '))!;
    expect(save).to.match(
      new RegExp(
        `^\\$ find /var/lib .* -mmin \\+1440 .*; umask 077 && env 'ETCDCTL_API=3' timeout --foreground -k 5 120 /usr/bin/etcdctl '--endpoints=https://${first.address.replaceAll('.', '\\.')}:2379' .* snapshot save (/var/lib/orchestrate-snapshot-[0-9a-f]{12}\\.db)$`,
      ),
    );
    const remote = / snapshot save (\S+)$/.exec(save)![1]!;
    expect(lines).to.include.members([`$ rm -f -- ${remote} ${remote}.part`]);
    expect(lines.some((line) => line.startsWith(`> download ${first.address}:${remote} -> `))).to.equal(true);
    // Only the first member's steps: the others run only if it fails.
    expect(lines.filter((line) => line.includes(' snapshot save '))).to.have.length(1);
    expect(await leftovers(lab)).to.deep.equal(nothingLeft(lab));
  });

  it('etcdctl fails on one follower and the copy fails on the other: the snapshot comes from the leader; no temporary file is left anywhere', async () => {
    const leader = await leaderAddress(lab);
    const followers = lab.hosts.filter((h) => h.address !== leader);
    await replaceEtcdctl(lab, followers[0]!, fakes.failsLeavingFiles);
    await replaceEtcdctl(lab, followers[1]!, fakes.succeedsWithoutFile);

    const outcome = await backup();
    expect(outcome.exitCode, JSON.stringify(outcome.record)).to.equal(0);
    expect(outcome.record).to.include({ result: 'ok', method: 'etcdctl', host: leader });
    // Healthy followers come first: both were tried, once each, and their etcdctl ran under umask 077.
    for (const follower of followers) {
      const calls = await fakeCalls(follower);
      expect(calls, follower.address).to.have.length(1);
      expect(calls[0]).to.match(/^umask=0077 args=.* snapshot save \/var\/lib\/orchestrate-snapshot-[0-9a-f]{12}\.db$/);
    }
    // What was taken is a good snapshot, by etcdctl's own account.
    const reference = await etcdctlSnapshotStatus(outcome.record!.file!);
    expect(outcome.record!.hash).to.equal(reference.hash);
    expect(outcome.record!.revision).to.equal(reference.revision);
    expect(await leftovers(lab)).to.deep.equal(nothingLeft(lab));
    expect(await localTemporaries()).to.deep.equal([]);
  });

  it('etcdctl fails on every member: exit 3, one error naming each member and its cause, nothing left on any member', async () => {
    for (const host of lab.hosts) await replaceEtcdctl(lab, host, fakes.failsLeavingFiles);
    const outcome = await backup();
    expect(outcome.exitCode).to.equal(3);
    expect(outcome.record!.result).to.equal('failed');
    const error = outcome.record!.error!;
    expect(error).to.match(/^no member gave a snapshot with etcdctl: /);
    for (const host of lab.hosts) {
      expect(error).to.contain(
        `${host.name}: etcdctl snapshot save on ${host.address} failed: non-zero return code: Error: stand-in etcdctl: snapshot failed`,
      );
      expect(await fakeCalls(host), host.address).to.have.length(1);
    }
    expect(await leftovers(lab)).to.deep.equal(nothingLeft(lab));
    expect(await localTemporaries()).to.deep.equal([]);
  });

  const connectTimeoutMs = 4_000;

  it("the first candidate's sshd does not answer: after the connect timeout the next member gives the snapshot; nothing is left anywhere", async () => {
    // Healthy followers come first, in inventory order (chooseSnapshotOrder): the first of them is the first candidate.
    const leader = await leaderAddress(lab);
    const first = lab.hosts.find((h) => h.address !== leader)!;
    await freezeSshd(first, frozenSshd);
    try {
      const started = performance.now();
      const outcome = await backup({ connectTimeoutMs });
      const elapsedMs = performance.now() - started;
      expect(outcome.exitCode, JSON.stringify(outcome.record)).to.equal(0);
      expect(outcome.record).to.include({ result: 'ok', method: 'etcdctl' });
      expect(outcome.record!.host).to.be.oneOf(lab.hosts.filter((h) => h !== first).map((h) => h.address));
      // It waited for the stopped member once (so it did try it first), then moved on at once.
      expect(elapsedMs)
        .to.be.at.least(connectTimeoutMs - 500)
        .and.below(connectTimeoutMs + 5_000);
      const reference = await etcdctlSnapshotStatus(outcome.record!.file!);
      expect(outcome.record!.hash).to.equal(reference.hash);
      expect(await leftovers(lab)).to.deep.equal(nothingLeft(lab));
      expect(await localTemporaries()).to.deep.equal([]);
    } finally {
      thawSshd(first, frozenSshd);
    }
    const back = await sshToLabHost(lab, first.address, 'echo back', { timeoutMs: 20_000 });
    expect(back.stdout.trim()).to.equal('back');
  });

  it("--method client (the default) opens no SSH connection: with every member's sshd stopped it succeeds, well within the connect timeout", async () => {
    for (const host of lab.hosts) await freezeSshd(host, frozenSshd);
    try {
      const started = performance.now();
      const outcome = await runBackup({ inventoryFile: lab.inventoryFile, output: 'silent', knownHostsFile: lab.knownHostsFile, connectTimeoutMs });
      expect(outcome.exitCode, JSON.stringify(outcome.record)).to.equal(0);
      expect(outcome.record).to.include({ result: 'ok', method: 'client' });
      expect(performance.now() - started).to.be.below(connectTimeoutMs);
    } finally {
      for (const host of lab.hosts) thawSshd(host, frozenSshd);
    }
  });

  it('interrupted while etcdctl runs on a member: exit 130, etcdctl is stopped, its copy removed, no other member tried', async () => {
    for (const host of lab.hosts) await replaceEtcdctl(lab, host, fakes.slow);
    const controller = new AbortController();
    const running = backup({ signal: controller.signal });
    // Interrupt once a stand-in is running (bounded wait).
    let started: LabHostInfo | undefined;
    for (let i = 0; i < 200 && !started; i++) {
      for (const host of lab.hosts) if ((await fakeCalls(host)).length > 0) started = host;
      if (!started) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    controller.abort();
    const outcome = await running;
    expect(started, 'no member started etcdctl within 20 s').to.not.equal(undefined);
    expect(outcome.exitCode).to.equal(130);
    expect(outcome.ok).to.equal(false);
    for (const host of lab.hosts.filter((h) => h !== started)) expect(await fakeCalls(host), host.address).to.deep.equal([]);
    // Had etcdctl outlived the interrupt, it would finish now and leave a full copy after the cleanup.
    await new Promise((resolve) => setTimeout(resolve, (slowSeconds + 1) * 1000));
    expect(await fakeCalls(started!)).to.have.length(1);
    expect(await leftovers(lab)).to.deep.equal(nothingLeft(lab));
    expect(await localTemporaries()).to.deep.equal([]);
  });
});
