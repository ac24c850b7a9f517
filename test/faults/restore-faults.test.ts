// The restore fault matrix (`npm run test:faults`, not part of `npm test`; run it under the lab lock:
// `flock -o /tmp/orchestrate-lab.lock npm run test:faults`). One lab of 3 members and 1 kube_node host
// (127.0.160.x) for the whole file. Each case injects one fault into a real restore, runs what the operator
// runs next, and checks: every member has a data dir; one leader and one cluster id; the keys exactly the
// snapshot's (completed) or the pre-restore ones (rolled back); nothing of the run left but the kept old data.
// Prints the table phase × fault → outcome at the end. Needs root; about 45 s per case.
//
// FAULT_PHASES=swap-data,start-etcd limits the SIGKILL and unreachable cases to those phases (to look at one
// quickly). The unreachable rows need nft (Debian's nftables) and the cgroup v1 freezer.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { badFlagOnOneMember, diskFullOnOneMember, killAtPhase, snapshotChangedAtPrompt, sshCutAtPhase } from '../helpers/restore-fault-cases.js';
import { formatMatrix, prepareBench, type FaultBench, type MatrixRow } from '../helpers/restore-faults.js';
import { twoRunsAtOnce } from '../helpers/restore-two-runs.js';
import { UNREACHABLE_SECONDS, unreachableAtPhase } from '../helpers/restore-unreachable.js';

const NET = '127.0.160';
/** Every phase of playbooks/restore.yml a real run goes through (preflight and identities run read-only, before it). */
const PHASES = [
  'copy-snapshot',
  'restore-data',
  'stop-kube-node',
  'stop-kube-master',
  'stop-etcd',
  'swap-data',
  'start-etcd',
  'verify-cluster',
  'start-kube-master',
  'start-kube-node',
  'cleanup',
];
const chosen = process.env.FAULT_PHASES?.split(',').filter(Boolean) ?? PHASES;

describe(`restore fault matrix on a 3-member lab with a kube_node host (${NET}.x)`, function () {
  this.timeout(300_000);
  let lab: LabInfo | undefined;
  let bench: FaultBench | undefined;
  const rows: MatrixRow[] = [];
  const theBench = (): FaultBench => bench!;

  /** Each case adds its row, or a row saying how it failed (the test fails too). */
  function matrixCase(title: string, phase: string, fault: string, run: () => Promise<MatrixRow>): void {
    it(title, async () => {
      const started = Date.now();
      try {
        rows.push(await run());
      } catch (error) {
        rows.push({
          phase,
          fault,
          next: '-',
          outcome: `FAILED: ${(error as Error).message.split('\n')[0]!.slice(0, 100)}`,
          seconds: (Date.now() - started) / 1000,
        });
        throw error;
      }
    });
  }

  before(async function () {
    lab = await startLab({ dir: tempLabDir(), net: NET, members: 3, nodes: 1 });
    bench = await prepareBench(lab);
  });

  after(async function () {
    if (rows.length > 0) process.stdout.write(`\n${formatMatrix(rows)}\n\n`);
    if (!lab) return;
    await stopLab(lab.dir);
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  for (const phase of chosen) {
    expect(PHASES, `FAULT_PHASES: ${phase}`).to.include(phase);
    for (const next of ['rerun', 'rollback'] as const)
      matrixCase(`SIGKILL after ${phase}, then ${next === 'rerun' ? 'the same command' : '--rollback'}`, phase, 'SIGKILL', () =>
        killAtPhase(theBench(), phase, next),
      );
  }

  matrixCase('etcd fails to start on one member (bad flag in its unit): automatic rollback', 'start-etcd', 'bad flag', () =>
    badFlagOnOneMember(theBench()),
  );

  matrixCase('the snapshot file is replaced between the preview and the answer', 'copy-snapshot', 'snapshot changed', () =>
    snapshotChangedAtPrompt(theBench()),
  );

  for (const phase of ['restore-data', 'stop-etcd', 'swap-data', 'start-etcd'])
    matrixCase(`the SSH connection to one member is cut as ${phase} starts`, phase, 'SSH cut', () => sshCutAtPhase(theBench(), phase));

  matrixCase("one member's disk fills up as it restores", 'restore-data', 'disk full', () => diskFullOnOneMember(theBench()));

  for (const phase of chosen)
    matrixCase(`one member unreachable for ${UNREACHABLE_SECONDS} s from the start of ${phase}, then back`, phase, 'unreachable', () =>
      unreachableAtPhase(theBench(), phase),
    );

  matrixCase('two restores at once: the second (and a backup) refuse naming the holder', 'copy-snapshot', 'two runs', () =>
    twoRunsAtOnce(theBench()),
  );
});
