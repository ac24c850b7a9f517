import { expect } from 'chai';
import { CommandFailedError, execFailure, mustSucceed, outputTail, succeeded } from '../../../src/transport/exec-result.js';
import type { ExecResult } from '../../../src/transport/types.js';

const result = (fields: Partial<ExecResult>): ExecResult => ({ exitCode: 0, stdout: '', stderr: '', durationMs: 1200, ...fields });

describe('exec results, judged in one place', () => {
  it('succeeded means exit 0 within the deadline', () => {
    expect(succeeded(result({}))).to.equal(true);
    expect(succeeded(result({ exitCode: 1 }))).to.equal(false);
    expect(succeeded(result({ exitCode: 0, timedOut: true }))).to.equal(false);
    expect(succeeded(result({ exitCode: null, signal: 'SIGKILL' }))).to.equal(false);
  });

  it('says why a command failed and what it printed last', () => {
    expect(execFailure(result({ exitCode: 2 }))).to.equal('non-zero return code');
    expect(execFailure(result({ exitCode: 137 }))).to.equal('non-zero return code (137 = 128 + 9: killed by SIGKILL?)');
    expect(execFailure(result({ exitCode: null, signal: 'SIGTERM' }))).to.equal('command killed by SIGTERM');
    expect(execFailure(result({ exitCode: null }))).to.equal('command ended without an exit status');
    expect(execFailure(result({ exitCode: 143, timedOut: true }))).to.equal('command timed out after 1s');
    expect(outputTail(result({ stderr: 'a\nb\nc\nd\n', stdout: 'ignored' }))).to.equal('b | c | d');
    expect(outputTail(result({ stdout: 'only stdout\n' }))).to.equal('only stdout');
    expect(outputTail(result({}))).to.equal('no output');
  });

  it('mustSucceed returns a good result and throws one message shape for a bad one, with the result attached', () => {
    const good = result({ stdout: 'fine' });
    expect(mustSucceed(good, 'etcd1: cannot write /x')).to.equal(good);
    const bad = result({ exitCode: 1, stderr: 'mv: cannot move: Permission denied\n' });
    let error: unknown;
    try {
      mustSucceed(bad, 'etcd1: cannot write /x', { code: 'transfer.failed', hint: 'check the folder' });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(CommandFailedError);
    const failed = error as CommandFailedError;
    expect(failed.message).to.equal('etcd1: cannot write /x: non-zero return code: mv: cannot move: Permission denied');
    expect(failed).to.deep.include({ code: 'transfer.failed', hint: 'check the folder', result: bad, exitCode: 3 });
  });
});
