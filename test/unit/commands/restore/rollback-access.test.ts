import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdMembers } from '../../../../src/config/etcd-vars.js';
import type { Inventory, InventoryHost } from '../../../../src/config/types.js';
import { ExitCode, RefusedError } from '../../../../src/errors.js';
import { restorePaths } from '../../../../src/etcd/restore/paths.js';
import { journalPath, writeJsonDurably, type RestoreJournal } from '../../../../src/etcd/restore/journal.js';
import { rollbackCluster } from '../../../../src/commands/restore/rollback-run.js';
import type { ExecResult } from '../../../../src/transport/types.js';
import { FakeTransport, type RecordedCall } from './fake-transport.js';

const RUN = '20261122T101500Z';
const memberNames = ['10.0.0.1', '10.0.0.2'];
const names = [...memberNames, '10.0.0.9'];
const isProbe = (command: string) => command.startsWith("printf 'orchestrate-access");

describe('restore --rollback: the login must act as root on every host before anything changes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-rollback-access-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function inventory(vars: Record<string, unknown>): Inventory {
    return {
      file: join(dir, 'hosts.yml'),
      dir,
      hosts: new Map<string, InventoryHost>(names.map((h) => [h, { name: h, vars: { ansible_user: 'deploy', ...vars }, groups: ['all'] }])),
      groups: new Map([
        ['all', names],
        ['etcd', memberNames],
        ['kube_master', ['10.0.0.9']],
      ]),
    };
  }

  /** A journal as a restore leaves it: `swapped` -> completed (the rollback stops, swaps back, starts); else only scratch to drop. */
  async function writeJournal(inv: Inventory, swapped: boolean): Promise<string> {
    const members = etcdMembers(inv);
    const journal: RestoreJournal = {
      version: 1,
      runId: RUN,
      clusterToken: members[0]!.token,
      inventory: inv.file,
      mode: 'member',
      status: swapped ? 'completed' : 'in-progress',
      startedAt: '2026-11-22T10:15:00.000Z',
      updatedAt: '2026-11-22T10:16:00.000Z',
      snapshot: { path: '/s.db', sha256: 'b'.repeat(64), size: 1, revision: 1, totalKey: 1, hasHash: true, takenAt: '2026-11-22T10:00:00.000Z' },
      members: Object.fromEntries(
        members.map((m) => [m.host, { name: m.name, paths: restorePaths(m.dataDir, RUN), hadOldData: true, service: 'etcd' }]),
      ),
      begun: swapped
        ? [
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
          ]
        : ['copy-snapshot', 'restore-data'],
      done: {},
      marks: {},
    };
    const file = journalPath(dir, journal.clusterToken);
    await writeJsonDurably(file, journal);
    return file;
  }

  /** Runs the rollback on fakes whose commands run as `uid`; the probe answers that the parent dir is writable. */
  async function rollback(vars: Record<string, unknown>, uid: number, swapped: boolean) {
    const inv = inventory(vars);
    const journalFile = await writeJournal(inv, swapped);
    const journalBefore = readFileSync(journalFile, 'utf8');
    const calls: RecordedCall[] = [];
    const answer = (_host: string, command: string): Partial<ExecResult> =>
      isProbe(command) ? { stdout: `orchestrate-access ${uid} ${uid === 0 ? 'root' : 'deploy'}\nyes\n` } : { stdout: 'reverted\n' };
    const outcome = await rollbackCluster({
      inventory: inv,
      yes: true,
      connect: { openTransports: (specs) => Promise.resolve(new Map(specs.map((s) => [s.host, new FakeTransport(s.host, calls, answer)]))) },
    }).then(
      (report) => ({ report, error: undefined }),
      (error: unknown) => ({ report: undefined, error }),
    );
    return { ...outcome, calls, journalFile, journalBefore };
  }

  it('refuses a non-root login without become on every host it would touch, kube host included, before any other command; the journal is untouched', async () => {
    const { error, calls, journalFile, journalBefore } = await rollback({}, 1000, true);
    expect(error).to.be.instanceOf(RefusedError);
    const refused = error as RefusedError;
    expect(refused.exitCode).to.equal(ExitCode.refused);
    const lines = refused.message.split('\n').filter((line) => line.startsWith('  - '));
    expect(lines).to.have.length(names.length);
    for (const member of memberNames) {
      expect(
        lines.some(
          (line) =>
            line.startsWith(`  - etcd-${member} (${member}): commands run as deploy (uid 1000), not root`) &&
            line.includes('set ansible_become: true'),
        ),
      ).to.equal(true);
    }
    expect(lines.some((line) => line.startsWith('  - 10.0.0.9: commands run as deploy'))).to.equal(true);
    expect(refused.message).to.contain('nothing was changed');
    // Only the read-only probe ran, once per host; members were asked about the data dir's parent.
    expect(calls.map((c) => c.host).sort()).to.deep.equal([...names].sort());
    expect(calls.every((c) => c.kind === 'exec' && isProbe(c.text))).to.equal(true);
    expect(calls.find((c) => c.host === '10.0.0.1')?.text).to.contain('[ -w /var/lib ]');
    expect(readFileSync(journalFile, 'utf8')).to.equal(journalBefore);
  });

  it('refuses under --dry-run too, for sudo that asks for a password', async () => {
    const inv = inventory({ ansible_become: true });
    await writeJournal(inv, true);
    const calls: RecordedCall[] = [];
    const answer = (_h: string, command: string): Partial<ExecResult> =>
      isProbe(command) ? { exitCode: 1, stdout: '', stderr: 'sudo: a password is required\n' } : {};
    const attempt = rollbackCluster({
      inventory: inv,
      dryRun: true,
      connect: { openTransports: (specs) => Promise.resolve(new Map(specs.map((s) => [s.host, new FakeTransport(s.host, calls, answer)]))) },
    });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RefusedError);
    expect((error as Error).message)
      .to.contain('etcd-10.0.0.1 (10.0.0.1): commands cannot run as deploy through sudo -n')
      .and.to.contain('NOPASSWD');
    expect(calls.every((c) => isProbe(c.text))).to.equal(true);
  });

  for (const [title, vars] of [
    ['as deploy with become', { ansible_become: true }],
    ['logged in as root', { ansible_user: 'root' }],
  ] as const) {
    it(`proceeds ${title}: the probe first, then the rollback's own commands on the members`, async () => {
      const { error, report, calls, journalFile } = await rollback(vars, 0, false);
      expect(error).to.equal(undefined);
      expect(report?.status).to.equal('aborted');
      expect(report?.exitCode).to.equal(ExitCode.ok);
      const firstOther = calls.findIndex((c) => !isProbe(c.text));
      expect(firstOther, 'the rollback ran commands after the check').to.be.greaterThan(0);
      expect(calls.slice(0, firstOther).every((c) => isProbe(c.text))).to.equal(true);
      expect(calls.slice(firstOther).every((c) => !isProbe(c.text))).to.equal(true);
      // Only the scratch had to go: the kube host is neither probed nor touched.
      expect(
        calls
          .filter((c) => isProbe(c.text))
          .map((c) => c.host)
          .sort(),
      ).to.deep.equal(memberNames);
      expect(calls.some((c) => c.host === '10.0.0.9')).to.equal(false);
      expect((JSON.parse(readFileSync(journalFile, 'utf8')) as RestoreJournal).status).to.equal('aborted');
    });
  }
});
