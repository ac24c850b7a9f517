import { expect } from 'chai';
import { judgeHealth as clusterVerdict, parseMemberErrors, quorumSize } from '../../../../src/etcd/cluster/health.js';
import type { MemberObservation as MemberSummary } from '../../../../src/etcd/cluster/observe.js';

/** A member of a healthy cluster `c1` whose leader is m1 (etcd1). */
function up(index: number, overrides: Partial<MemberSummary> = {}): MemberSummary {
  return {
    name: `etcd${index}`,
    host: `10.0.0.${index}`,
    endpoint: `https://10.0.0.${index}:2379`,
    ok: true,
    isLeader: index === 1,
    leaderId: 'm1',
    isLearner: false,
    memberId: `m${index}`,
    clusterId: 'c1',
    revision: 100,
    dbSize: 4096,
    version: '3.4.23',
    durationMs: 3,
    ...overrides,
  };
}

function down(index: number): MemberSummary {
  return {
    name: `etcd${index}`,
    host: `10.0.0.${index}`,
    endpoint: `https://10.0.0.${index}:2379`,
    ok: false,
    error: `connection refused at 10.0.0.${index}:2379`,
    durationMs: 1,
  };
}

/** n members, the last k of them down (the leader, etcd1, stays up while any member does). */
function cluster(n: number, k: number): MemberSummary[] {
  return Array.from({ length: n }, (_, i) => (i >= n - k ? down(i + 1) : up(i + 1)));
}

