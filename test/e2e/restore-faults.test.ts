// End to end: the run lock, and a representative subset of the restore fault matrix (the whole matrix is
// `npm run test:faults`, test/faults/): two runs at once, SIGKILL after the swap, a member unreachable for
// 30 s from the swap, the snapshot replaced at the prompt. One 3-member lab (127.0.161.x) for the whole file. Needs root.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { killAtPhase, snapshotChangedAtPrompt } from '../helpers/restore-fault-cases.js';
import { formatMatrix, prepareBench, type FaultBench, type MatrixRow } from '../helpers/restore-faults.js';
import { twoRunsAtOnce } from '../helpers/restore-two-runs.js';
import { unreachableAtPhase } from '../helpers/restore-unreachable.js';

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
    rows.push(await twoRunsAtOnce(theBench()));
  });

  it('SIGKILL of the deploy host right after the swap, then --rollback: the stale lock is taken over and the old data is back', async () => {
    rows.push(await killAtPhase(theBench(), 'swap-data', 'rollback'));
  });

  it('one member unreachable for 30 s from the start of the swap, then back: what the run says brings the cluster to one state', async () => {
    rows.push(await unreachableAtPhase(theBench(), 'swap-data'));
  });

  it('the snapshot file is replaced between the preview and the answer: the run refuses it, the cluster is untouched', async () => {
    rows.push(await snapshotChangedAtPrompt(theBench()));
  });
});
