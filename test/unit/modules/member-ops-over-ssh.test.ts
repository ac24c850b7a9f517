// The membership steps of a replace on an inventory without a client certificate for the deploy host
// (kubeadm's): every question goes to etcdctl on a member over the run's SSH runner, here a fake cluster
// behind that runner that answers as etcdctl does.
import { expect } from 'chai';
import { parseInventory } from '../../../src/config/inventory.js';
import { etcdAccess } from '../../../src/config/etcd-vars.js';
import { hostRunnerKey } from '../../../src/modules/host-runner.js';
import { etcdMemberAddModule, etcdMemberPromoteModule, etcdMemberRemoveModule } from '../../../src/modules/recover/member-ops.js';
import { replaceProgress } from '../../../src/modules/recover/replace-state.js';
import { RunState } from '../../../src/modules/run-state.js';
import type { ExecResult } from '../../../src/transport/types.js';
import { context, drive, runCall } from './drive.js';

const text = `all:
  vars:
    etcd_topology: kubeadm
  children:
    etcd:
      hosts:
        10.0.0.1:
        10.0.0.2:
        10.0.0.3:
`;

interface FakeMember {
  host: string;
  id: bigint;
  peerUrl: string;
  learner: boolean;
  up: boolean;
}

const result = (stdout: string, exitCode = 0, stderr = ''): ExecResult => ({ exitCode, stdout, stderr, durationMs: 1 });

/** Three members answering etcdctl's commands as etcd would; 10.0.0.1 leads. Ids above 2^53. */
class FakeCluster {
  members: FakeMember[] = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((host, i) => ({
    host,
    id: 10_000_000_000_000_000_000n + BigInt(i),
    peerUrl: `https://${host}:2380`,
    learner: false,
    up: true,
  }));
  calls: { host: string; command: string }[] = [];
  /** Promotions etcd refuses first (the learner is behind). */
  behind = 1;
  private nextId = 15_000_000_000_000_000_000n;

  private list(): string {
    const entries = this.members.map(
      (m) => `{"ID":${m.id},"name":"etcd-${m.host}","peerURLs":["${m.peerUrl}"]${m.learner ? ',"isLearner":true' : ''}}`,
    );
    return `{"header":{"cluster_id":7},"members":[${entries.join(',')}]}`;
  }

