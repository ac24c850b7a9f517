// An inventory's etcd member for unit tests: member `i` at `<net>.<i>` with the usual ports and data dir;
// a test overrides only what it is about (names, token).
import type { EtcdMember } from '../../../src/config/types.js';

export function etcdMember(i: number, overrides: Partial<EtcdMember> = {}, net = '10.0.0'): EtcdMember {
  const address = `${net}.${i}`;
  return {
    host: address,
    name: `etcd${i}`,
    address,
    peerUrl: `https://${address}:2380`,
    clientUrl: `https://${address}:2379`,
    dataDir: '/var/lib/etcd',
    token: 'etcd-cluster-0',
    service: 'etcd',
    ...overrides,
  };
}
