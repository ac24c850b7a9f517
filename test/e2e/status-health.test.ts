// `orchestrate status` against a real 3-member lab (127.0.112.x, TLS etcd 3.4): exit 0 when healthy with a
// fresh backup, a warning (exit 0) with one member stopped and exit 7 with --require-all-members, exit 7
// with two stopped (no quorum), whatever the backup age. Needs root. The CLI runs as a child process.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hostSystemctl } from '../../src/lab/index.js';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { memberStatuses, waitHealthy } from '../helpers/lab-data.js';
import { startLab, stopLab, tempLabDir, type LabHostInfo, type LabInfo } from '../helpers/lab.js';

interface StatusJson {
  exitCode: number;
  healthy: number;
  stale: boolean;
  unhealthy: boolean;
  quorum: { members: number; needed: number; healthy: number; held: boolean };
  unhealthyReasons: string[];
  warnings: string[];
  memberStates: { name: string; state: string }[];
  newestVerifiedSnapshot: { path: string } | null;
}

function tail(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`;
}

/** `status` with a short member deadline, killed after 60 s so a hang fails with its output. */
function status(lab: LabInfo, extra: string[] = []): Promise<CliResult> {
  return runCliFromSource(['status', lab.inventoryFile, '--timeout', '3', ...extra], { env: { CI: '1' }, timeoutMs: 60_000 });
}

async function statusJson(lab: LabInfo, extra: string[] = []): Promise<StatusJson> {
  const result = await status(lab, ['--json', ...extra]);
  const parsed = JSON.parse(result.stdout) as StatusJson;
  expect(parsed.exitCode, tail(result)).to.equal(result.code);
  return parsed;
}

async function stopEtcd(host: LabHostInfo): Promise<void> {
  const stopped = await hostSystemctl(host.pid, ['stop', 'etcd']);
  expect(stopped.code, `${host.address}: ${stopped.stderr}`).to.equal(0);
}

describe('status: cluster health on a 3-member lab (127.0.112.x)', function () {
  this.timeout(120_000);
  let lab: LabInfo | undefined;
  let backupFile: string;
  /** The two followers, stopped one after the other (the leader stays, so the first stop needs no election). */
  let followers: LabHostInfo[] = [];

  before(async function () {
    this.timeout(150_000);
    lab = await startLab({ dir: tempLabDir(), net: '127.0.112', members: 3 });
    await waitHealthy(lab);
    const backup = await runCliFromSource(['backup', lab.inventoryFile, '--json'], { env: { CI: '1' }, timeoutMs: 60_000 });
    expect(backup.code, tail(backup)).to.equal(0);
    backupFile = (JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as { record: { file: string } }).record.file;
    const statuses = await memberStatuses(lab);
    followers = lab.hosts.filter((host) => {
      const s = statuses.find((row) => row.address === host.address)!;
      return s.leader !== s.memberId;
    });
    expect(followers, 'two followers').to.have.length(2);
  });

  after(async function () {
    this.timeout(60_000);
    if (!lab) return;
    await stopLab(lab.dir);
    // stopLab keeps what the lab did not create (backups, .orchestrate): drop the whole temp folder.
    if (dirname(lab.dir).startsWith(join(tmpdir(), 'orchestrate-lab-'))) await rm(dirname(lab.dir), { recursive: true, force: true });
  });

  it('all members healthy and a fresh backup: exit 0, quorum held, no warning', async () => {
    const result = await status(lab!, ['--max-age', '1h']);
    expect(result.code, tail(result)).to.equal(0);
    expect(result.stdout).to.match(/: 3\/3 members healthy, leader etcd-127\.0\.112\.\d$/m);
    expect(result.stdout).to.contain('quorum held: 3 of 3 voting members healthy, needs 2 (1 more failure(s) tolerated)');
    expect(result.stdout).to.contain(`newest verified snapshot: ${backupFile}`);
    expect(result.stdout).to.not.match(/WARNING|UNHEALTHY/);
    const json = await statusJson(lab!, ['--max-age', '1h']);
    expect(json).to.deep.include({ exitCode: 0, healthy: 3, unhealthy: false, stale: false, unhealthyReasons: [], warnings: [] });
    expect(json.quorum).to.deep.equal({ members: 3, needed: 2, healthy: 3, held: true });
  });

  it('one member stopped: exit 0 with a warning naming it; exit 7 with --require-all-members', async () => {
    const victim = followers[0]!;
    await stopEtcd(victim);
    const result = await status(lab!, ['--max-age', '1h']);
    expect(result.code, tail(result)).to.equal(0);
    expect(result.stdout).to.match(new RegExp(`^WARNING: member ${victim.name.replace(/\./g, '\\.')} is down: .*one more failure loses it$`, 'm'));
    expect(result.stdout).to.match(new RegExp(`^${victim.name.replace(/\./g, '\\.')}\\s+\\S+\\s+DOWN\\s`, 'm'));
    expect(result.stdout).to.not.contain('UNHEALTHY');

    const strict = await status(lab!, ['--max-age', '1h', '--require-all-members']);
    expect(strict.code, tail(strict)).to.equal(7);
    expect(strict.stdout).to.match(
      new RegExp(`^UNHEALTHY: member ${victim.name.replace(/\./g, '\\.')} is down: .*\\(--require-all-members\\)$`, 'm'),
    );

    const json = await statusJson(lab!, ['--max-age', '1h']);
    expect(json).to.deep.include({ exitCode: 0, unhealthy: false, healthy: 2 });
    expect(json.quorum).to.deep.equal({ members: 3, needed: 2, healthy: 2, held: true });
    expect(json.warnings).to.have.length(1);
    expect(json.memberStates.find((m) => m.name === victim.name)?.state).to.equal('down');
  });

  it('two members stopped: exit 7 (no quorum) with a fresh backup, and 7 with both facts when also stale', async () => {
    await stopEtcd(followers[1]!);
    const result = await status(lab!, ['--max-age', '1h']);
    expect(result.code, tail(result)).to.equal(7);
    // The survivor answers; once it notices it lost its followers it also sees no leader (0 of 3).
    expect(result.stdout).to.match(/^UNHEALTHY: [01] of 3 members healthy, quorum needs 2: the cluster cannot serve writes \(.*\)$/m);
    for (const host of followers) expect(result.stdout).to.contain(`${host.name}: down, `);
    expect(result.stdout).to.match(/^ok: the newest verified snapshot is /m);

    const json = await statusJson(lab!, ['--max-age', '1h']);
    expect(json).to.deep.include({ exitCode: 7, unhealthy: true, stale: false });
    expect(json.quorum.held).to.equal(false);
    expect(json.unhealthyReasons[0]).to.match(/^[01] of 3 members healthy, quorum needs 2/);
    expect(json.newestVerifiedSnapshot?.path).to.equal(backupFile);

    const stale = await status(lab!, ['--max-age', '1s']);
    expect(stale.code, tail(stale)).to.equal(7);
    expect(stale.stdout).to.match(/^UNHEALTHY: /m);
    expect(stale.stdout).to.match(/^STALE: the newest verified snapshot is .* old, more than --max-age 1s$/m);
  });
});