describe('cluster verdict (status exit 7)', () => {
  it('quorum sizes: a majority of the voting members', () => {
    expect([1, 2, 3, 4, 5, 7].map(quorumSize)).to.deep.equal([1, 2, 2, 3, 3, 4]);
  });

  // Every member count the README talks about, every number of members down.
  const table: { n: number; k: number; held: boolean }[] = [
    { n: 1, k: 0, held: true },
    { n: 1, k: 1, held: false },
    { n: 2, k: 0, held: true },
    { n: 2, k: 1, held: false },
    { n: 2, k: 2, held: false },
    { n: 3, k: 0, held: true },
    { n: 3, k: 1, held: true },
    { n: 3, k: 2, held: false },
    { n: 3, k: 3, held: false },
    { n: 5, k: 0, held: true },
    { n: 5, k: 1, held: true },
    { n: 5, k: 2, held: true },
    { n: 5, k: 3, held: false },
    { n: 5, k: 5, held: false },
  ];
  for (const { n, k, held } of table) {
    it(`${n} member(s), ${k} down: quorum ${held ? 'held' : 'lost'}${held && k > 0 ? ', warning; unhealthy with --require-all-members' : ''}`, () => {
      const verdict = clusterVerdict(cluster(n, k));
      expect(verdict.quorum).to.deep.equal({ members: n, needed: quorumSize(n), healthy: n - k, held });
      expect(verdict.splitBrain).to.equal(false);
      if (held) {
        expect(verdict.unhealthyReasons).to.deep.equal([]);
        expect(verdict.warnings).to.have.length(k);
        for (let i = n - k + 1; i <= n; i++)
          expect(verdict.warnings.join('\n')).to.contain(`member etcd${i} is down: connection refused at 10.0.0.${i}:2379`);
      } else {
        expect(verdict.unhealthyReasons).to.have.length(1);
        expect(verdict.unhealthyReasons[0]).to.match(new RegExp(`^${n - k} of ${n} members healthy, quorum needs ${quorumSize(n)}`));
        expect(verdict.warnings).to.deep.equal([]);
      }
      const strict = clusterVerdict(cluster(n, k), { requireAllMembers: true });
      expect(strict.unhealthyReasons.length > 0, 'unhealthy with --require-all-members').to.equal(k > 0);
      expect(strict.warnings).to.deep.equal([]);
    });
  }

  it('names the members that are down and what they answered, and the margin left', () => {
    const lost = clusterVerdict(cluster(3, 2));
    expect(lost.unhealthyReasons[0]).to.equal(
      '1 of 3 members healthy, quorum needs 2: the cluster cannot serve writes (etcd2: down, connection refused at 10.0.0.2:2379; etcd3: down, connection refused at 10.0.0.3:2379)',
    );
    const held = clusterVerdict(cluster(3, 1));
    expect(held.warnings).to.deep.equal([
      'member etcd3 is down: connection refused at 10.0.0.3:2379; quorum holds with 2 of 3 (needs 2), one more failure loses it',
    ]);
    expect(clusterVerdict(cluster(5, 1)).warnings[0]).to.contain('quorum holds with 4 of 5 (needs 3), 1 more failure(s) tolerated');
    expect(clusterVerdict(cluster(3, 1), { requireAllMembers: true }).unhealthyReasons[0]).to.match(
      /^member etcd3 is down: .*\(--require-all-members\)$/,
    );
  });

  it('a member that answers but sees no leader does not count (the lone survivor of a 3-member cluster)', () => {
    const survivor = up(1, { isLeader: false, leaderId: '0', alarms: ['etcdserver: no leader'] });
    const verdict = clusterVerdict([survivor, down(2), down(3)]);
    expect(verdict.quorum).to.include({ healthy: 0, held: false });
    expect(verdict.members[0]).to.deep.include({ name: 'etcd1', state: 'no-leader' });
    expect(verdict.unhealthyReasons[0]).to.contain('etcd1: answers but sees no leader');
    // "no leader" is not an alarm.
    expect(verdict.alarms).to.deep.equal([]);
  });

  it('all members answering without a leader (an election that does not finish) is unhealthy', () => {
    const verdict = clusterVerdict([1, 2, 3].map((i) => up(i, { isLeader: false, leaderId: '0' })));
    expect(verdict.quorum).to.deep.equal({ members: 3, needed: 2, healthy: 0, held: false });
  });

  it('a member that follows another leader than the majority does not count', () => {
    const verdict = clusterVerdict([up(1), up(2), up(3, { leaderId: 'm3', isLeader: true })]);
    expect(verdict.quorum).to.include({ healthy: 2, held: true });
    expect(verdict.members[2]).to.deep.equal({ name: 'etcd3', state: 'other-leader', detail: 'sees leader m3, the others see m1' });
    expect(verdict.warnings[0]).to.contain('member etcd3 is not healthy: sees leader m3');
  });

  it('NOSPACE and CORRUPT make the cluster unhealthy although quorum holds, naming the members that report them', () => {
    const nospace = 'memberID:10276657743932975437 alarm:NOSPACE ';
    const members = [up(1, { alarms: [nospace] }), up(2, { alarms: [nospace] }), up(3, { alarms: [nospace, 'memberID:1 alarm:CORRUPT '] })];
    const verdict = clusterVerdict(members);
    expect(verdict.quorum.held).to.equal(true);
    expect(verdict.alarms).to.deep.equal([
      { alarm: 'NOSPACE', reportedBy: ['etcd1', 'etcd2', 'etcd3'] },
      { alarm: 'CORRUPT', reportedBy: ['etcd3'] },
    ]);
    expect(verdict.unhealthyReasons).to.have.length(2);
    expect(verdict.unhealthyReasons[0]).to.match(/^alarm NOSPACE reported by etcd1, etcd2 and etcd3: etcd refuses writes/);
    expect(verdict.unhealthyReasons[1]).to.match(/^alarm CORRUPT reported by etcd3: .*verified snapshot$/);
    expect(verdict.warnings).to.deep.equal([]);
  });

  it('another alarm warns; with --require-all-members it is unhealthy too', () => {
    const members = [up(1, { alarms: ['memberID:1 alarm:SOMETHING_NEW '] }), up(2), up(3)];
    const verdict = clusterVerdict(members);
    expect(verdict.unhealthyReasons).to.deep.equal([]);
    expect(verdict.warnings).to.deep.equal(['alarm SOMETHING_NEW reported by etcd1']);
    const strict = clusterVerdict(members, { requireAllMembers: true });
    expect(strict.unhealthyReasons).to.deep.equal(['alarm SOMETHING_NEW reported by etcd1 (--require-all-members)']);
  });

  it('parses the errors etcd puts into a status answer', () => {
    expect(parseMemberErrors(['etcdserver: no leader', 'memberID:1 alarm:NOSPACE ', 'something odd '])).to.deep.equal({
      noLeader: true,
      alarms: ['NOSPACE', 'something odd'],
    });
    expect(parseMemberErrors(undefined)).to.deep.equal({ noLeader: false, alarms: [] });
  });

  it('split brain: members that answer for different cluster ids are unhealthy, each member and id named', () => {
    const members = [1, 2, 3].map((i) => up(i, { clusterId: `c${i}`, memberId: `m${i}`, leaderId: `m${i}`, isLeader: true }));
    const verdict = clusterVerdict(members);
    expect(verdict.splitBrain).to.equal(true);
    expect(verdict.unhealthyReasons[0]).to.equal(
      'split brain: the members disagree on the cluster id (etcd1 reports cluster id c1; etcd2 reports cluster id c2; etcd3 reports cluster id c3): they are separate clusters, not one',
    );
    expect(verdict.quorum).to.include({ healthy: 1, held: false });
    expect(verdict.members.map((m) => m.state)).to.deep.equal(['healthy', 'split', 'split']);
  });

  it('split brain even when two members still hold quorum in one cluster and a third answers for another', () => {
    const verdict = clusterVerdict([up(1), up(2), up(3, { clusterId: 'c9', memberId: 'm9', leaderId: 'm9', isLeader: true })]);
    expect(verdict.quorum.held).to.equal(true);
    expect(verdict.splitBrain).to.equal(true);
    expect(verdict.unhealthyReasons[0]).to.contain('etcd1 and etcd2 report cluster id c1; etcd3 reports cluster id c9');
  });

  it('the kubeasz story: one data dir restored on every member gives three leaders with one member id', () => {
    const same = { clusterId: 'cdf818194e3a8c32', memberId: '8e9e05c52164694d', leaderId: '8e9e05c52164694d', isLeader: true };
    const verdict = clusterVerdict([up(1, same), up(2, same), up(3, same)]);
    expect(verdict.splitBrain).to.equal(true);
    expect(verdict.quorum).to.include({ healthy: 1, held: false });
    expect(verdict.unhealthyReasons[0]).to.match(/^split brain: etcd1, etcd2 and etcd3 all report member id 8e9e05c52164694d and each is a leader/);
  });

  it('learners that answer do not vote and are left out of the quorum count', () => {
    const verdict = clusterVerdict([up(1), up(2), down(3), up(4, { isLearner: true })]);
    expect(verdict.quorum).to.deep.equal({ members: 3, needed: 2, healthy: 2, held: true });
    expect(verdict.members[3]!.state).to.equal('learner');
    expect(verdict.warnings).to.have.length(1);
  });
});
