import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RefusedError } from '../../../../src/errors.js';
import {
  acquireBackupLocks,
  acquireRestoreLock,
  acquireRunLock,
  backupLockPath,
  describeHolder,
  holderState,
  processStartTime,
  restoreLockPath,
  withRunLock,
  type RunLockHolder,
} from '../../../../src/etcd/restore/run-lock.js';

const options = { kind: 'restore' as const, subject: 'etcd cluster "etcd-cluster-0"', command: ['orchestrate', 'restore', 'inv.yml', '--yes'] };
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const lockModule = join(repoRoot, 'src', 'etcd', 'restore', 'run-lock.ts');

/** A holder record as another process would have written it. */
function record(overrides: Partial<RunLockHolder>): RunLockHolder {
  return {
    version: 1,
    kind: 'restore',
    pid: 1,
    user: 'root',
    host: hostname(),
    runId: '20261205T010000Z',
    startedAt: new Date(Date.now() - 3_600_000).toISOString(),
    command: ['orchestrate', 'restore', 'other.yml', '--yes'],
    ...overrides,
  };
}

function refusal(error: unknown): RefusedError {
  expect(error).to.be.instanceOf(RefusedError);
  return error as RefusedError;
}

/** A pid that was alive a moment ago and is not any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((r) => child.on('exit', r));
  return pid;
}

interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/**
 * A separate process that says it is ready, waits for the file `go` (so several start at the same instant),
 * takes the lock, prints `held` or `refused <message>`, and then, once the file `release` exists (or at once
 * for `exit`): releases (`release`), exits without releasing (`exit`, as a second Ctrl-C does), or hangs
 * until the test kills it (`hang`).
 */
