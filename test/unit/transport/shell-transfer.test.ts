import { createHash } from 'node:crypto';
// The shell side of transfers, with the "far side" being this machine's sh and a raw copy that can be
// made to corrupt bytes, so the verification paths run for real.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskFailedError } from '../../../src/errors.js';
import { downloadThroughShell, uploadThroughShell, type ShellFileAccess, type UploadSource } from '../../../src/transport/shell-transfer.js';
import type { ExecResult } from '../../../src/transport/types.js';

interface FakeAccess extends ShellFileAccess {
  commands: string[];
  rawPaths: string[];
}

function fakeAccess(corrupt: 'none' | 'put' | 'get' = 'none'): FakeAccess {
  const commands: string[] = [];
  const rawPaths: string[] = [];
  return {
    host: 'fake',
    loginUser: 'root',
    commands,
    rawPaths,
    run(command: string): Promise<ExecResult> {
      commands.push(command);
      const child = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
      return Promise.resolve({ exitCode: child.status, stdout: child.stdout, stderr: child.stderr, durationMs: 0 });
    },
    putRaw(source: UploadSource, farPath: string): Promise<void> {
      rawPaths.push(farPath);
      const bytes = 'path' in source ? readFileSync(source.path) : Buffer.from(source.content);
      writeFileSync(farPath, corrupt === 'put' ? Buffer.concat([bytes, Buffer.from('!')]) : bytes, { mode: 0o600, flag: 'wx' });
      return Promise.resolve();
    },
    getRaw(farPath: string, localPath: string): Promise<void> {
      rawPaths.push(farPath);
      if (corrupt === 'get') writeFileSync(localPath, 'not the same bytes', { mode: 0o600, flag: 'wx' });
      else copyFileSync(farPath, localPath);
      return Promise.resolve();
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<TaskFailedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(TaskFailedError);
    return error as TaskFailedError;
  }
  throw new Error('expected a failure');
}

const temporaries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((name) => name.includes('.orchestrate-tmp-')) : []);

describe('shell-transfer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-shell-transfer-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const sudo of [false, true]) {
    describe(sudo ? 'with sudo (staged in /tmp, install)' : 'as the login user', () => {
      it('uploads content and a file with the mode, in one far-side command after the copy', async () => {
        const access = fakeAccess();
        const dest = join(dir, "it's a file");
        const result = await uploadThroughShell(access, { content: 'hello\n' }, dest, { mode: 0o640, sudo });
        expect(readFileSync(dest, 'utf8')).to.equal('hello\n');
        expect(statSync(dest).mode & 0o777).to.equal(0o640);
        expect(result).to.deep.equal({ bytes: 6, sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' });
        expect(access.commands).to.have.length(sudo ? 2 : 1); // sudo also removes the staging file
        if (sudo) expect(access.rawPaths[0]).to.match(/^\/tmp\/orchestrate-stage-/);
        for (const path of access.rawPaths) if (sudo) expect(existsSync(path)).to.equal(false);

        const source = join(dir, 'source.bin');
        writeFileSync(source, Buffer.alloc(100_000, 7));
        await uploadThroughShell(access, { path: source }, join(dir, 'copy.bin'), { mode: 0o600, sudo });
        expect(readFileSync(join(dir, 'copy.bin')).equals(readFileSync(source))).to.equal(true);
        expect(temporaries(dir)).to.deep.equal([]);
      });

      it('refuses bytes that arrive changed and removes every temporary file', async () => {
        const access = fakeAccess('put');
        const dest = join(dir, 'target.conf');
        const error = await failure(uploadThroughShell(access, { content: 'original' }, dest, { mode: 0o600, sudo }));
        expect(error.code).to.equal('transfer.checksum');
        expect(error.message).to.match(/^fake: upload to .* failed verification: sha256 [0-9a-f]{64} on the host, [0-9a-f]{64} here$/);
        expect(existsSync(dest)).to.equal(false);
        expect(temporaries(dir)).to.deep.equal([]);
        for (const path of access.rawPaths) expect(existsSync(path)).to.equal(false);
      });

      it('checks the far side against a known sha256 instead of hashing the source again', async () => {
        const source = join(dir, 'snapshot.db');
        writeFileSync(source, 'verified bytes');
        const known = createHash('sha256').update('verified bytes').digest('hex');
        const ok = await uploadThroughShell(fakeAccess(), { path: source }, join(dir, 'copy.db'), { mode: 0o600, sudo, sha256: known });
        expect(ok.sha256).to.equal(known);
        // A source that no longer matches the hash it was verified with is refused, not copied.
        const dest = join(dir, 'refused.db');
        const error = await failure(uploadThroughShell(fakeAccess(), { path: source }, dest, { mode: 0o600, sudo, sha256: '0'.repeat(64) }));
        expect(error.code).to.equal('transfer.checksum');
        expect(existsSync(dest)).to.equal(false);
        expect(temporaries(dir)).to.deep.equal([]);
      });

      it('keeps an existing file when the new bytes fail verification', async () => {
        const dest = join(dir, 'kept.conf');
        writeFileSync(dest, 'old');
        await failure(uploadThroughShell(fakeAccess('put'), { content: 'new' }, dest, { mode: 0o600, sudo }));
        expect(readFileSync(dest, 'utf8')).to.equal('old');
      });

      it('downloads with the mode and verifies', async () => {
        const access = fakeAccess();
        const far = join(dir, 'far.db');
        writeFileSync(far, 'snapshot bytes');
        const local = join(dir, 'local', 'deeper', 'copy.db');
        const result = await downloadThroughShell(access, far, local, { mode: 0o600, sudo });
        expect(readFileSync(local, 'utf8')).to.equal('snapshot bytes');
        expect(statSync(local).mode & 0o777).to.equal(0o600);
        expect(statSync(join(dir, 'local')).mode & 0o777).to.equal(0o700);
        expect(result.bytes).to.equal(14);
        if (sudo) expect(existsSync(access.rawPaths[0]!)).to.equal(false);
      });

      it('never leaves an unverified file at the local path', async () => {
        const far = join(dir, 'far.db');
        writeFileSync(far, 'snapshot bytes');
        const local = join(dir, 'out', 'copy.db');
        const error = await failure(downloadThroughShell(fakeAccess('get'), far, local, { mode: 0o600, sudo }));
        expect(error.code).to.equal('transfer.checksum');
        expect(existsSync(local)).to.equal(false);
        expect(temporaries(join(dir, 'out'))).to.deep.equal([]);

        const missing = await failure(downloadThroughShell(fakeAccess(), join(dir, 'nope.db'), local, { mode: 0o600, sudo }));
        expect(missing.code).to.equal('transfer.failed');
        expect(missing.message).to.contain(`fake: cannot read ${join(dir, 'nope.db')}`);
        expect(existsSync(local)).to.equal(false);
      });
    });
  }

  it('refuses to put a file over a directory', async () => {
    mkdirSync(join(dir, 'a-dir'));
    const error = await failure(uploadThroughShell(fakeAccess(), { content: 'x' }, join(dir, 'a-dir'), { mode: 0o600, sudo: false }));
    expect(error.message).to.contain('a-dir is a directory');
    expect(temporaries(dir)).to.deep.equal([]);
    expect(readdirSync(join(dir, 'a-dir'))).to.deep.equal([]);
  });

  it('names a missing local source', async () => {
    const error = await failure(uploadThroughShell(fakeAccess(), { path: join(dir, 'absent') }, join(dir, 'dest'), { mode: 0o600, sudo: false }));
    expect(error.message).to.contain(`fake: cannot read the local file ${join(dir, 'absent')}`);
  });
});
