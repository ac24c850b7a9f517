// status and the HTML report show each member by the name the cluster lists it under (kubeadm names members
// after the node, `master-01`, where the inventory's default is `etcd-<host>`), while orchestrate keeps
// referring to it by the inventory's name.
import { expect } from 'chai';
import type { EtcdMember } from '../../../../src/config/types.js';
import { etcdMember } from '../member-fixture.js';
import { shownName, surveyCluster, type MemberObservation, type ObserveCluster } from '../../../../src/etcd/cluster/observe.js';

const member = (i: number): EtcdMember => etcdMember(i, { host: `master-0${i}`, name: `etcd-master-0${i}` });

const members = [member(1), member(2), member(3)];
const listed = members.map((m, i) => ({ id: `a${i + 1}`, name: m.host, peerUrls: [m.peerUrl] }));

/** Members 1 and 2 answer with kubeadm's names in their lists; member 3 is down. */
const fakeObserve: ObserveCluster = (asked, options) => {
  expect(options.memberList, 'the survey asks for member lists').to.equal(true);
  return Promise.resolve(
    asked.map((m, i): MemberObservation => {
      const base = { name: m.name, host: m.host, endpoint: m.clientUrl, durationMs: 1 };
      if (i === 2) return { ...base, ok: false, error: 'connection refused' };
      return { ...base, ok: true, memberId: `a${i + 1}`, isLeader: i === 0, leaderId: 'a1', clusterId: 'c1', members: listed };
    }),
  );
};

describe('surveyCluster: member names as the cluster lists them', () => {
  it('names each member as its cluster does, a down one by its peer URL, and the leader by that name', async () => {
    const survey = await surveyCluster(members, { timeoutMs: 100 }, fakeObserve);
    expect(survey.members.map(shownName)).to.deep.equal(['master-01', 'master-02', 'master-03']);
    expect(survey.members.map((m) => m.name)).to.deep.equal(['etcd-master-01', 'etcd-master-02', 'etcd-master-03']);
    expect(survey.leader).to.equal('master-01');
    expect(
      survey.candidates.map((c) => c.name),
      'orchestrate keeps the inventory names',
    ).to.deep.equal(['etcd-master-02', 'etcd-master-01']);
  });

  it('adds nothing when the names agree', async () => {
    const same = members.map((m) => ({ ...m, name: m.host }));
    const survey = await surveyCluster(same, { timeoutMs: 100 }, fakeObserve);
    expect(survey.members.map((m) => m.memberName)).to.deep.equal([undefined, undefined, undefined]);
  });
});
