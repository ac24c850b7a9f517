// End-to-end: a restore interrupted in the middle never loses data and converges. One 3-member lab
// (127.0.115.x: sshd + TLS etcd 3.4, kubeasz-style units) for the whole file. Needs root.
//
// Each interruption lands at a chosen moment without guessing timing: either on a `--json` progress event,
// or while a "gate" holds one command on the members. A gate is a test fixture put in /usr/local/sbin
// (ahead of /usr/bin on root's PATH): it records its pid, waits until the test releases it, then runs the
// real /usr/bin program. The test signals the CLI while the command is held.
import { expect } from 'chai';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hostSystemctl, runInHost } from '../../src/lab/index.js';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { damage, keyValues, memberStatuses, putKey, waitHealthy } from '../helpers/lab-data.js';
import { freezeSshd, sshToLabHost, startLab, stopLab, tempLabDir, thawSshd, type LabHostInfo, type LabInfo } from '../helpers/lab.js';

const NET = '127.0.115';
const GATE_DIR = '/var/tmp/orchestrate-test-gate';

type CliEvent = { type: string; phase?: string; hosts?: string[] } & Record<string, unknown>;

interface RestoreReport {
  status: string;
  runId: string;
  resumed: boolean;
  exitCode: number;
  failure?: string;
  journal: string;
  members: { host: string; oldDataAt?: string; state?: string }[];
  verdict?: { ok: boolean };
  rollback?: { status: string; problems: string[] };
}

interface Journal {
  runId: string;
  status: string;
  begun: string[];
  done: Record<string, string[]>;
}