  run = (host: string, command: string): Promise<ExecResult> => {
    this.calls.push({ host, command });
    const self = this.members.find((m) => m.host === host);
    if (!self?.up) return Promise.resolve(result('', 1, 'Error: context deadline exceeded'));
    const leader = this.members[0]!;
    const hexArg = (verb: string) => BigInt(`0x${new RegExp(`member ${verb} ([0-9a-f]+)`).exec(command)?.[1] ?? '0'}`);
    if (command.includes('endpoint status')) {
      const status = `[{"Endpoint":"x","Status":{"header":{"cluster_id":7,"member_id":${self.id},"revision":42},"leader":${leader.id},"raftIndex":100,"raftTerm":3${self.learner ? ',"isLearner":true' : ''}}}]`;
      return Promise.resolve(result(`${status}\n==orchestrate-member-list==\n${this.list()}`));
    }
    if (command.includes('member list')) return Promise.resolve(result(this.list()));
    if (command.includes('member remove')) {
      const id = hexArg('remove');
      this.members = this.members.filter((m) => m.id !== id);
      return Promise.resolve(result(`Member ${id.toString(16)} removed`));
    }
    if (command.includes('member add')) {
      const peerUrl = /--peer-urls=([^' ]+)/.exec(command)?.[1] ?? '';
      const added = { host: new URL(peerUrl).hostname, id: this.nextId++, peerUrl, learner: command.includes('--learner'), up: true };
      this.members.push(added);
      return Promise.resolve(result(`{"header":{},"member":{"ID":${added.id},"peerURLs":["${peerUrl}"],"isLearner":true},"members":[]}`));
    }
    if (command.includes('member promote')) {
      if (this.behind-- > 0)
        return Promise.resolve(result('', 1, 'Error: etcdserver: can only promote a learner member which is in sync with leader'));
      const id = hexArg('promote');
      for (const m of this.members) if (m.id === id) m.learner = false;
      return Promise.resolve(result('Member promoted'));
    }
    if (command.includes('lease grant')) return Promise.resolve(result('lease 1f granted with TTL(30s)'));
    if (command.includes('lease revoke')) return Promise.resolve(result('lease 1f revoked'));
    return Promise.resolve(result('', 1, `unexpected: ${command}`));
  };
}

function setUp(target = '10.0.0.2') {
  const { inventory } = parseInventory('/inv/hosts.yml', text);
  const cluster = new FakeCluster();
  const state = new RunState();
  state.set(hostRunnerKey, (host, command) => cluster.run(host, command));
  const host = inventory.hosts.get(target)!;
  return { cluster, state, ctx: context({ host, inventory, state }) };
}

/** The etcdctl subcommand of a call ("member remove 8ac…"), without the flags. */
const verb = (command: string) => command.replace(/^.*"\$@" /, '');

describe('member remove, add and promote over SSH (etcd_access: ssh)', function () {
  this.timeout(10_000);

  it('is how this inventory reaches etcd: https members, no client certificate here', () => {
    expect(etcdAccess(parseInventory('/inv/hosts.yml', text).inventory)).to.equal('ssh');
  });

  it("removes the member through etcdctl on the leader, with the leader's own kubeadm client certificate; a second send changes nothing", async () => {
    const { cluster, ctx } = setUp();
    const removed = await drive(etcdMemberRemoveModule, { timeout_seconds: 5 }, () => runCall, ctx);
    expect(removed.outcome.changed).to.equal(true);
    expect(cluster.members.map((m) => m.host)).to.deep.equal(['10.0.0.1', '10.0.0.3']);
    const removal = cluster.calls.find((c) => c.command.includes('member remove'));
    expect(removal?.host).to.equal('10.0.0.1');
    expect(verb(removal?.command ?? '')).to.equal(`member remove ${10_000_000_000_000_000_001n.toString(16)}`);
    expect(removal?.command).to.contain("'--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt'");
    expect(removal?.command).to.contain("'--endpoints=https://10.0.0.1:2379'");
    const again = await drive(etcdMemberRemoveModule, { timeout_seconds: 5 }, () => runCall, ctx);
    expect(again.outcome.changed).to.equal(false);
    expect(cluster.calls.filter((c) => c.command.includes('member remove'))).to.have.length(1);
  });

  it('refuses the removal when the others would not hold the quorum, asking the members over SSH', async () => {
    const { cluster, ctx } = setUp();
    cluster.members[2]!.up = false;
    const refused = await drive(etcdMemberRemoveModule, { timeout_seconds: 1 }, () => runCall, ctx);
    expect(refused.outcome.failed).to.equal(true);
    expect(refused.outcome.msg).to.match(/would lose quorum: .* only 1 other is \(10\.0\.0\.1\)/);
    expect(cluster.calls.some((c) => c.command.includes('member remove'))).to.equal(false);
    expect(cluster.members).to.have.length(3);
  });

  it('adds it back as a learner with its peer URL, then promotes it once etcd says it is in sync, and waits for every voter', async () => {
    const { cluster, ctx, state } = setUp();
    await drive(etcdMemberRemoveModule, { timeout_seconds: 5 }, () => runCall, ctx);
    const added = await drive(etcdMemberAddModule, { timeout_seconds: 5 }, () => runCall, ctx);
    expect(added.outcome.changed).to.equal(true);
    const learner = cluster.members.find((m) => m.host === '10.0.0.2');
    expect(learner?.learner).to.equal(true);
    expect(state.get(replaceProgress).get('10.0.0.2')?.addedId).to.equal(learner?.id.toString(16));
    const promoted = await drive(etcdMemberPromoteModule, { timeout_seconds: 5 }, () => runCall, ctx);
    expect(promoted.outcome.msg).to.match(/^promoted; caught up at revision 42; 3 voting members have committed index 100$/);
    expect(cluster.members.every((m) => !m.learner)).to.equal(true);
    // A refused promotion was retried; the barrier's lease was granted and revoked on a peer, never on the target.
    expect(cluster.calls.filter((c) => c.command.includes('member promote'))).to.have.length(2);
    const changes = cluster.calls.filter((c) => /member (add|remove|promote)|lease/.test(c.command));
    expect(changes.map((c) => c.host).filter((h) => h === '10.0.0.2')).to.deep.equal([]);
    expect(changes.map((c) => verb(c.command).split(' ').slice(0, 2).join(' '))).to.include.members(['lease grant', 'lease revoke']);
  });
});
