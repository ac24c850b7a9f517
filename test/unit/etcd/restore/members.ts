// EtcdMember fixtures for the restore unit tests: a member at an address, with kubeasz's defaults.
import type { EtcdMember } from '../../../../src/config/types.js';

export function memberAt(address: string, name: string): EtcdMember {
  return {
    host: address,
    name,
    address,
    peerUrl: `https://${address}:2380`,
    clientUrl: `https://${address}:2379`,
    dataDir: '/var/lib/etcd',
    token: 'tok',
    service: 'etcd',
  };
}