/** The end of a run's output, for assertion messages. */
function tail(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout (end)\n${result.stdout.slice(-3000)}\n--- stderr (end)\n${result.stderr.slice(-3000)}`;
}

/**
 * The CLI from source, no terminal (as cron or CI), its `--json` events handed to `onEvent` as they arrive
 * together with its pid; `started` gets the pid at once. Killed after `timeoutMs` (below each test's own).
 */
function orchestrate(
  args: string[],
  options: { timeoutMs?: number; onEvent?: (event: CliEvent, pid: number) => void; started?: (pid: number) => void } = {},
): Promise<CliResult> {
  return runCliFromSource(args, {
    env: { CI: '1' },
    timeoutMs: options.timeoutMs ?? 75_000,
    onSpawn: (child) => {
      const pid = child.pid!;
      options.started?.(pid);
      let pending = '';
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('{')) continue;
          options.onEvent?.(JSON.parse(line) as CliEvent, pid);
        }
      });
    },
  });
}

function reportOf(result: CliResult): RestoreReport {
  const line = result.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"type":"report"'));
  if (!line) throw new Error(`no JSON report: ${tail(result)}`);
  return JSON.parse(line) as RestoreReport;
}

function phaseStart(result: CliResult, phase: string): CliEvent | undefined {
  return result.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"type":"phase-start"'))
    .map((l) => JSON.parse(l) as CliEvent)
    .find((e) => e.phase === phase);
}

/** Polls `probe` every 50 ms (bounded) until it gives a value; fails at once, with its output, if the CLI ended first. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, cli?: { ended?: CliResult }, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (cli?.ended) throw new Error(`the CLI ended before ${what}: ${tail(cli.ended)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A run whose end is recorded for `until` (so a wait never outlives the CLI it waits on). */
function tracked(run: Promise<CliResult>): { cli: { ended?: CliResult }; result: Promise<CliResult> } {
  const cli: { ended?: CliResult } = {};
  return { cli, result: run.then((r) => (cli.ended = r)) };
}

function gateScript(program: string, pattern: string): string {
  return [
    '#!/bin/sh',
    '# Test fixture of test/e2e/restore-interrupted.test.ts: hold this call until the test releases it.',
    'case "$*" in',
    `  ${pattern})`,
    `    mkdir -p ${GATE_DIR} && echo $$ > ${GATE_DIR}/held`,
    '    i=0',
    `    until [ -e ${GATE_DIR}/release ]; do`,
    "      i=$((i+1)); if [ $i -gt 1200 ]; then echo 'test gate never released' >&2; exit 99; fi",
    '      sleep 0.05',
    '    done ;;',
    'esac',
    `exec /usr/bin/${program} "$@"`,
    '',
  ].join('\n');
}

async function installGate(lab: LabInfo, host: LabHostInfo, program: 'etcdctl' | 'systemctl', pattern: string): Promise<void> {
  const put = await sshToLabHost(
    lab,
    host.address,
    `rm -rf ${GATE_DIR} && cat > /usr/local/sbin/${program} && chmod 755 /usr/local/sbin/${program}`,
    { input: gateScript(program, pattern) },
  );
  expect(put.code, `${host.address}: ${put.stderr}`).to.equal(0);
  const resolved = await sshToLabHost(lab, host.address, `command -v ${program}`);
  expect(resolved.stdout.trim(), `${host.address}: the gate comes first on root's PATH`).to.equal(`/usr/local/sbin/${program}`);
}

/** Through nsenter, so it works while the host's sshd is stopped. */
async function removeGate(host: LabHostInfo, program: 'etcdctl' | 'systemctl'): Promise<void> {
  await runInHost(host.pid, ['rm', '-rf', `/usr/local/sbin/${program}`, GATE_DIR]);
}

async function releaseGate(host: LabHostInfo): Promise<void> {
  const done = await runInHost(host.pid, ['touch', `${GATE_DIR}/release`]);
  expect(done.code, `${host.address}: ${done.stderr}`).to.equal(0);
}

/** The pid of the call a gate holds on `host`, once it holds one (read from the host's upper layer). */
async function heldPid(host: LabHostInfo): Promise<number | undefined> {
  const text = await readFile(join(host.upperDir, GATE_DIR, 'held'), 'utf8').catch(() => '');
  return /^\d+\n$/.test(text) ? Number(text) : undefined;
}

const alive = (pid: number): Promise<boolean> =>
  stat(`/proc/${pid}`).then(
    () => true,
    () => false,
  );

/** `ls` of the data dir's parent on a member, the etcd* entries (nsenter when its sshd is down). */
async function dataParent(lab: LabInfo, host: LabHostInfo, via: 'ssh' | 'nsenter' = 'ssh'): Promise<string[]> {
  const listing = via === 'ssh' ? await sshToLabHost(lab, host.address, 'ls -1 /var/lib') : await runInHost(host.pid, ['ls', '-1', '/var/lib']);
  expect(listing.code, `${host.address}: ${listing.stderr}`).to.equal(0);
  return listing.stdout.split('\n').filter((name) => name.startsWith('etcd'));
}

/** The WAL segments of a data dir (not the `N.tmp` a running etcd preallocates and removes when it stops). */
async function walFiles(lab: LabInfo, host: LabHostInfo, dir: string): Promise<string[]> {
  const listing = await sshToLabHost(lab, host.address, `ls -1 ${dir}/member/wal`);
  expect(listing.code, `${host.address}: ${listing.stderr}`).to.equal(0);
  return listing.stdout
    .trim()
    .split('\n')
    .filter((name) => name.endsWith('.wal'));
}

async function etcdActive(host: LabHostInfo): Promise<boolean> {
  return (await hostSystemctl(host.pid, ['is-active', '--quiet', 'etcd'])).code === 0;
}

describe(`restore interrupted in the middle, on a 3-member lab (${NET}.x)`, function () {
  this.timeout(60_000);
  let lab: LabInfo | undefined;
  let snapshot: string;
  let snapshotKeys: Map<string, string>;
  let memberIds: Map<string, string>;
  /** sshd holders this file stopped (SIGSTOP), resumed in after() should a test fail half-way. */
  const stoppedSshd = new Set<number>();
  const theLab = (): LabInfo => lab!;
  const journalFile = (): string => join(theLab().dir, '.orchestrate', 'restore-journal', 'etcd-cluster-0.json');
  const journal = async (): Promise<Journal> => JSON.parse(await readFile(journalFile(), 'utf8')) as Journal;

  /** Healthy again: every member answers, one leader, one cluster, each member its own id from before. */
  async function expectHealthyCluster(): Promise<void> {
    const lab = theLab();
    await waitHealthy(lab);
    const statuses = await memberStatuses(lab);
    expect(new Set(statuses.map((s) => s.leader)).size, 'every member names the same leader').to.equal(1);
    expect(
      statuses.filter((s) => s.leader === s.memberId),
      'exactly one leader',
    ).to.have.length(1);
    expect(new Set(statuses.map((s) => s.clusterId)).size).to.equal(1);
    for (const s of statuses) expect(s.memberId, `${s.address} keeps its own identity`).to.equal(memberIds.get(s.address));
  }

  /** What an operator checks after a run that must have changed no data: etcd running everywhere on its current data. */
  async function expectUntouched(keysBefore: Map<string, string>, runId: string): Promise<void> {
    const lab = theLab();
    for (const host of lab.hosts) expect(await etcdActive(host), `etcd still runs on ${host.address}`).to.equal(true);
    await expectHealthyCluster();
    expect(await keyValues(lab)).to.deep.equal(keysBefore);
    for (const host of lab.hosts) {
      const entries = await dataParent(lab, host);
      expect(entries, host.address).to.include('etcd');
      expect(entries, `${host.address}: the old data was never moved`).not.to.include(`etcd.before-restore-${runId}`);
      // Whatever scratch is left belongs to this run: the resumed run reuses (or replaces) it.
      for (const name of entries.filter((n) => n.includes('.restore-')))
        expect(name, host.address).to.match(new RegExp(`^etcd\\.restore-${runId}(\\.snapshot\\.db)?$`));
    }
  }

  /** The run that finishes the job: the snapshot's keys, a healthy cluster, old data aside, no scratch left. */
  async function expectConverged(result: CliResult, resumedRun?: string): Promise<RestoreReport> {
    const lab = theLab();
    const report = reportOf(result);
    expect(result.code, `${report.failure ?? ''}\n${tail(result)}`).to.equal(0);
    expect(report.status).to.equal('completed');
    expect(report.resumed).to.equal(resumedRun !== undefined);
    if (resumedRun) expect(report.runId).to.equal(resumedRun);
    const { runId } = report;
    expect(report.verdict?.ok).to.equal(true);
    expect(await keyValues(lab)).to.deep.equal(snapshotKeys);
    await expectHealthyCluster();
    for (const host of lab.hosts) {
      const entries = await dataParent(lab, host);
      expect(entries, host.address).to.include.members(['etcd', `etcd.before-restore-${runId}`]);
      expect(
        entries.filter((n) => n.includes('.restore-')),
        `${host.address}: no scratch left`,
      ).to.deep.equal([]);
      expect(await walFiles(lab, host, `/var/lib/etcd.before-restore-${runId}`), `${host.address}: old data kept`).not.to.have.lengthOf(0);
    }
    expect((await journal()).status).to.equal('completed');
    return report;
  }

  before(async function () {
    this.timeout(120_000);
    lab = await startLab({ dir: tempLabDir(), net: NET, members: 3 });
    await waitHealthy(lab);
    memberIds = new Map((await memberStatuses(lab)).map((s) => [s.address, s.memberId]));
    await putKey(lab, '/registry/configmaps/default/interrupted-marker', 'in the snapshot');
    const backup = await orchestrate(['backup', lab.inventoryFile, '--json'], { timeoutMs: 60_000 });
    expect(backup.code, `backup: ${tail(backup)}`).to.equal(0);
    snapshot = (JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as { record: { file: string } }).record.file;
    snapshotKeys = await keyValues(lab);
  });

  after(async function () {
    this.timeout(60_000);
    for (const pid of stoppedSshd) process.kill(pid, 'SIGCONT');
    if (!lab) return;
    await stopLab(lab.dir);
    // The lab keeps backups and .orchestrate (journal, catalog) on purpose; they were only for this file.
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  it('Ctrl-C as the snapshot copy starts: exit 130, etcd untouched on every member; the next run finishes the restore', async () => {
    const lab = theLab();
    await damage(lab, '/registry/rogue/ctrl-c-during-copy');
    const keysBefore = await keyValues(lab);
    // A safety net, not the trigger: should this (loaded) test process see the event late, the restores wait
    // at the gate, so the signal still lands before anything is stopped.
    for (const host of lab.hosts) await installGate(lab, host, 'etcdctl', '"snapshot restore "*');
    let signalled = false;
    let interrupted: CliResult;
    try {
      interrupted = await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json'], {
        onEvent: (event, pid) => {
          if (!signalled && event.type === 'phase-start' && event.phase === 'copy-snapshot') {
            signalled = true;
            process.kill(pid, 'SIGINT');
          }
        },
      });
    } finally {
      for (const host of lab.hosts) await removeGate(host, 'etcdctl');
    }
    expect(signalled, tail(interrupted)).to.equal(true);
    expect(interrupted.code, tail(interrupted)).to.equal(130);
    expect(interrupted.stderr).to.contain('interrupted: finishing the commands in flight');
    expect(interrupted.stderr).not.to.match(/\n\s+at /);
    const report = reportOf(interrupted);
    expect(report.failure)
      .to.match(/^interrupted ((during|after) copy-snapshot|during restore-data); /)
      .and.to.contain(journalFile())
      .and.to.contain('run the same command again');
    expect(report.failure).not.to.contain('stays stopped');
    for (const member of report.members) expect(member.state, member.host).to.equal('old data in place (never moved)');
    const recorded = await journal();
    expect(recorded.status).to.equal('in-progress');
    expect(
      recorded.begun.filter((p) => p.startsWith('stop-') || p === 'swap-data'),
      'nothing was stopped',
    ).to.deep.equal([]);
    await expectUntouched(keysBefore, report.runId);

    const resumed = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
    await expectConverged(resumed, report.runId);
  });

  it('Ctrl-C while every member restores its new dir: the remote restores are killed, etcd untouched; the next run finishes', async () => {
    const lab = theLab();
    await damage(lab, '/registry/rogue/ctrl-c-during-restore-data');
    const keysBefore = await keyValues(lab);
    for (const host of lab.hosts) await installGate(lab, host, 'etcdctl', '"snapshot restore "*');
    let held: number[] = [];
    try {
      let cliPid = 0;
      const run = tracked(
        orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json'], { started: (pid) => (cliPid = pid) }),
      );
      held = await until(
        'every member to be restoring',
        async () => {
          const pids = await Promise.all(lab.hosts.map(heldPid));
          return pids.every((p) => p !== undefined) ? pids : undefined;
        },
        run.cli,
      );
      process.kill(cliPid, 'SIGINT');
      const interrupted = await run.result;
      expect(interrupted.code, tail(interrupted)).to.equal(130);
      const report = reportOf(interrupted);
      expect(report.failure).to.contain('interrupted during restore-data').and.to.contain('run the same command again');
      expect(interrupted.stderr).not.to.match(/\n\s+at /);
      // Ctrl-C cancels the commands of the phases that change nothing the cluster uses: nothing is left running.
      for (const pid of held) await until(`the held restore ${pid} to end`, async () => ((await alive(pid)) ? undefined : true), undefined, 5_000);
      const recorded = await journal();
      expect(recorded.status).to.equal('in-progress');
      for (const host of lab.hosts) {
        expect(recorded.done[host.address], host.address).to.include('copy-snapshot').and.not.to.include('restore-data');
      }
      expect(
        recorded.begun.filter((p) => p.startsWith('stop-') || p === 'swap-data'),
        'nothing was stopped',
      ).to.deep.equal([]);
      for (const host of lab.hosts) await removeGate(host, 'etcdctl');
      await expectUntouched(keysBefore, report.runId);

      const resumed = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
      expect(phaseStart(resumed, 'copy-snapshot')?.hosts, 'the copies of the interrupted run are reused').to.deep.equal([]);
      await expectConverged(resumed, report.runId);
    } finally {
      for (const host of lab.hosts) await removeGate(host, 'etcdctl');
      for (const pid of held) if (await alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('Ctrl-C after etcd was stopped on every member, before the swap: exit 130, old data intact in place; the next run finishes', async () => {
    const lab = theLab();
    await damage(lab, '/registry/rogue/ctrl-c-before-swap');
    const walBefore = new Map(await Promise.all(lab.hosts.map(async (h) => [h.address, await walFiles(lab, h, '/var/lib/etcd')] as const)));
    for (const host of lab.hosts) await installGate(lab, host, 'systemctl', '"stop etcd"');
    try {
      let cliPid = 0;
      const run = tracked(
        orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json'], { started: (pid) => (cliPid = pid) }),
      );
      // etcd stops in waves (followers, then the leader): release each stop as it comes, and press Ctrl-C while
      // the last one is held, so every member is stopped and the swap is next.
      const released = new Set<LabHostInfo>();
      while (released.size < lab.hosts.length) {
        const holding = await until(
          'the next etcd stop',
          async () => {
            const found = [];
            for (const host of lab.hosts) if (!released.has(host) && (await heldPid(host)) !== undefined) found.push(host);
            return found.length ? found : undefined;
          },
          run.cli,
        );
        for (const host of holding) {
          if (released.size === lab.hosts.length - 1) process.kill(cliPid, 'SIGINT');
          await releaseGate(host);
          released.add(host);
        }
      }
      const interrupted = await run.result;
      expect(interrupted.code, tail(interrupted)).to.equal(130);
      const report = reportOf(interrupted);
      expect(report.failure)
        .to.match(/^interrupted after stop-etcd; /)
        .and.to.contain('run the same command again')
        .and.to.contain('--rollback');
      expect(report.failure).to.contain('until then etcd stays stopped (the cluster and the Kubernetes API are down)');
      expect(interrupted.stderr).not.to.match(/\n\s+at /);
      for (const member of report.members) expect(member.state, member.host).to.equal('old data in place (never moved)');
      const recorded = await journal();
      expect(recorded.status).to.equal('in-progress');
      expect(recorded.begun).to.include('stop-etcd').and.not.to.include('swap-data');
      for (const host of lab.hosts) expect(recorded.done[host.address], host.address).to.include('stop-etcd');

      // By design (README "Restore"): Ctrl-C does not roll back on its own; etcd stays stopped until the
      // operator runs the command again (or --rollback). The old data is in place, untouched.
      for (const host of lab.hosts) {
        await removeGate(host, 'systemctl');
        expect(await etcdActive(host), `etcd stays stopped on ${host.address}`).to.equal(false);
        const entries = await dataParent(lab, host);
        expect(entries, host.address).to.include.members(['etcd', `etcd.restore-${report.runId}`]);
        expect(entries, host.address).not.to.include(`etcd.before-restore-${report.runId}`);
        expect(await walFiles(lab, host, '/var/lib/etcd'), `${host.address}: old data untouched`).to.deep.equal(walBefore.get(host.address));
      }

      const resumed = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
      await expectConverged(resumed, report.runId);
      for (const host of lab.hosts) {
        expect(
          await walFiles(lab, host, `/var/lib/etcd.before-restore-${report.runId}`),
          `${host.address}: the old data moved aside whole`,
        ).to.deep.equal(walBefore.get(host.address));
      }
    } finally {
      for (const host of lab.hosts) {
        await releaseGate(host).catch(() => undefined);
        await removeGate(host, 'systemctl');
      }
    }
  });

  it('a member lost while the members restore: the run fails naming it, the others keep their data; once it is back, a rerun converges', async () => {
    const lab = theLab();
    await damage(lab, '/registry/rogue/member-lost');
    const keysBefore = await keyValues(lab);
    const victim = lab.hosts[1]!;
    await installGate(lab, victim, 'etcdctl', '"snapshot restore "*');
    let held: number | undefined;
    let failedRun = '';
    try {
      const run = tracked(orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json', '--connect-timeout', '3']));
      held = await until(`${victim.address} to be restoring`, () => heldPid(victim), run.cli);
      // The member's sshd dies: stop the listener (also the holder of the host's mount namespace, which must
      // live) so no new session starts, and kill the sessions it serves, by pid.
      const killed = await freezeSshd(victim, stoppedSshd);
      expect(killed, 'the sessions of the running restore').not.to.have.lengthOf(0);

      const failed = await run.result;
      const report = reportOf(failed);
      expect(failed.stderr).not.to.match(/\n\s+at /);
      expect(failed.code, tail(failed)).to.equal(3);
      failedRun = report.runId;
      expect(report.failure).to.contain(`restore-data failed on ${victim.address}`).and.to.contain('lost the SSH connection');
      // Its scratch could not be removed on the lost member: the rollback says so, and no data dir was moved.
      expect(report.rollback?.status).to.equal('rollback-failed');
      expect(report.rollback?.problems.join('\n')).to.contain(`revert-data on ${victim.address}`);
      for (const member of report.members) expect(member.state, member.host).to.equal('old data in place (never moved)');
      // The others never stopped and still serve the data of before, with the lost member's etcd (never stopped either).
      for (const host of lab.hosts) expect(await etcdActive(host), `etcd still runs on ${host.address}`).to.equal(true);
      await expectHealthyCluster();
      expect(await keyValues(lab)).to.deep.equal(keysBefore);
      for (const host of lab.hosts) {
        const entries = await dataParent(lab, host, host === victim ? 'nsenter' : 'ssh');
        expect(entries, host.address).to.include('etcd');
        expect(
          entries.filter((n) => n.startsWith('etcd.before-restore-') && n.endsWith(report.runId)),
          host.address,
        ).to.deep.equal([]);
        const scratch = entries.filter((n) => n.includes(`.restore-${report.runId}`));
        if (host === victim)
          expect(scratch, `${host.address}: its snapshot copy is still there`).to.include(`etcd.restore-${report.runId}.snapshot.db`);
        else expect(scratch, `${host.address}: scratch dropped`).to.deep.equal([]);
      }
    } finally {
      if (held !== undefined && (await alive(held))) process.kill(held, 'SIGKILL');
      await removeGate(victim, 'etcdctl');
      thawSshd(victim, stoppedSshd);
    }
    const back = await sshToLabHost(lab, victim.address, 'echo back');
    expect(back.stdout.trim()).to.equal('back');

    // By design a failed rollback must be finished before another restore: the rerun refuses and says how.
    const refused = await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes']);
    expect(refused.code, tail(refused)).to.equal(5);
    expect(refused.stderr)
      .to.contain(`the restore ${failedRun} of this cluster was being rolled back and did not finish`)
      .and.to.contain('orchestrate restore --rollback INVENTORY');
    const rollback = await orchestrate(['restore', lab.inventoryFile, '--rollback', '--yes', '--json']);
    const undone = reportOf(rollback);
    expect(rollback.code, `${undone.failure ?? ''}\n${tail(rollback)}`).to.equal(0);
    expect(undone.status).to.equal('aborted');
    expect(rollback.stdout).to.contain(`${victim.name} (${victim.address}): /var/lib/etcd was never moved (it stays)`);
    expect(
      (await dataParent(lab, victim)).filter((n) => n.includes(`.restore-${failedRun}`)),
      'the scratch on the lost member is gone',
    ).to.deep.equal([]);
    expect(await keyValues(lab)).to.deep.equal(keysBefore);

    await expectConverged(await orchestrate(['restore', lab.inventoryFile, '--snapshot', snapshot, '--yes', '--json']));
  });
});
