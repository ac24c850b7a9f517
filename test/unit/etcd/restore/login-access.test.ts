import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeLoginAccess, loginAccessCommand } from '../../../../src/etcd/restore/login-access.js';
import type { ExecResult } from '../../../../src/transport/types.js';

const probe = (stdout: string, extra: Partial<ExecResult> = {}) => ({ exitCode: 0, stdout, stderr: '', ...extra });

describe('judgeLoginAccess', () => {
  it('accepts root with the data dir parent writable', () => {
    expect(judgeLoginAccess(probe('orchestrate-access 0 root\nyes\n'), { user: 'deploy', become: true }, ['/var/lib']).problems).to.deep.equal([]);
  });

  it('refuses a non-root user without become, naming the user, what it cannot do and the fix', () => {
    const { problems } = judgeLoginAccess(probe('orchestrate-access 2000 deploy\nno\n'), { user: 'deploy', become: false }, ['/var/lib']);
    expect(problems).to.have.length(1);
    expect(problems[0])
      .to.contain('commands run as deploy (uid 2000), not root')
      .and.to.contain('cannot write /var/lib')
      .and.to.contain('set ansible_become: true');
  });

  it('refuses a non-root user even where the parent is writable: units still need root', () => {
    const { problems } = judgeLoginAccess(probe('orchestrate-access 2000 deploy\nyes\n'), { user: 'deploy', become: false }, ['/home/deploy']);
    expect(problems[0]).to.contain('stops and starts etcd').and.not.to.contain('cannot write');
  });

  it('names sudo and NOPASSWD when become cannot get through sudo -n', () => {
    const { problems } = judgeLoginAccess(probe('', { exitCode: 1, stderr: 'sudo: a password is required\n' }), { user: 'deploy', become: true }, [
      '/var/lib',
    ]);
    expect(problems[0]).to.contain('through sudo -n').and.to.contain('a password is required').and.to.contain('NOPASSWD');
  });

  it('refuses root on a parent it cannot write (read-only mount or missing)', () => {
    const { problems } = judgeLoginAccess(probe('orchestrate-access 0 root\nno\n'), { user: 'root', become: false }, ['/srv/etcd']);
    expect(problems[0]).to.contain('/srv/etcd is missing or not writable even by root');
  });
});

describe('loginAccessCommand', () => {
  it('reports uid, user and each dir in order, a hostile dir name staying one word', function () {
    if (process.getuid?.() !== 0) this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'orchestrate-access-'));
    try {
      const hostile = join(dir, "x'; touch pwned; echo '");
      mkdirSync(hostile);
      const readOnly = join(dir, 'ro');
      mkdirSync(readOnly);
      chmodSync(readOnly, 0o555);
      const out = execFileSync('sh', ['-c', loginAccessCommand([hostile, join(dir, 'missing'), readOnly])], { cwd: dir }).toString();
      // root writes a 0555 dir: -w answers for the user the commands run as.
      expect(out).to.equal('orchestrate-access 0 root\nyes\nno\nyes\n');
      expect(() => execFileSync('test', ['-e', join(dir, 'pwned')])).to.throw();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
