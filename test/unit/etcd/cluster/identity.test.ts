import { expect } from 'chai';
import type { EtcdMember } from '../../../../src/config/types.js';
import { etcdMember } from '../member-fixture.js';
import type { MemberObservation } from '../../../../src/etcd/cluster/observe.js';
import { judgeCluster, type ClusterNeed } from '../../../../src/etcd/cluster/verdict.js';

const members: EtcdMember[] = [1, 2, 3].map((i) => etcdMember(i, { token: 't' }, '127.0.105'));
const ids = ['a1', 'b2', 'c3'];
const fullList = members.map((m, i) => ({ id: ids[i]!, name: m.name, peerUrls: [m.peerUrl] }));

function healthy(revision = 42): MemberObservation[] {
  return members.map((m, i) => ({
    host: m.host,
    name: m.name,
    endpoint: m.clientUrl,
    ok: true,
    durationMs: 1,
    memberId: ids[i]!,
    clusterId: 'cc',
    leaderId: 'b2',
    isLeader: ids[i] === 'b2',
    revision,
    members: fullList,
  }));
}

/** What kubeasz's restore produces: one dir restored without flags and copied everywhere. */
function kubeaszMistake(): MemberObservation[] {
  return members.map((m) => ({
    host: m.host,
    name: m.name,
    endpoint: m.clientUrl,
    ok: true,
    durationMs: 1,
    memberId: '8e9e05c52164694d',
    clusterId: 'cdf818194e3a8c32',
    leaderId: '8e9e05c52164694d',
    isLeader: true,
    revision: 42,
    members: [{ id: '8e9e05c52164694d', name: 'default', peerUrls: ['http://localhost:2380'] }],
  }));
}

/** The same member, not answering. */
function silent(o: MemberObservation): MemberObservation {
  return { name: o.name, host: o.host, endpoint: o.endpoint, ok: false, durationMs: 1 };
}

const restored = (revision: number): ClusterNeed => ({ kind: 'restored', members, revision });

describe('judgeCluster', () => {
  it('accepts a healthy restored cluster and names its leader', () => {
    const verdict = judgeCluster(healthy(), restored(42));
    expect(verdict).to.deep.include({ ok: true, definitive: false, problems: [], clusterId: 'cc', revision: 42 });
    expect(verdict.leader).to.deep.equal({ name: 'etcd2', id: 'b2' });
  });

  it("catches kubeasz's mistake: N leaders, all with member id 8e9e05c52164694d", () => {
    const verdict = judgeCluster(kubeaszMistake(), restored(42));
    expect(verdict.ok).to.equal(false);
    expect(verdict.definitive).to.equal(true);
    const text = verdict.problems.join('\n');
    expect(text).to.contain('3 leaders');
    expect(text).to.contain('8e9e05c52164694d');
    expect(text).to.contain("kubeasz's mistake");
    expect(text).to.contain('lists members [default=http://localhost:2380]');
  });

  const failing: { title: string; change: (o: MemberObservation[]) => void; contains: string; definitive: boolean }[] = [
    {
      title: 'a member that does not answer',
      change: (o) => {
        o[2]!.ok = false;
        delete o[2]!.memberId;
        delete o[2]!.revision;
        delete o[2]!.members;
        o[2]!.error = 'deadline exceeded';
      },
      contains: 'etcd3 (127.0.105.3) does not answer',
      definitive: false,
    },
    {
      title: 'no leader yet',
      change: (o) =>
        o.forEach((x) => {
          x.leaderId = '0';
        }),
      contains: 'no leader yet',
      definitive: false,
    },
    {
      title: 'two cluster ids',
      change: (o) => {
        o[0]!.clusterId = 'dd';
      },
      contains: '2 cluster ids',
      definitive: true,
    },
    {
      title: 'a wrong peer URL in the member list',
      change: (o) => {
        o[1]!.members = fullList.map((m, i) => (i === 0 ? { ...m, peerUrls: ['https://10.9.9.9:2380'] } : m));
      },
      contains: 'etcd2 (127.0.105.2) lists members',
      definitive: true,
    },
    {
      title: 'a member missing from the list',
      change: (o) => {
        o[0]!.members = fullList.slice(0, 2);
      },
      contains: 'the expected members are',
      definitive: true,
    },
    {
      title: "a revision other than the snapshot's",
      change: (o) => {
        o[1]!.revision = 41;
      },
      contains: 'etcd2 (127.0.105.2) is at revision 41; the snapshot is at 42',
      definitive: false,
    },
    {
      title: 'an unpublished member name',
      change: (o) => {
        o[0]!.members = fullList.map((m, i) => (i === 2 ? { ...m, name: '' } : m));
      },
      contains: 'has not published its name',
      definitive: false,
    },
  ];
  for (const c of failing) {
    it(`refuses ${c.title}`, () => {
      const observations = healthy();
      c.change(observations);
      const verdict = judgeCluster(observations, restored(42));
      expect(verdict.ok).to.equal(false);
      expect(verdict.definitive).to.equal(c.definitive);
      expect(verdict.problems.join('\n')).to.contain(c.contains);
    });
  }

  it('without an expected revision (rollback) only asks the members to agree', () => {
    expect(judgeCluster(healthy(7), { kind: 'restored', members }).ok).to.equal(true);
    const observations = healthy(7);
    observations[0]!.revision = 6;
    expect(judgeCluster(observations, { kind: 'restored', members }).problems.join()).to.contain('different revisions');
  });
});

describe('judgeCluster after a rollback (quorum only)', () => {
  it('accepts a majority and reports the silent member as a warning', () => {
    const observations = healthy(7);
    observations[0] = { ...silent(observations[0]!) };
    delete observations[0].members;
    observations[0].error = 'connection refused';
    const verdict = judgeCluster(observations, { kind: 'quorum', members });
    expect(verdict.ok).to.equal(true);
    expect(verdict.warnings.join()).to.contain('etcd1 (127.0.105.1) does not answer');
  });
  it('refuses when no majority answers', () => {
    const observations = healthy(7);
    for (const i of [0, 1]) observations[i] = silent(observations[i]!);
    const verdict = judgeCluster(observations, { kind: 'quorum', members });
    expect(verdict.ok).to.equal(false);
    expect(verdict.problems.join()).to.contain('only 1 of 3 members answer');
  });
});
