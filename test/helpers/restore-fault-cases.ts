// The cases of the restore fault matrix (see restore-faults.ts): each injects one fault into a real restore on
// the lab, runs what the operator would run next, checks the cluster and returns its row of the table.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreLockPath } from '../../src/etcd/restore/run-lock.js';
import { shellJoin } from '../../src/shell/quote.js';
import { repoRoot, type CliResult } from './cli.js';
import { runInHost } from '../../src/lab/index.js';
import { damage, keyValues, waitHealthy } from './lab-data.js';
import { restoreArgs } from './restore-operator.js';
import type { LabHostInfo } from './lab.js';
import {
  cutSshSessions,
  expectCompleted,
  expectDataDirs,
  expectRolledBack,
  fixBadFlag,
  injectBadFlag,
  orchestrate,
  readJournal,
  reportOf,
  tail,
  type FaultBench,
  type MatrixRow,
} from './restore-faults.js';

export type NextStep = 'rerun' | 'rollback';

/** The first line of a failure, for the table. */
const firstLine = (text: string | undefined): string =>
  (text ?? '')
    .split('\n')[0]!
    .replace(/\/[^\s:]*\/lab\//g, '<lab>/')
    .slice(0, 90);

/** The operator's next step after a run that left the restore unfinished, and the checks after it. */
async function follow(
  bench: FaultBench,
  next: NextStep,
  runId: string,
  keysBefore: Map<string, string>,
): Promise<{ result: CliResult; text: string }> {
  const { lab } = bench;
  if (next === 'rerun') {
    const resumed = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
    const report = reportOf(resumed);
    expect(resumed.code, `${report.failure ?? ''}\n${tail(resumed)}`).to.equal(0);
    expect(report.resumed, 're-run continues the journal').to.equal(true);
    expect(report.runId).to.equal(runId);
    await expectCompleted(bench, runId);
    return { result: resumed, text: 're-run resumed → completed, snapshot keys' };
  }
  const rollback = await orchestrate(['restore', lab.inventoryFile, '--rollback', '--yes', '--json']);
  const report = reportOf(rollback);
  expect(rollback.code, `${report.failure ?? ''}\n${tail(rollback)}`).to.equal(0);
  await expectRolledBack(bench, runId, keysBefore);
  return { result: rollback, text: '--rollback → old data back, pre-restore keys' };
}

/**
 * The deploy host's process dies (SIGKILL, no cleanup) right after the first host finished `phase`, then the
 * operator runs `next`. The dead run's lock is left behind and must be taken over.
 */
export async function killAtPhase(bench: FaultBench, phase: string, next: NextStep): Promise<MatrixRow> {
  const started = Date.now();
  const { lab } = bench;
  await damage(lab, `/registry/rogue/kill-${phase}-${next}`);
  const keysBefore = await keyValues(lab);
  let pid = 0;
  const killed = await orchestrate(restoreArgs(bench), { env: { ORCHESTRATE_FAILPOINT: `${phase}:*` }, started: (p) => (pid = p) });
  const row = { phase, fault: 'SIGKILL of the deploy host', next: next === 'rerun' ? 'same command' : '--rollback' };
  if (killed.signal !== 'SIGKILL') {
    // The phase ran on no host (e.g. no kube_node host): the restore simply finished.
    expect(killed.code, tail(killed)).to.equal(0);
    const { runId } = reportOf(killed);
    await expectCompleted(bench, runId);
    return { ...row, outcome: 'phase has no host here: restore completed', seconds: (Date.now() - started) / 1000 };
  }
  const lock = JSON.parse(await readFile(restoreLockPath(bench.journalFile), 'utf8')) as { pid: number };
  expect(lock.pid, 'the killed run left its lock').to.equal(pid);
  await expectDataDirs(lab);
  const journal = await readJournal(bench);
  expect(journal.status).to.equal('in-progress');
  const { result, text } = await follow(bench, next, journal.runId, keysBefore);
  expect(result.stdout + result.stderr)
    .to.contain(`took over the lock`)
    .and.to.contain(`pid ${pid} `);
  return { ...row, outcome: `stale lock taken over; ${text}`, seconds: (Date.now() - started) / 1000 };
}

/** etcd cannot start on one member (a bad flag in its unit): the restore rolls back on its own. */
export async function badFlagOnOneMember(bench: FaultBench): Promise<MatrixRow> {
  const started = Date.now();
  const { lab } = bench;
  const broken = lab.hosts[0]!;
  await damage(lab, '/registry/rogue/bad-flag');
  const keysBefore = await keyValues(lab);
  await injectBadFlag(lab, broken);
  let result: CliResult;
  try {
    result = await orchestrate(restoreArgs(bench, '--etcd-timeout', '20'));
  } finally {
    await fixBadFlag(lab, broken);
  }
  const report = reportOf(result);
  expect(result.code, tail(result)).to.equal(3);
  expect(report.failure).to.contain(broken.address);
  expect(report.rollback?.status, tail(result)).to.equal('rolled-back');
  await expectRolledBack(bench, report.runId, keysBefore);
  return {
    phase: 'start-etcd',
    fault: 'etcd fails to start on one member',
    next: '(automatic)',
    outcome: `exit 3, rolled back on its own; pre-restore keys once the unit is fixed`,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The CLI on a pseudo-terminal (as an operator at a prompt), via util-linux `script`; `onOutput` sees all of it. */
function onTerminal(args: string[], onOutput: (text: string, answer: (line: string) => void) => void, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    void (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'orchestrate-pty-'));
      const main = join(dir, 'main.mjs');
      const entry = join(repoRoot, 'src', 'cli', 'main.ts');
      await writeFile(main, `const { main } = await import(${JSON.stringify(entry)});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
      const loader = join(repoRoot, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
      const command = shellJoin([process.execPath, '--import', loader, main, ...args]);
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        cwd: repoRoot,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, TERM: 'dumb' },
      });
      let stdout = '';
      let stderr = '';
      const answer = (line: string): void => {
        child.stdin.write(`${line}\r`);
      };
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        onOutput(stdout, answer);
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        void rm(dir, { recursive: true, force: true }).then(() => resolve({ code, signal, stdout, stderr }));
      });
    })().catch(reject);
  });
}

/**
 * The snapshot file is replaced on the deploy host (say, by a cron backup) while the operator reads the
 * preview at the prompt; the operator then answers yes. The run must not restore the other file.
 */
export async function snapshotChangedAtPrompt(bench: FaultBench): Promise<MatrixRow> {
  const started = Date.now();
  const { lab } = bench;
  await damage(lab, '/registry/rogue/snapshot-changed');
  const keysBefore = await keyValues(lab);
  const other = await orchestrate(['backup', lab.inventoryFile, '--json'], { timeoutMs: 90_000 });
  expect(other.code, tail(other)).to.equal(0);
  const otherFile = (JSON.parse(other.stdout.trim().split('\n').at(-1)!) as { record: { file: string } }).record.file;
  const previousRun = (await readJournal(bench).catch(() => undefined))?.runId;
  const file = join(lab.dir, 'previewed-snapshot.db');
  await copyFile(bench.snapshot, file);
  let answered = false;
  let replaced: Promise<void> | undefined;
  const result = await onTerminal(['restore', lab.inventoryFile, '--snapshot', file], (text, answer) => {
    if (answered || !text.includes('Type "yes" to go on')) return;
    answered = true;
    replaced = copyFile(otherFile, file).then(() => answer('yes'));
  });
  await replaced;
  await rm(file, { force: true });
  expect(answered, tail(result)).to.equal(true);
  expect(result.code, tail(result)).to.not.equal(0);
  expect(result.stdout, 'the answer was taken').not.to.contain('not confirmed');
  const journal = await readJournal(bench);
  expect(journal.runId, 'the run started after the answer').not.to.equal(previousRun);
  // Caught by the check on the member (the upload's sha256 is not the previewed one), before anything stopped.
  expect(result.stdout).to.match(/copy-snapshot failed on \S+: .*failed verification: sha256/);
  expect(result.stdout).to.contain('old data in place (never moved)');
  await expectRolledBack(bench, journal.runId, keysBefore);
  return {
    phase: 'copy-snapshot',
    fault: 'snapshot replaced between preview and yes',
    next: '(none needed)',
    outcome: `exit ${result.code}: the upload failed its sha256 check on the member; aborted before any stop, cluster untouched`,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * The SSH connection to one member is cut (its sshd session processes killed) as `phase` starts; then the
 * operator re-runs (or rolls back, if the run says to) until the cluster is settled.
 */
export async function sshCutAtPhase(bench: FaultBench, phase: string): Promise<MatrixRow> {
  const started = Date.now();
  const { lab } = bench;
  const victim = lab.hosts[1]!;
  await damage(lab, `/registry/rogue/ssh-cut-${phase}`);
  const keysBefore = await keyValues(lab);
  let cut: Promise<number[]> | undefined;
  const faulted = await orchestrate(restoreArgs(bench, '--connect-timeout', '5'), {
    onEvent: (event) => {
      if (!cut && event.type === 'phase-start' && event.phase === phase) cut = cutSshSessions(victim);
    },
  });
  const killed = (await cut) ?? [];
  expect(killed.length, `sessions of ${victim.address} cut as ${phase} started`).to.be.above(0);
  const report = reportOf(faulted);
  const cause = /lost the SSH connection/.test(report.failure ?? '') ? 'lost the SSH connection' : firstLine(report.failure?.split(': ').at(-1));
  const automatic = report.rollback ? `; automatic rollback: ${report.rollback.status}` : '';
  const first = faulted.code === 0 ? 'completed anyway' : `exit ${faulted.code} (${cause})${automatic}`;
  let outcome: string;
  if (faulted.code === 0) {
    await expectCompleted(bench, report.runId);
    outcome = first;
  } else if (report.rollback?.status === 'rolled-back' || (report.status === 'aborted' && !report.rollback)) {
    await expectRolledBack(bench, report.runId, keysBefore);
    outcome = `${first}; rolled back`;
  } else {
    const next = (await readJournal(bench)).status === 'in-progress' ? 'rerun' : 'rollback';
    const { text } = await follow(bench, next, report.runId, keysBefore);
    outcome = `${first}; ${text}`;
  }
  return { phase, fault: `SSH to one member cut`, next: 'as the run says', outcome, seconds: (Date.now() - started) / 1000 };
}

/**
 * The data dir's parent (/var/lib) on `host` becomes a tmpfs of `sizeMiB` holding a copy of the etcd data; every
 * other entry of /var/lib is bind-mounted back. Returns the undo: the etcd* entries copied back, mounts removed.
 */
async function smallDisk(host: LabHostInfo, sizeMiB: number): Promise<() => Promise<void>> {
  const saved = '/run/fault-matrix-varlib';
  const setup = [
    'set -e',
    '/usr/bin/systemctl stop etcd',
    `mkdir -p ${saved} && mount --bind /var/lib ${saved}`,
    `mount -t tmpfs -o size=${sizeMiB}m,mode=755 fault-matrix-disk /var/lib`,
    `for d in ${saved}/*; do n=$(basename "$d"); case "$n" in etcd|etcd.*) continue ;; esac`,
    '  if [ -L "$d" ]; then cp -P "$d" "/var/lib/$n"; continue; fi',
    '  if [ -d "$d" ]; then mkdir "/var/lib/$n"; else : > "/var/lib/$n"; fi; mount --bind "$d" "/var/lib/$n"; done',
    `cp -a ${saved}/etcd /var/lib/etcd`,
    '/usr/bin/systemctl start etcd',
  ].join('\n');
  const done = await runInHost(host.pid, ['sh', '-c', setup], 60_000);
  const undo = async (): Promise<void> => {
    const script = [
      'set -e',
      '/usr/bin/systemctl stop etcd',
      `for d in /var/lib/etcd /var/lib/etcd.*; do [ -e "$d" ] || continue; rm -rf "${saved}/$(basename "$d")"; cp -a "$d" ${saved}/; done`,
      'umount -R /var/lib',
      `umount ${saved} && rmdir ${saved}`,
      '/usr/bin/systemctl start etcd',
    ].join('\n');
    const undone = await runInHost(host.pid, ['sh', '-c', script], 60_000);
    expect(undone.code, `${host.address}: undo small disk: ${undone.stderr}`).to.equal(0);
  };
  if (done.code !== 0) {
    await undo().catch(() => undefined);
    expect.fail(`${host.address}: small disk: ${done.stderr}`);
  }
  return undo;
}

/** Ahead of /usr/bin on root's PATH: fills the disk of the data dir's parent just as the member's restore starts. */
const fillingEtcdctl = [
  '#!/bin/sh',
  '# Test fixture of the fault matrix (test/helpers/restore-fault-cases.ts): the disk fills as the restore starts.',
  'case "$*" in',
  '  "snapshot restore "*) dd if=/dev/zero of=/var/lib/fault-matrix-fill bs=1M 2>/dev/null || true ;;',
  'esac',
  'exec /usr/bin/etcdctl "$@"',
  '',
].join('\n');

/**
 * One member's disk fills up just as it restores (its data dir's parent a small tmpfs, filled by a wrapper of
 * etcdctl): the run must fail before anything is stopped and leave every member on its old data.
 */
export async function diskFullOnOneMember(bench: FaultBench): Promise<MatrixRow> {
  const started = Date.now();
  const { lab } = bench;
  const victim = lab.hosts[2]!;
  await damage(lab, '/registry/rogue/disk-full');
  const keysBefore = await keyValues(lab);
  const undo = await smallDisk(victim, 256);
  let result: CliResult;
  try {
    await waitHealthy(lab);
    const put = await runInHost(
      victim.pid,
      ['sh', '-c', 'cat > /usr/local/sbin/etcdctl && chmod 755 /usr/local/sbin/etcdctl'],
      10_000,
      fillingEtcdctl,
    );
    expect(put.code, put.stderr).to.equal(0);
    try {
      result = await orchestrate(restoreArgs(bench));
    } finally {
      await runInHost(victim.pid, ['rm', '-f', '/usr/local/sbin/etcdctl', '/var/lib/fault-matrix-fill']);
    }
    const report = reportOf(result);
    expect(result.code, tail(result)).to.equal(3);
    expect(report.failure)
      .to.contain(`restore-data failed on ${victim.address}`)
      .and.to.match(/no space left/i);
    for (const member of report.members) expect(member.state, member.host).to.equal('old data in place (never moved)');
    await expectRolledBack(bench, report.runId, keysBefore);
  } finally {
    await undo();
  }
  await waitHealthy(lab);
  const again = await orchestrate(restoreArgs(bench));
  const report = reportOf(again);
  expect(again.code, tail(again)).to.equal(0);
  await expectCompleted(bench, report.runId);
  return {
    phase: 'restore-data',
    fault: 'disk full on one member',
    next: 'same command, once freed',
    outcome: 'exit 3 (no space left), aborted before any stop, old data in place; the re-run completed',
    seconds: (Date.now() - started) / 1000,
  };
}
