// Kubernetes key names: resource, namespace and name for namespaced, cluster-scoped, grouped and
// two-part resources, and keys outside the registry.
import { expect } from 'chai';
import { countedResource, parseRegistryKey } from '../../../src/etcd/registry-key.js';

describe('parseRegistryKey', () => {
  const cases: [string, ReturnType<typeof parseRegistryKey>][] = [
    ['/registry/pods/default/web-1', { resource: 'pods', namespace: 'default', name: 'web-1', prefix: '/registry/pods/default/', kubernetes: true }],
    ['/registry/namespaces/kube-system', { resource: 'namespaces', name: 'kube-system', prefix: '/registry/namespaces/', kubernetes: true }],
    ['/registry/minions/10.0.0.1', { resource: 'minions', name: '10.0.0.1', prefix: '/registry/minions/', kubernetes: true }],
    [
      '/registry/services/specs/default/kubernetes',
      { resource: 'services/specs', namespace: 'default', name: 'kubernetes', prefix: '/registry/services/specs/default/', kubernetes: true },
    ],
    [
      '/registry/apiregistration.k8s.io/apiservices/v1.apps',
      { resource: 'apiregistration.k8s.io/apiservices', name: 'v1.apps', prefix: '/registry/apiregistration.k8s.io/apiservices/', kubernetes: true },
    ],
    [
      '/registry/example.com/widgets/shop/w1',
      { resource: 'example.com/widgets', namespace: 'shop', name: 'w1', prefix: '/registry/example.com/widgets/shop/', kubernetes: true },
    ],
    ['/registry/rogue/oops', { resource: 'rogue', name: 'oops', prefix: '/registry/rogue/', kubernetes: true }],
    ['/registry/ranges/serviceips', { resource: 'ranges', name: 'serviceips', prefix: '/registry/ranges/', kubernetes: true }],
    ['/other/thing/x', { resource: 'other', name: 'thing/x', prefix: '/other/', kubernetes: false }],
    ['plainkey', { resource: '(other)', prefix: '', kubernetes: false }],
  ];
  for (const [key, want] of cases) it(key, () => expect(parseRegistryKey(key)).to.deep.equal(want));

  it('words for resources a person knows', () => {
    expect([
      countedResource('pods', 25),
      countedResource('pods', 1),
      countedResource('minions', 3),
      countedResource('services/specs', 2),
      countedResource('rogue', 1),
    ]).to.deep.equal(['25 pods', '1 pod', '3 nodes', '2 services', undefined]);
  });
});
