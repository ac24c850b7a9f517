// The recover fault rows (`npm run test:faults`, beside the restore's; run under the lab lock). One lab of 3
// members (127.0.163.x) for the whole file. Each row cuts the power (every etcd killed with SIGKILL), damages
// what the path needs damaged, runs `orchestrate recover` with the deploy process killed (SIGKILL, no cleanup)
// right after one phase was journaled, then runs recover again and checks that it converged: exit 0, one
// leader, one cluster id, every member answering, and the keys written before the cut all there.
// Prints the table phase × fault → outcome at the end. Needs root; about 40 s per row.
//
// FAULT_PHASES=set-aside,promote limits the rows to those phases.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { waitHealthy } from '../helpers/lab-data.js';
import { expectWhole, flipWal, killEtcd, missingKeys, putKeys, recover, reportOf, tail } from '../helpers/recover.js';
import { formatMatrix, type MatrixRow } from '../helpers/restore-faults.js';

const NET = '127.0.163';

/** Path 1: the start of the intact members, then the replace of the damaged one (playbooks/recover-start.yml, member-replace.yml). */
const START_PHASES = ['start-etcd', 'verify-quorum'];
const REPLACE_PHASES = ['stop-etcd', 'remove-member', 'set-aside', 'add-member', 'start-joining', 'promote', 'finish-join', 'verify-cluster'];
/** Path 2: the rebuild from the freshest member runs the restore's phases (playbooks/restore.yml). */
const REBUILD_PHASES = ['restore-data', 'swap-data', 'start-etcd', 'verify-cluster'];

const wanted = process.env.FAULT_PHASES?.split(',').filter(Boolean);
const chosen = (phases: string[]) => (wanted ? phases.filter((p) => wanted.includes(p)) : phases);

describe(`recover fault rows on a 3-member lab (${NET}.x)`, function () {
  this.timeout(300_000);
  let lab: LabInfo | undefined;
  const rows: MatrixRow[] = [];
  let cut = 0;
  const theLab = (): LabInfo => lab!;

  function row(title: string, phase: string, path: 'start' | 'rebuild', run: () => Promise<string>): void {
    it(title, async () => {
      const started = Date.now();
      const fault = `SIGKILL of the deploy host (${path === 'start' ? 'start as is + replace' : 'rebuild from a member'})`;
      try {
        const outcome = await run();
        rows.push({ phase, fault, next: 'recover again', outcome, seconds: (Date.now() - started) / 1000 });
      } catch (error) {
        const outcome = `FAILED: ${(error as Error).message.split('\n')[0]!.slice(0, 100)}`;
        rows.push({ phase, fault, next: 'recover again', outcome, seconds: (Date.now() - started) / 1000 });
        throw error;
      }
    });
  }

  /** Kill at `phase`, recover again, check; returns the outcome in words. */
  async function killThenRerun(phase: string, keys: string[], resumedBy: RegExp): Promise<string> {
    const killed = await recover(theLab(), [], { ORCHESTRATE_FAILPOINT: `${phase}:*` });
    const died = killed.signal === 'SIGKILL' || killed.code === 137;
    if (!died) expect(killed.code, tail(killed)).to.equal(0);
    const rerun = await recover(theLab());
    expect(rerun.code, tail(rerun)).to.equal(0);
    if (died) expect(rerun.stdout, 'the re-run continues the journal').to.match(resumedBy);
    expect(['completed', 'continued', 'nothing-to-do']).to.include(reportOf(rerun).status);
    expect(await missingKeys(theLab(), keys)).to.deep.equal([]);
    await expectWhole(theLab());
    return died ? 're-run continued the journal → one leader, one cluster id, no key lost' : 'the phase did not run: recover completed';
  }

  before(async function () {
    this.timeout(120_000);
    lab = await startLab({ dir: tempLabDir(), net: NET, members: 3 });
    await waitHealthy(lab);
  });

  after(async function () {
    this.timeout(60_000);
    if (rows.length > 0) process.stdout.write(`\n${formatMatrix(rows)}\n\n`);
    if (!lab) return;
    await stopLab(lab.dir);
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  for (const phase of chosen([...START_PHASES, ...REPLACE_PHASES]))
    row(`power cut, one WAL damaged: SIGKILL after ${phase}, then recover again`, phase, 'start', async () => {
      const lab = theLab();
      const damaged = lab.hosts[cut++ % lab.hosts.length]!;
      const keys = await putKeys(lab, `/fault/${phase}/`, 3);
      await killEtcd(lab);
      await flipWal(lab, damaged, keys[1] ?? '');
      return killThenRerun(phase, keys, /continuing the interrupted recovery/);
    });

  for (const phase of chosen(REBUILD_PHASES))
    row(`a majority damaged: SIGKILL after the rebuild's ${phase}, then recover again`, phase, 'rebuild', async () => {
      const lab = theLab();
      const intact = cut++ % lab.hosts.length;
      const keys = await putKeys(lab, `/fault/rebuild-${phase}/`, 3);
      // Keys committed more than a second before the cut are on the intact member's db.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await killEtcd(lab);
      for (const [i, host] of lab.hosts.entries()) if (i !== intact) await flipWal(lab, host, keys[1] ?? '');
      return killThenRerun(phase, keys, /an unfinished restore .* is continued first/);
    });
});
