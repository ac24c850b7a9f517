// Chaos (`npm run test:chaos`, not part of `npm test`; run it under the lab lock:
// `flock -o /tmp/orchestrate-lab.lock npm run test:chaos`). One lab of 3 members and 1 kube_node host
// (127.0.171.x). A first restore runs uninterrupted: its duration is the window the kills fall in. Then
// CHAOS_RUNS (default 20) restores, each killed with SIGKILL at a moment drawn from a seeded generator, each
// followed by what the run says (the same command, or --rollback) until it is completed or rolled back; every
// one must converge: data dirs everywhere, one leader and cluster id, the snapshot's keys (or the pre-restore
// ones), nothing of the run left but the kept old data. Prints each run, then the recovery times' distribution.
//
// Replay a run: CHAOS_SEED=<seed> CHAOS_WINDOW_MS=<window> (both printed at the start). Bounded: every command
// has a deadline, and the whole run stops after CHAOS_BUDGET_MINUTES (default 30).
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chaosSeed, distribution, seededRandom } from '../helpers/chaos.js';
import { damage, keyValues } from '../helpers/lab-data.js';
import { startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { restoreArgs, settleAsTheRunSays } from '../helpers/restore-operator.js';
import {
  expectCompleted,
  expectRolledBack,
  formatMatrix,
  orchestrate,
  prepareBench,
  readJournal,
  reportOf,
  tail,
  type FaultBench,
  type MatrixRow,
} from '../helpers/restore-faults.js';

const NET = '127.0.171';

function whole(name: string, fallback: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be a whole number from 1 to ${max}, not "${text}"`);
  return value;
}

const RUNS = whole('CHAOS_RUNS', 20, 100);
const BUDGET_MS = whole('CHAOS_BUDGET_MINUTES', 30, 120) * 60_000;
const SEED = chaosSeed(process.env.CHAOS_SEED);

describe(`chaos: ${RUNS} restores killed at random moments (${NET}.x)`, function () {
  this.timeout(300_000);
  let lab: LabInfo | undefined;
  let bench: FaultBench | undefined;
  let windowMs = 0;
  let deadline = 0;
  const random = seededRandom(SEED);
  const rows: MatrixRow[] = [];
  const recoveries: number[] = [];
  let finishedFirst = 0;
  const theBench = (): FaultBench => bench!;

  before(async function () {
    deadline = Date.now() + BUDGET_MS;
    lab = await startLab({ dir: tempLabDir(), net: NET, members: 3, nodes: 1 });
    bench = await prepareBench(lab);
  });

  after(async function () {
    if (rows.length > 0) {
      process.stdout.write(`\n${formatMatrix(rows)}\n\n`);
      process.stdout.write(`recovery (the operator's commands until converged), ${recoveries.length} killed runs: ${distribution(recoveries)}\n`);
      process.stdout.write(`${finishedFirst} run(s) finished before their kill; seed ${SEED}, window ${windowMs} ms\n\n`);
    }
    if (!lab) return;
    await stopLab(lab.dir);
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  it('an uninterrupted restore completes; its duration is the window of the kills', async () => {
    await damage(theBench().lab, '/registry/rogue/chaos-calibration');
    const started = Date.now();
    const result = await orchestrate(restoreArgs(theBench()), { timeoutMs: 180_000 });
    windowMs = Date.now() - started;
    expect(result.code, tail(result)).to.equal(0);
    await expectCompleted(theBench(), reportOf(result).runId);
    if (process.env.CHAOS_WINDOW_MS) windowMs = whole('CHAOS_WINDOW_MS', 1, 600_000);
    process.stdout.write(`      chaos seed ${SEED}, kill window 0-${windowMs} ms (replay: CHAOS_SEED=${SEED} CHAOS_WINDOW_MS=${windowMs})\n`);
  });

  for (let i = 1; i <= RUNS; i++) {
    it(`restore ${i}/${RUNS}: SIGKILL at a random moment, then as the run says, converges`, async () => {
      expect(windowMs, 'the uninterrupted restore ran first').to.be.above(0);
      if (Date.now() > deadline) expect.fail(`over the run's bound of ${BUDGET_MS / 60_000} minutes`);
      const delay = Math.round(random() * windowMs);
      const { lab } = theBench();
      await damage(lab, `/registry/rogue/chaos-${i}`);
      const keysBefore = await keyValues(lab);
      const before = (await readJournal(theBench()).catch(() => undefined))?.runId;
      let timer: NodeJS.Timeout | undefined;
      let phase = '(preflight)';
      const result = await orchestrate(restoreArgs(theBench()), {
        timeoutMs: 180_000,
        started: (pid) => (timer = setTimeout(() => process.kill(pid, 'SIGKILL'), delay)),
        onEvent: (event) => {
          if (event.type === 'phase-start' && event.phase && (event.hosts?.length ?? 0) > 0) phase = event.phase;
        },
      });
      clearTimeout(timer);
      const killed = result.signal === 'SIGKILL';
      if (!killed) {
        expect(result.code, `finished before its kill: ${tail(result)}`).to.equal(0);
        finishedFirst++;
      }
      const settled = await settleAsTheRunSays(theBench(), before);
      if (settled.state === 'completed') await expectCompleted(theBench(), settled.runId);
      else await expectRolledBack(theBench(), settled.runId, keysBefore);
      if (killed) recoveries.push(settled.ms);
      rows.push({
        phase: killed ? phase : '(finished)',
        fault: `SIGKILL at ${(delay / 1000).toFixed(1)} s${killed ? '' : ' (too late)'}`,
        next: settled.steps.length ? settled.steps.map((s) => s.replace(/ \(exit 0\)$/, '')).join(', then ') : 'nothing',
        outcome: `${settled.state === 'completed' ? 'completed, snapshot keys' : 'rolled back, pre-restore keys'}; recovery ${(settled.ms / 1000).toFixed(1)} s`,
        seconds: settled.ms / 1000,
      });
    });
  }
});
