import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdMember } from '../../../../src/config/types.js';
import { statusOverSshCommand } from '../../../../src/etcd/cluster/observe-over-ssh.js';

const member: EtcdMember = {
  host: '10.0.0.1',
  name: 'm1',
  address: '10.0.0.1',
  peerUrl: 'https://10.0.0.1:2380',
  clientUrl: 'https://10.0.0.1:2379',
  dataDir: '/var/lib/etcd',
  token: 't',
  service: 'etcd',
};

/** Runs the command through /bin/sh with a stand-in etcdctl that logs its calls and answers or fails. */
function runWith(answers: boolean): { calls: string[]; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'observe-ssh-'));
  try {
    const log = join(dir, 'calls');
    writeFileSync(log, '');
    const fake = `#!/bin/sh\necho "$*" >> ${log}\n${answers ? 'echo "[]"' : 'echo "dial timeout" >&2; exit 1'}\n`;
    writeFileSync(join(dir, 'etcdctl'), fake);
    chmodSync(join(dir, 'etcdctl'), 0o755);
    let stdout = '';
    try {
      stdout = execFileSync('/bin/sh', ['-c', statusOverSshCommand(member, {}, 2)], {
        env: { PATH: `${dir}:/usr/bin:/bin` },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch (error) {
      stdout = (error as { stdout?: string }).stdout ?? '';
    }
    return { calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean), stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('statusOverSshCommand: status, then the member list, asked on the member', () => {
  it('asks for the member list after a status that answered', () => {
    const { calls, stdout } = runWith(true);
    expect(calls.map((c) => c.split(' ').slice(-4).join(' '))).to.deep.equal(['endpoint status -w json', 'member list -w json']);
    expect(stdout).to.contain('==orchestrate-member-list==');
  });
  it('does not ask a member that did not answer a second time (no second dial timeout per poll)', () => {
    const { calls, stdout } = runWith(false);
    expect(calls).to.have.length(1);
    expect(calls[0]).to.contain('endpoint status');
    expect(stdout).to.not.contain('==orchestrate-member-list==');
  });
});
