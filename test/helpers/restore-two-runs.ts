// Fault matrix row: two `orchestrate restore` runs at once against the same cluster. The first is frozen
// (SIGSTOP) as it starts copying, so it holds the run lock for as long as the checks need; the second, and a
// backup, refuse at once naming the holder; SIGTERM then releases the lock and the re-run finishes.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { restoreLockPath } from '../../src/etcd/restore/run-lock.js';
import type { CliResult } from './cli.js';
import { damage, keyValues } from './lab-data.js';
import { restoreArgs } from './restore-operator.js';
import { expectCompleted, orchestrate, readJournal, reportOf, tail, type FaultBench, type MatrixRow } from './restore-faults.js';

export async function twoRunsAtOnce(bench: FaultBench): Promise<MatrixRow> {
  const started = Date.now();
  const { lab, journalFile } = bench;
  await damage(lab, '/registry/rogue/two-restores');
  const keysBefore = await keyValues(lab);
  const lockFile = restoreLockPath(journalFile);
  let holder = 0;
  let stopped: (() => void) | undefined;
  const held = new Promise<void>((resolve) => (stopped = resolve));
  const first = orchestrate(restoreArgs(bench), {
    onEvent: (event, pid) => {
      if (holder === 0 && event.type === 'phase-start' && event.phase === 'copy-snapshot') {
        holder = pid;
        process.kill(pid, 'SIGSTOP');
        stopped?.();
      }
    },
  });
  let firstResult: CliResult;
  try {
    await Promise.race([held, first.then((r) => Promise.reject(new Error(`the first run ended early: ${tail(r)}`)))]);
    const { runId } = await readJournal(bench);
    const second = await orchestrate(['restore', lab.inventoryFile, '--snapshot', bench.snapshot, '--yes']);
    expect(second.code, tail(second)).to.equal(5);
    expect(second.stderr)
      .to.contain(
        `another orchestrate restore of etcd cluster "etcd-cluster-0" is running: pid ${holder} (user root) on ${hostname()}, run ${runId}, started `,
      )
      .and.to.contain('nothing was changed')
      .and.to.contain(`kill ${holder}`)
      .and.to.contain(lockFile);
    expect(second.stderr).not.to.match(/\n\s+at /);
    const backup = await orchestrate(['backup', lab.inventoryFile]);
    expect(backup.code, tail(backup)).to.equal(5);
    expect(backup.stderr).to.contain(`another orchestrate restore of etcd cluster "etcd-cluster-0" is running: pid ${holder} `);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).to.include({ pid: holder, runId, kind: 'restore' });
  } finally {
    // SIGTERM waits while it is stopped; it is handled as Ctrl-C once the run continues.
    if (holder) process.kill(holder, 'SIGTERM');
    if (holder) process.kill(holder, 'SIGCONT');
    firstResult = await first;
  }
  expect(firstResult.code, tail(firstResult)).to.equal(130);
  expect(reportOf(firstResult).failure).to.contain('run the same command again');
  expect(existsSync(lockFile), 'SIGTERM released the lock').to.equal(false);
  expect(await keyValues(lab), 'nothing restored yet').to.deep.equal(keysBefore);

  const resumed = await orchestrate(['restore', lab.inventoryFile, '--yes', '--json']);
  const report = reportOf(resumed);
  expect(resumed.code, tail(resumed)).to.equal(0);
  expect(report.resumed).to.equal(true);
  expect(resumed.stdout + resumed.stderr, 'the lock was released, not taken over').not.to.contain('took over the lock');
  await expectCompleted(bench, report.runId);
  return {
    phase: 'copy-snapshot',
    fault: 'a second restore (and a backup) meanwhile',
    next: 'SIGTERM the first, same command',
    outcome: 'the second run and the backup refused at once (exit 5) naming the holder; re-run resumed → completed',
    seconds: (Date.now() - started) / 1000,
  };
}
