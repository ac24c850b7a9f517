// End to end: the run lock, and a representative subset of the restore fault matrix (the whole matrix is
// `npm run test:faults`, test/faults/). One 3-member lab (127.0.161.x) for the whole file. Needs root.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { restoreLockPath } from '../../src/etcd/restore/run-lock.js';
import { damage, keyValues } from '../helpers/lab-data.js';
import { startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { killAtPhase, snapshotChangedAtPrompt } from '../helpers/restore-fault-cases.js';
import {
  expectCompleted,
  formatMatrix,
  orchestrate,
  prepareBench,
  readJournal,
  reportOf,
  tail,
  type FaultBench,
  type MatrixRow,
} from '../helpers/restore-faults.js';

const NET = '127.0.161';

describe(`restore under faults, and one run at a time (${NET}.x)`, function () {
  this.timeout(240_000);
  let lab: LabInfo | undefined;
  let bench: FaultBench | undefined;
  const rows: MatrixRow[] = [];
  const theBench = (): FaultBench => bench!;

  before(async function () {
    lab = await startLab({ dir: tempLabDir(), net: NET, members: 3 });
    bench = await prepareBench(lab);
  });

  after(async function () {
    if (rows.length > 0) process.stdout.write(`\n${formatMatrix(rows)}\n\n`);
    if (!lab) return;
    await stopLab(lab.dir);
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  it('two restores at once: the second refuses (exit 5) naming the holder, so does a backup; SIGTERM releases the lock; the re-run finishes', async () => {
    const { lab, journalFile } = theBench();
    await damage(lab, '/registry/rogue/two-restores');
    const keysBefore = await keyValues(lab);
    const lockFile = restoreLockPath(journalFile);
    let holder = 0;
    let stopped: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (stopped = resolve));
    // The first run is frozen (SIGSTOP) as it starts copying: it holds the lock for as long as the test needs.
    const first = orchestrate(['restore', lab.inventoryFile, '--snapshot', theBench().snapshot, '--yes', '--json'], {
      onEvent: (event, pid) => {
        if (holder === 0 && event.type === 'phase-start' && event.phase === 'copy-snapshot') {
          holder = pid;
          process.kill(pid, 'SIGSTOP');
          stopped?.();
        }
      },
    });
    let firstResult;
    try {
      await Promise.race([held, first.then((r) => Promise.reject(new Error(`the first run ended early: ${tail(r)}`)))]);
      const { runId } = await readJournal(theBench());
      const second = await orchestrate(['restore', lab.inventoryFile, '--snapshot', theBench().snapshot, '--yes']);
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
    await expectCompleted(theBench(), report.runId);
  });

  it('SIGKILL of the deploy host right after the swap, then --rollback: the stale lock is taken over and the old data is back', async () => {
    rows.push(await killAtPhase(theBench(), 'swap-data', 'rollback'));
  });

  it('the snapshot file is replaced between the preview and the answer: the run refuses it, the cluster is untouched', async () => {
    rows.push(await snapshotChangedAtPrompt(theBench()));
  });
});
