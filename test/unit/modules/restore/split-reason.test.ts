import { expect } from 'chai';
import type { MemberObservation } from '../../../../src/etcd/cluster/observe.js';
import { splitReason } from '../../../../src/modules/restore/identities.js';

function answer(memberId: string, fields: Partial<MemberObservation> = {}): MemberObservation {
  const members = [
    { id: 'a', name: 'm1', peerUrls: ['https://10.0.0.1:2380'] },
    { id: 'b', name: 'm2', peerUrls: ['https://10.0.0.2:2380'] },
  ];
  return {
    name: memberId,
    host: memberId,
    endpoint: '',
    ok: true,
    durationMs: 1,
    memberId,
    clusterId: 'c1',
    isLeader: memberId === 'a',
    members,
    ...fields,
  };
}

describe('splitReason: when the live member lists are not one cluster', () => {
  it('finds nothing wrong with one cluster whose members agree', () => {
    expect(splitReason([answer('a'), answer('b')])).to.equal(undefined);
  });
  it("names kubeasz's mistake: every member answers with one member id, each a leader", () => {
    const mistake = [answer('8e9e05c52164694d', { isLeader: true }), answer('8e9e05c52164694d', { isLeader: true })];
    expect(splitReason(mistake)).to.equal('several members answer with one member id');
  });
  it('names different cluster ids, several leaders and different member lists', () => {
    expect(splitReason([answer('a'), answer('b', { clusterId: 'c2' })])).to.equal('2 cluster ids');
    expect(splitReason([answer('a'), answer('b', { isLeader: true })])).to.equal('2 leaders');
    expect(splitReason([answer('a'), answer('b', { members: [] })])).to.equal('the members list different members');
  });
});
