// The fault matrix of `orchestrate restore`: inject a fault, run what an operator runs next (the same command
// again, or --rollback), then check what must hold whatever happened. Used by test/faults (the whole matrix,
// `npm run test:faults`) and test/e2e/restore-faults.test.ts (a subset in `npm test`). Needs root and a lab.
import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInHost } from '../../src/lab/index.js';
import { runCliFromSource, type CliResult } from './cli.js';
import { keyValues, memberStatuses, putKey, waitHealthy } from './lab-data.js';
import { sshToLabHost, type LabHostInfo, type LabInfo } from './lab.js';

export type CliEvent = { type: string; phase?: string; hosts?: string[] } & Record<string, unknown>;

export interface RestoreReport {
  status: string;
  runId: string;
  resumed: boolean;
  exitCode: number;
  failure?: string;
  members: { host: string; state?: string }[];
  verdict?: { ok: boolean };
  rollback?: { status: string; problems: string[]; warnings: string[] };
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  onEvent?: (event: CliEvent, pid: number) => void;
  started?: (pid: number) => void;
}

/** The CLI from source, no terminal (as cron), `--json` events handed to `onEvent` as they arrive. */
export function orchestrate(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runCliFromSource(args, {
    env: { CI: '1', ...options.env },
    timeoutMs: options.timeoutMs ?? 120_000,
    onSpawn: (child) => {
      const pid = child.pid!;
      options.started?.(pid);
      let pending = '';
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('{')) options.onEvent?.(JSON.parse(line) as CliEvent, pid);
      });
    },
  });
}

