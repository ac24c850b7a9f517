import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdMember } from '../../../../src/config/types.js';
import { membershipOverSsh } from '../../../../src/etcd/cluster/membership-over-ssh.js';
import type { RunOnHost } from '../../../../src/etcd/cluster/observe-over-ssh.js';
import type { ExecResult } from '../../../../src/transport/types.js';

const peer: EtcdMember = {
  host: '10.0.0.2',
  name: 'm2',
  address: '10.0.0.2',
  peerUrl: 'https://10.0.0.2:2380',
  clientUrl: 'https://10.0.0.2:2379',
  dataDir: '/var/lib/etcd',
  token: 't',
  service: 'etcd',
};

const done = (stdout: string, exitCode = 0, stderr = ''): ExecResult => ({ exitCode, stdout, stderr, durationMs: 1 });

/** A runner that answers each command from `answer` and records where and what it ran. */
function recording(answer: (command: string) => ExecResult): { run: RunOnHost; calls: { host: string; command: string }[] } {
  const calls: { host: string; command: string }[] = [];
  return {
    calls,
    run: (host, command) => {
      calls.push({ host, command });
      return Promise.resolve(answer(command));
    },
  };
}

// uint64 ids above 2^53 (a JS number would round them), as etcdctl prints them in JSON.
const big = '12733338862574412123';
const bigHex = BigInt(big).toString(16);

describe('membershipOverSsh: the membership calls through etcdctl on a healthy member', () => {
  it('reads the member list with ids as hex, unrounded, and learners flagged', async () => {
    const { run, calls } = recording(() =>
      done(
        `{"header":{"cluster_id":1,"member_id":${big}},"members":[{"ID":${big},"name":"m2","peerURLs":["https://10.0.0.2:2380"],"clientURLs":["https://10.0.0.2:2379"]},{"ID":17,"peerURLs":["https://10.0.0.3:2380"],"isLearner":true}]}`,
      ),
    );
    const client = membershipOverSsh(run, peer, { ca: '/pki/ca.crt', cert: '/pki/c.crt', key: '/pki/c.key' }, 5_000);
    const { members } = await client.memberList();
    expect(members).to.deep.equal([
      { id: bigHex, name: 'm2', peerUrls: ['https://10.0.0.2:2380'], clientUrls: ['https://10.0.0.2:2379'], isLearner: false },
      { id: '11', name: '', peerUrls: ['https://10.0.0.3:2380'], clientUrls: [], isLearner: true },
    ]);
    expect(calls).to.have.length(1);
    expect(calls[0]?.host).to.equal('10.0.0.2');
    expect(calls[0]?.command).to.contain("'--endpoints=https://10.0.0.2:2379' '--cacert=/pki/ca.crt' '--cert=/pki/c.crt' '--key=/pki/c.key'");
    expect(calls[0]?.command).to.match(/member list -w json$/);
  });

  it('adds a learner and returns its new id; removes and promotes by hex id', async () => {
    const { run, calls } = recording((command) =>
      command.includes('member add')
        ? done(`{"header":{},"member":{"ID":${big},"peerURLs":["https://10.0.0.3:2380"],"isLearner":true},"members":[]}`)
        : done(''),
    );
    const client = membershipOverSsh(run, peer, {}, 5_000);
    const added = await client.memberAdd(['https://10.0.0.3:2380'], true, 'm3');
    expect(added.id).to.equal(bigHex);
    await client.memberRemove(bigHex);
    await client.memberPromote('11');
    expect(calls.map((c) => c.command.replace(/^.*"\$@" /, ''))).to.deep.equal([
      "member add m3 '--peer-urls=https://10.0.0.3:2380' --learner -w json",
      `member remove ${bigHex}`,
      'member promote 11',
    ]);
  });

  it("fails with etcdctl's own message (the replace steps retry on etcd's refusals by it)", async () => {
    const { run } = recording(() => done('', 1, '{"level":"warn"}\nError: etcdserver: unhealthy cluster'));
    const client = membershipOverSsh(run, peer, {}, 5_000);
    let message = '';
    await client.memberRemove('11').catch((error: unknown) => (message = (error as Error).message));
    expect(message).to.equal('m2 member remove (etcdctl on 10.0.0.2): etcdserver: unhealthy cluster');
  });

  it('refuses an id that is not hex before running anything', async () => {
    const { run, calls } = recording(() => done(''));
    const client = membershipOverSsh(run, peer, {}, 5_000);
    let message = '';
    await client.memberRemove('1; reboot').catch((error: unknown) => (message = (error as Error).message));
    expect(message).to.contain('not a member id');
    expect(calls).to.have.length(0);
  });

  it('the barrier grants a lease, then revokes that lease', async () => {
    const { run, calls } = recording((command) =>
      command.includes('lease grant') ? done('lease 694d7b1c0b2a4b05 granted with TTL(30s)\n') : done(''),
    );
    await membershipOverSsh(run, peer, {}, 5_000).raftBarrier();
    expect(calls.map((c) => c.command.replace(/^.*"\$@" /, ''))).to.deep.equal(['lease grant 30', 'lease revoke 694d7b1c0b2a4b05']);
  });

  it('passes every value to etcdctl as one word through the shell, whatever it contains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'membership-ssh-'));
    try {
      const log = join(dir, 'args');
      // The stand-in etcdctl writes each argument on its own line.
      writeFileSync(join(dir, 'etcdctl'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > ${log}\n`);
      chmodSync(join(dir, 'etcdctl'), 0o755);
      const run: RunOnHost = (_host, command) => {
        execFileSync('/bin/sh', ['-c', command], { env: { PATH: `${dir}:/usr/bin:/bin` }, stdio: 'ignore' });
        return Promise.resolve(done(''));
      };
      const odd = "/pki/it's $(touch pwned) dir/c.crt";
      await membershipOverSsh(run, peer, { ca: '/pki/ca.crt', cert: odd, key: '/pki/k.key' }, 5_000).memberPromote('ab');
      const args = readFileSync(log, 'utf8').trim().split('\n');
      expect(args).to.include(`--cert=${odd}`);
      expect(args.slice(-3)).to.deep.equal(['member', 'promote', 'ab']);
      expect(readdirSync(dir)).to.not.include('pwned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