function lockChild(path: string, dir: string, index: number, then: 'release' | 'exit' | 'hang'): { pid: number; done: Promise<ChildOutcome> } {
  const file = (name: string): string => JSON.stringify(join(dir, name));
  const script = `
    import { existsSync, writeFileSync } from 'node:fs';
    const { acquireRunLock } = await import(${JSON.stringify(lockModule)});
    const wait = async (f) => { while (!existsSync(f)) await new Promise((r) => setTimeout(r, 5)); };
    writeFileSync(${file(`ready-${index}`)}, '');
    await wait(${file('go')});
    let lock;
    try {
      lock = await acquireRunLock(${JSON.stringify(path)}, { kind: 'restore', subject: 'the test cluster', command: ['child'] });
    } catch (error) {
      process.stdout.write('refused ' + error.message + '\\n');
      process.exit(5);
    }
    process.stdout.write('held ' + lock.notes.join(' ') + '\\n');
    if (${JSON.stringify(then)} === 'exit') process.exit(130);
    if (${JSON.stringify(then)} === 'hang') await new Promise(() => setInterval(() => undefined, 1000));
    await wait(${file('release')});
    await lock.release();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const done = new Promise<ChildOutcome>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out })));
  return { pid: child.pid!, done };
}

/** Bounded wait for a condition on the file system. */
async function until(check: () => boolean, what: string): Promise<void> {
  // Generous: each child starts Node with tsx, which takes seconds on a loaded 2-core machine.
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Start `count` children, let them go at once; once all but the holder have answered, release it. */
async function race(path: string, dir: string, count: number): Promise<{ outcomes: ChildOutcome[]; pids: number[] }> {
  const children = Array.from({ length: count }, (_, i) => lockChild(path, dir, i, 'release'));
  await until(() => children.every((_, i) => existsSync(join(dir, `ready-${i}`))), 'every child to be ready');
  writeFileSync(join(dir, 'go'), '');
  let answered = 0;
  for (const c of children) void c.done.then(() => answered++);
  await until(() => answered >= count - 1, 'all but one to answer');
  writeFileSync(join(dir, 'release'), '');
  return { outcomes: await Promise.all(children.map((c) => c.done)), pids: children.map((c) => c.pid) };
}

describe('run lock: one restore (or backup) of a cluster at a time on the deploy host', function () {
  this.timeout(90_000);
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'run-lock-test-'));
    path = restoreLockPath(join(dir, '.orchestrate', 'restore-journal', 'etcd-cluster-0.json'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lives beside the journal (restore) or the catalog (backup)', () => {
    expect(restoreLockPath('/inv/.orchestrate/restore-journal/etcd-cluster-0.json')).to.equal(
      '/inv/.orchestrate/restore-journal/etcd-cluster-0.lock',
    );
    expect(backupLockPath('/inv/.orchestrate/catalog/etcd-cluster-0.jsonl')).to.equal('/inv/.orchestrate/catalog/etcd-cluster-0.backup.lock');
  });

  it('records who holds it (pid and its start time, user, deploy host, run, start, command), owner-only, and release removes it', async () => {
    const lock = await acquireRunLock(path, { ...options, runId: 'r1' });
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as RunLockHolder;
    expect(onDisk).to.deep.include({ version: 1, kind: 'restore', pid: process.pid, host: hostname(), runId: 'r1', command: options.command });
    expect(onDisk.processStart).to.equal(processStartTime(process.pid)).and.to.match(/^\d+$/);
    expect(onDisk.user).to.be.a('string').and.not.equal('');
    expect(Date.now() - new Date(onDisk.startedAt).getTime()).to.be.within(0, 5_000);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    expect(statSync(join(dir, '.orchestrate', 'restore-journal')).mode & 0o777).to.equal(0o700);
    expect(lock.notes).to.deep.equal([]);
    await lock.release();
    expect(existsSync(path)).to.equal(false);
    await lock.release();
    // Nothing else was written: the folders the lock made are gone too.
    expect(existsSync(join(dir, '.orchestrate'))).to.equal(false);
  });

  it('a second run refuses at once (exit 5) naming the holder, and changes nothing', async () => {
    const first = await acquireRunLock(path, { ...options, runId: '20261205T050000Z' });
    const before = readFileSync(path, 'utf8');
    const started = Date.now();
    const error = await acquireRunLock(path, { ...options, command: ['orchestrate', 'restore', '--rollback'] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).to.be.below(1_000);
    const refused = refusal(error);
    expect(refused.exitCode).to.equal(5);
    expect(refused.code).to.equal('restore.locked');
    expect(refused.message)
      .to.contain(`another orchestrate restore of etcd cluster "etcd-cluster-0" is running: pid ${process.pid} (user `)
      .and.to.contain(`on ${hostname()}, run 20261205T050000Z, started ${first.holder.startedAt}`)
      .and.to.contain('orchestrate restore inv.yml --yes')
      .and.to.contain('nothing was changed');
    expect(refused.hint).to.contain(`kill ${process.pid}`).and.to.contain(path);
    expect(readFileSync(path, 'utf8')).to.equal(before);
    await first.release();
  });

  it('a lock whose process is gone is taken over, with a note naming it', async () => {
    const pid = await deadPid();
    const stale = record({ pid, runId: '20261205T010000Z' });
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify(stale), { mode: 0o600 });
    const lock = await acquireRunLock(path, options);
    expect(lock.notes).to.have.length(1);
    expect(lock.notes[0])
      .to.contain(`took over the lock ${path}`)
      .and.to.contain(`pid ${pid} `)
      .and.to.contain('run 20261205T010000Z')
      .and.to.contain('no longer running');
    expect((JSON.parse(readFileSync(path, 'utf8')) as RunLockHolder).pid).to.equal(process.pid);
    expect(readdirSync(join(dir, '.orchestrate', 'restore-journal')), 'no takeover guard left').to.deep.equal(['etcd-cluster-0.lock']);
    await lock.release();
  });

  it('a pid now used by another program (a different start time) counts as gone', async () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify(record({ pid: process.pid, processStart: '1' })));
    expect(holderState(record({ pid: process.pid, processStart: '1' }))).to.equal('dead');
    const lock = await acquireRunLock(path, options);
    expect(lock.notes[0]).to.contain('no longer running');
    await lock.release();
  });

  it('never by age alone: a day-old lock of a live process is refused', async () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const old = record({ pid: 1, processStart: processStartTime(1), startedAt: new Date(Date.now() - 86_400_000).toISOString() });
    writeFileSync(path, JSON.stringify(old));
    const refused = refusal(await acquireRunLock(path, options).catch((e: unknown) => e));
    expect(refused.message).to.contain('pid 1 (user root)').and.to.contain('(24.0 h ago)');
    expect(JSON.parse(readFileSync(path, 'utf8'))).to.deep.equal(old);
  });

  it('a lock written on another deploy host cannot be judged from here: refused, with how to clear it', async () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify(record({ pid: await deadPid(), host: 'other-deploy-host' })));
    const refused = refusal(await acquireRunLock(path, options).catch((e: unknown) => e));
    expect(refused.message).to.contain('on other-deploy-host');
    expect(refused.hint).to.contain('another deploy host (other-deploy-host)').and.to.contain(`remove ${path} by hand`);
  });

  it('a lock file it cannot read is refused, not overwritten', async () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, 'not json');
    const refused = refusal(await acquireRunLock(path, options).catch((e: unknown) => e));
    expect(refused.code).to.equal('restore.lock-damaged');
    expect(refused.message).to.contain('"not json"');
    expect(readFileSync(path, 'utf8')).to.equal('not json');
  });

  it('setRunId records the run id once known; release leaves a lock that is no longer ours alone', async () => {
    const lock = await acquireRunLock(path, options);
    await lock.setRunId('20261205T060000Z');
    expect((JSON.parse(readFileSync(path, 'utf8')) as RunLockHolder).runId).to.equal('20261205T060000Z');
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    expect(readdirSync(join(dir, '.orchestrate', 'restore-journal'))).to.deep.equal(['etcd-cluster-0.lock']);
    const other = JSON.stringify(record({ pid: 1, processStart: processStartTime(1) }));
    writeFileSync(path, other);
    await lock.release();
    expect(readFileSync(path, 'utf8')).to.equal(other);
  });

  it('withRunLock releases when the work throws', async () => {
    const error = await withRunLock(path, options, () => Promise.reject(new Error('boom'))).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('boom');
    expect(existsSync(path)).to.equal(false);
  });

  it('describes a holder as an operator reads it', () => {
    const holder = record({ pid: 4242, user: 'ops', host: 'deploy-1', runId: 'R', startedAt: '2026-12-05T05:00:00.000Z' });
    expect(describeHolder(holder, Date.parse('2026-12-05T05:03:00Z'))).to.equal(
      'pid 4242 (user ops) on deploy-1, run R, started 2026-12-05T05:00:00.000Z (3 min ago): orchestrate restore other.yml --yes',
    );
  });

  describe('a backup and a restore of the same cluster', () => {
    const catalog = (): string => join(dir, 'backups', 'catalog', 'etcd-cluster-0.jsonl');

    it('a backup takes the catalog lock and the cluster lock; both are released', async () => {
      const locks = await acquireBackupLocks(dir, 'etcd-cluster-0', catalog());
      expect(locks.map((l) => l.path)).to.deep.equal([backupLockPath(catalog()), path]);
      expect((JSON.parse(readFileSync(path, 'utf8')) as RunLockHolder).kind).to.equal('backup');
      for (const lock of locks) await lock.release();
      expect(existsSync(path) || existsSync(backupLockPath(catalog()))).to.equal(false);
    });

    it('a restore refuses while a backup runs, saying a backup can be run again', async () => {
      const locks = await acquireBackupLocks(dir, 'etcd-cluster-0', catalog());
      const refused = refusal(await acquireRestoreLock(dir, 'etcd-cluster-0').catch((e: unknown) => e));
      expect(refused.code).to.equal('restore.locked');
      expect(refused.message).to.contain('another orchestrate backup of etcd cluster "etcd-cluster-0" is running: pid ' + String(process.pid));
      expect(refused.hint).to.contain('a backup is simply run again').and.not.to.contain('continues from its journal');
      for (const lock of locks) await lock.release();
    });

    it('a backup refuses while a restore runs, and then holds no lock at all', async () => {
      const restore = await acquireRestoreLock(dir, 'etcd-cluster-0');
      const refused = refusal(await acquireBackupLocks(dir, 'etcd-cluster-0', catalog()).catch((e: unknown) => e));
      expect(refused.code).to.equal('backup.locked');
      expect(refused.message).to.contain('another orchestrate restore of etcd cluster "etcd-cluster-0" is running');
      expect(refused.hint).to.contain('a restore continues from its journal');
      expect(existsSync(backupLockPath(catalog())), 'the catalog lock was given back').to.equal(false);
      await restore.release();
    });

    it('two backups sharing a backup folder (two inventories) refuse on the catalog lock', async () => {
      const first = await acquireBackupLocks(dir, 'etcd-cluster-0', catalog());
      const otherInventory = join(dir, 'other-inventory');
      const refused = refusal(await acquireBackupLocks(otherInventory, 'etcd-cluster-0', catalog()).catch((e: unknown) => e));
      expect(refused.message).to.contain('another orchestrate backup of the backup catalog of etcd cluster "etcd-cluster-0"');
      expect(existsSync(restoreLockPath(join(otherInventory, '.orchestrate', 'restore-journal', 'etcd-cluster-0.json')))).to.equal(false);
      for (const lock of first) await lock.release();
    });
  });

  describe('between processes', () => {
    it('four runs started at the same instant: exactly one holds the lock, the others refuse naming it', async () => {
      const { outcomes, pids } = await race(path, dir, 4);
      const held = outcomes.filter((o) => o.out.startsWith('held'));
      expect(held, outcomes.map((o) => o.out).join('')).to.have.length(1);
      const winner = pids[outcomes.indexOf(held[0]!)]!;
      for (const o of outcomes.filter((x) => x !== held[0])) {
        expect(o.code).to.equal(5);
        expect(o.out).to.contain(`refused another orchestrate restore of the test cluster is running: pid ${winner} `);
      }
      expect(existsSync(path), 'released by its holder').to.equal(false);
    });

    it('four runs finding the same dead holder: exactly one takes it over', async () => {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const deadHolder = await deadPid();
      writeFileSync(path, JSON.stringify(record({ pid: deadHolder })));
      const { outcomes } = await race(path, dir, 4);
      const held = outcomes.filter((o) => o.out.startsWith('held'));
      expect(held, outcomes.map((o) => o.out).join('')).to.have.length(1);
      // The run that removed the dead lock may lose the race to create the new one: then the winner saw no dead
      // holder and says nothing, and the remover refuses naming the winner. Either way the dead lock is gone.
      expect(outcomes.filter((o) => o.code === 5)).to.have.length(3);
      expect(outcomes.map((o) => o.out).join(''), 'nobody is refused in the name of the dead holder').not.to.contain(
        `is running: pid ${deadHolder} `,
      );
      expect(readdirSync(join(dir, '.orchestrate', 'restore-journal')), 'no lock or guard left').to.deep.equal([]);
    });

    it('an exit without release (a second Ctrl-C) removes the lock; after SIGKILL the next run takes it over', async () => {
      writeFileSync(join(dir, 'go'), '');
      const exited = await lockChild(path, dir, 0, 'exit').done;
      expect(exited.code, exited.out).to.equal(130);
      expect(existsSync(path)).to.equal(false);

      const killed = lockChild(path, dir, 1, 'hang');
      await until(() => existsSync(path), 'the child to hold the lock');
      process.kill(killed.pid, 'SIGKILL');
      await killed.done;
      expect((JSON.parse(readFileSync(path, 'utf8')) as RunLockHolder).pid, 'SIGKILL leaves it').to.equal(killed.pid);
      const lock = await acquireRunLock(path, options);
      expect(lock.notes[0]).to.contain(`pid ${killed.pid} `);
      await lock.release();
    });
  });
});

describe('run lock: a run that changed nothing leaves nothing behind', () => {
  it('removes the folders the lock created, and keeps a folder that holds something else', async () => {
    const base = mkdtempSync(join(tmpdir(), 'run-lock-dirs-'));
    try {
      const lock = await acquireRunLock(join(base, '.orchestrate', 'restore-journal', 'c.lock'), { kind: 'restore', subject: 'test' });
      await lock.release();
      expect(readdirSync(base)).to.deep.equal([]);

      const kept = await acquireRunLock(join(base, '.orchestrate', 'restore-journal', 'c.lock'), { kind: 'restore', subject: 'test' });
      writeFileSync(join(base, '.orchestrate', 'restore-journal', 'c.json'), '{}');
      await kept.release();
      expect(readdirSync(join(base, '.orchestrate', 'restore-journal'))).to.deep.equal(['c.json']);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