/** The end of a run's output, for assertion messages. */
export function tail(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout (end)\n${result.stdout.slice(-2500)}\n--- stderr (end)\n${result.stderr.slice(-2500)}`;
}

export function reportOf(result: CliResult): RestoreReport {
  const line = result.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"type":"report"'));
  if (!line) throw new Error(`no JSON report: ${tail(result)}`);
  return JSON.parse(line) as RestoreReport;
}

/** A lab, one snapshot of it, and what the checks compare with. */
export interface FaultBench {
  lab: LabInfo;
  snapshot: string;
  snapshotKeys: Map<string, string>;
  memberIds: Map<string, string>;
  journalFile: string;
}

/** Take the snapshot every case restores (through `orchestrate backup`, as an operator would). */
export async function prepareBench(lab: LabInfo): Promise<FaultBench> {
  await waitHealthy(lab);
  const memberIds = new Map((await memberStatuses(lab)).map((s) => [s.address, s.memberId]));
  await putKey(lab, '/registry/configmaps/default/fault-matrix-marker', 'in the snapshot');
  const backup = await orchestrate(['backup', lab.inventoryFile, '--json'], { timeoutMs: 90_000 });
  expect(backup.code, `backup: ${tail(backup)}`).to.equal(0);
  const snapshot = (JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as { record: { file: string } }).record.file;
  const journalFile = join(lab.dir, '.orchestrate', 'restore-journal', 'etcd-cluster-0.json');
  return { lab, snapshot, snapshotKeys: await keyValues(lab), memberIds, journalFile };
}

/** The restore's journal as the last run left it. */
export async function readJournal(bench: FaultBench): Promise<{ runId: string; status: string; done: Record<string, string[]> }> {
  return JSON.parse(await readFile(bench.journalFile, 'utf8')) as { runId: string; status: string; done: Record<string, string[]> };
}

/** The etcd* entries of the data dir's parent on a member (through nsenter: works whatever its sshd does). */
export async function dataParent(host: LabHostInfo): Promise<string[]> {
  const listing = await runInHost(host.pid, ['ls', '-1', '/var/lib']);
  expect(listing.code, `${host.address}: ${listing.stderr}`).to.equal(0);
  return listing.stdout.split('\n').filter((name) => name.startsWith('etcd'));
}

/** Every member has a data dir with etcd's member/ folder in it: what a kill at any moment must never break. */
export async function expectDataDirs(lab: LabInfo): Promise<void> {
  for (const host of lab.hosts) {
    const member = await runInHost(host.pid, ['test', '-d', '/var/lib/etcd/member']);
    expect(member.code, `${host.address} has /var/lib/etcd/member`).to.equal(0);
  }
}

/** One leader, one cluster id, each member with its own identity from before, the keys exactly `keys`. */
export async function expectCluster(bench: FaultBench, keys: Map<string, string>): Promise<void> {
  const { lab } = bench;
  await waitHealthy(lab);
  const statuses = await memberStatuses(lab);
  expect(new Set(statuses.map((s) => s.leader)).size, 'every member names the same leader').to.equal(1);
  expect(
    statuses.filter((s) => s.leader === s.memberId),
    'exactly one leader',
  ).to.have.length(1);
  expect(new Set(statuses.map((s) => s.clusterId)).size, 'one cluster id').to.equal(1);
  for (const s of statuses) expect(s.memberId, `${s.address} keeps its identity`).to.equal(bench.memberIds.get(s.address));
  const got = await keyValues(lab);
  const lost = [...keys.keys()].filter((k) => got.get(k) !== keys.get(k));
  const extra = [...got.keys()].filter((k) => !keys.has(k));
  expect({ lost, extra }, 'keys exactly as expected (0 lost, none extra)').to.deep.equal({ lost: [], extra: [] });
}

/**
 * Nothing of the run `runId` is left but the old data it kept: on the members no scratch (etcd.restore-RUN*)
 * and only `kept` among the run's entries; on the deploy host no lock and no temporary file.
 */
export async function expectNothingLeft(bench: FaultBench, runId: string, kept: 'before-restore' | 'none-or-rolled-back'): Promise<void> {
  for (const host of bench.lab.hosts) {
    const mine = (await dataParent(host)).filter((name) => name.endsWith(runId) || name.includes(`-${runId}.`));
    if (kept === 'before-restore') expect(mine, `${host.address}: only the old data kept`).to.deep.equal([`etcd.before-restore-${runId}`]);
    else
      expect(
        mine.filter((n) => n !== `etcd.rolled-back-${runId}`),
        `${host.address}: nothing of the run but the restored data set aside`,
      ).to.deep.equal([]);
  }
  const state = await readdir(join(bench.lab.dir, '.orchestrate', 'restore-journal'));
  expect(
    state.filter((name) => name.endsWith('.lock') || name.includes('.tmp') || name.includes('.takeover-')),
    'no lock or temporary file left on the deploy host',
  ).to.deep.equal([]);
}

/** After a run that finished the restore: all four checks against the snapshot. */
export async function expectCompleted(bench: FaultBench, runId: string): Promise<void> {
  await expectDataDirs(bench.lab);
  await expectCluster(bench, bench.snapshotKeys);
  await expectNothingLeft(bench, runId, 'before-restore');
  expect((await readJournal(bench)).status).to.equal('completed');
}

/** After a rollback (by hand or automatic): all four checks against the keys of before the restore. */
export async function expectRolledBack(bench: FaultBench, runId: string, keysBefore: Map<string, string>): Promise<void> {
  await expectDataDirs(bench.lab);
  await expectCluster(bench, keysBefore);
  await expectNothingLeft(bench, runId, 'none-or-rolled-back');
}

/** Kill (SIGKILL) the sshd processes serving sessions on `host`, by pid; its listener stays. Returns their pids. */
export async function cutSshSessions(host: LabHostInfo): Promise<number[]> {
  const children = (await readFile(`/proc/${host.pid}/task/${host.pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number);
  const killed: number[] = [];
  for (const pid of children) {
    const name = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (!name.startsWith('sshd')) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // ended on its own meanwhile
    }
  }
  return killed;
}

/** etcd on `host` fails to start: an unknown flag in its unit (undone by `fixBadFlag`). */
export async function injectBadFlag(lab: LabInfo, host: LabHostInfo): Promise<void> {
  const done = await sshToLabHost(
    lab,
    host.address,
    "sed -i 's#^ExecStart=/usr/bin/etcd #ExecStart=/usr/bin/etcd --no-such-flag #' /etc/systemd/system/etcd.service",
  );
  expect(done.code, done.stderr).to.equal(0);
}

export async function fixBadFlag(lab: LabInfo, host: LabHostInfo): Promise<void> {
  const done = await sshToLabHost(lab, host.address, "sed -i 's#--no-such-flag ##' /etc/systemd/system/etcd.service && systemctl start etcd");
  expect(done.code, done.stderr).to.equal(0);
}

/** One row of the printed matrix. */
export interface MatrixRow {
  phase: string;
  fault: string;
  next: string;
  outcome: string;
  seconds: number;
}

/** phase × fault → outcome, as a fixed-width table. */
export function formatMatrix(rows: readonly MatrixRow[]): string {
  const header: MatrixRow = { phase: 'phase', fault: 'fault', next: 'then', outcome: 'outcome', seconds: 0 };
  const cells = (r: MatrixRow, head = false): string[] => [r.phase, r.fault, r.next, r.outcome, head ? 'time' : `${r.seconds.toFixed(0)} s`];
  const all = [cells(header, true), ...rows.map((r) => cells(r))];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}
