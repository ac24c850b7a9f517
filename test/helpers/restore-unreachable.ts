// Fault matrix rows: one member unreachable for 30 s (packets dropped, processes frozen; see
// member-unreachable.ts) from the moment a restore phase starts, then back. Once it is back the operator
// runs what the run says, and the four checks follow.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { restoreLockPath } from '../../src/etcd/restore/run-lock.js';
import type { CliResult } from './cli.js';
import { damage, keyValues } from './lab-data.js';
import { makeUnreachable, type Unreachable } from './member-unreachable.js';
import { failureOf, firstWords, restoreArgs, settleAsTheRunSays } from './restore-operator.js';
import {
  dataParent,
  expectCluster,
  expectCompleted,
  expectDataDirs,
  expectRolledBack,
  orchestrate,
  readJournal,
  reportOf,
  tail,
  type FaultBench,
  type MatrixRow,
} from './restore-faults.js';

export const UNREACHABLE_SECONDS = 30;

export async function unreachableAtPhase(bench: FaultBench, phase: string): Promise<MatrixRow> {
  const started = Date.now();
  const { lab } = bench;
  const victim = lab.hosts[1]!;
  await damage(lab, `/registry/rogue/unreachable-${phase}`);
  const keysBefore = await keyValues(lab);
  const before = (await readJournal(bench).catch(() => undefined))?.runId;
  // Set from the event handler (a holder, so that the compiler does not take it for never set).
  const cut: { fault?: Unreachable; back?: boolean } = {};
  let endedWhileAway = false;
  let faulted: CliResult;
  try {
    faulted = await orchestrate(restoreArgs(bench, '--connect-timeout', '5'), {
      timeoutMs: 240_000,
      onEvent: (event) => {
        if (cut.fault || event.type !== 'phase-start' || event.phase !== phase) return;
        cut.fault = makeUnreachable(lab, victim, UNREACHABLE_SECONDS);
        void cut.fault.back.then(() => (cut.back = true));
      },
    });
    endedWhileAway = cut.back !== true;
    if (!cut.fault) expect.fail(`phase ${phase} never started: ${tail(faulted)}`);
    await cut.fault.isolated;
    // The operator tries again once the member answers (a re-run while it is away would only stop at the preflight).
    await cut.fault.back;
  } finally {
    await cut.fault?.end();
  }
  const report = (() => {
    try {
      return reportOf(faulted);
    } catch {
      return undefined;
    }
  })();
  const first =
    faulted.code === 0
      ? 'completed anyway'
      : `exit ${faulted.code ?? faulted.signal} (${cause(report?.failure ?? failureOf(faulted), victim.address)})${report?.rollback ? `; automatic rollback: ${report.rollback.status}` : ''}`;
  const settled = await settleAsTheRunSays(bench, before);
  let gap = '';
  if (settled.state === 'completed' && faulted.code !== 0 && (await journalError(bench)))
    gap = await expectCleanupAfterFailure(bench, settled.runId, victim.address, report?.failure ?? failureOf(faulted));
  else if (settled.state === 'completed') await expectCompleted(bench, settled.runId);
  else await expectRolledBack(bench, settled.runId, keysBefore);
  const then = settled.steps.length ? settled.steps.map((s) => s.replace(/ \(exit 0\)$/, '')).join(', then ') : 'nothing';
  return {
    phase,
    fault: `one member unreachable ${UNREACHABLE_SECONDS} s`,
    next: 'as the run says, once back',
    outcome: `${first}${endedWhileAway ? ' while it was away' : ''}; ${then} → ${settled.state === 'completed' ? 'completed, snapshot keys' : 'old data back, pre-restore keys'}${gap}`,
    seconds: (Date.now() - started) / 1000,
  };
}

/** "swap-data failed on that member (no answer)": which phase failed where, and how, for the table. */
function cause(failure: string, victim: string): string {
  const where = /^(\S+) failed on (\S+?):/.exec(failure);
  const how = /lost the SSH connection|timed out|keepalive|unreachable|no answer/i.exec(failure)?.[0];
  if (!where) return firstWords(failure);
  return `${where[1]} failed on ${where[2] === victim ? 'that member' : where[2]}${how ? `: ${how}` : ''}`;
}

async function journalError(bench: FaultBench): Promise<string | undefined> {
  return (JSON.parse(await readFile(bench.journalFile, 'utf8')) as { error?: string }).error;
}

/**
 * A failure after the verification (a service start on the member that went away) leaves the restore completed
 * and verified; the run still removes the snapshot copies on every member that answers, and names the member
 * where one stays (it was away during the cleanup). Checks that nothing else of the run is left.
 */
async function expectCleanupAfterFailure(bench: FaultBench, runId: string, victim: string, failure: string): Promise<string> {
  await expectDataDirs(bench.lab);
  await expectCluster(bench, bench.snapshotKeys);
  const aside = `etcd.before-restore-${runId}`;
  const copy = `etcd.restore-${runId}.snapshot.db`;
  let copyLeft = false;
  for (const host of bench.lab.hosts) {
    const mine = (await dataParent(host)).filter((name) => name.endsWith(runId) || name.includes(`-${runId}.`)).sort();
    if (host.address === victim && mine.includes(copy)) {
      copyLeft = true;
      expect(failure, 'the failure names the member where the snapshot copy stays').to.include(`${victim}:`).and.include(copy);
    }
    const expected = host.address === victim && copyLeft ? [aside, copy].sort() : [aside];
    expect(mine, `${host.address}: only the old data kept (and the copy only where the cleanup could not reach)`).to.deep.equal(expected);
  }
  expect(existsSync(restoreLockPath(bench.journalFile)), 'no lock left').to.equal(false);
  return copyLeft ? '; cleanup ran on the others, the copy on that member named in the message' : '; cleanup ran anyway';
}
