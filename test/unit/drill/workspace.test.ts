// The drill's temporary folder: owner-only, removed on exit, and what a killed drill left behind cleaned
// up by the next one (its members stopped by pid only when they run from that folder).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanStaleWorkspaces, DrillWorkspace, isAlive, WORKSPACE_PREFIX } from '../../../src/drill/workspace.js';

/** A process whose command line names `dir` (sh's $0), as an etcd member's names its data dir. */
function sleeperIn(dir: string): number {
  const child = spawn('/bin/sh', ['-c', 'sleep 60', dir], { stdio: 'ignore', detached: true });
  child.unref();
  return child.pid!;
}

async function deadPid(): Promise<number> {
  const child = spawn('/bin/true');
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('drill workspace', () => {
  let parent: string;
  const started: number[] = [];
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'orchestrate-ws-test-'));
  });
  afterEach(async () => {
    for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await rm(parent, { recursive: true, force: true });
  });

  it('is created 0700 with an owner record, and removed', async () => {
    const workspace = await DrillWorkspace.create(parent);
    expect((await stat(workspace.dir)).mode & 0o777).to.equal(0o700);
    await workspace.remove();
    await stat(workspace.dir).then(
      () => expect.fail('still there'),
      (error: unknown) => expect((error as NodeJS.ErrnoException).code).to.equal('ENOENT'),
    );
  });

  it('the exit hook kills tracked members and removes the folder synchronously', async () => {
    const workspace = await DrillWorkspace.create(parent);
    const pid = sleeperIn(workspace.dir);
    started.push(pid);
    workspace.trackPid(pid);
    workspace.killAndRemoveSync();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(pid)).to.equal(false);
    await stat(workspace.dir).then(
      () => expect.fail('still there'),
      () => undefined,
    );
    await workspace.remove();
  });

  it("cleans what a killed drill left: members stopped by pid, folder removed; a live drill's folder is left alone", async () => {
    const stale = join(parent, `${WORKSPACE_PREFIX}stale`);
    await mkdir(stale, { mode: 0o700 });
    const member = sleeperIn(stale);
    const unrelated = sleeperIn('/somewhere/else');
    started.push(member, unrelated);
    await writeFile(join(stale, 'owner.json'), JSON.stringify({ pid: await deadPid(), startedAt: '', etcdPids: [member, unrelated] }));
    const live = join(parent, `${WORKSPACE_PREFIX}live`);
    await mkdir(live, { mode: 0o700 });
    await writeFile(join(live, 'owner.json'), JSON.stringify({ pid: unrelated, startedAt: '', etcdPids: [] }));

    const cleaned = await cleanStaleWorkspaces(parent);
    expect(cleaned).to.deep.equal({ dirs: [stale], killed: [member] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(member)).to.equal(false);
    expect(isAlive(unrelated), 'a pid whose command line does not name the folder is never killed').to.equal(true);
    expect((await stat(live)).isDirectory()).to.equal(true);
  });
});
