// drill_expect: the defaults, the accepted forms, and every bad entry reported at its file:line:col.
import { expect } from 'chai';
import { defaultExpectations, describeExpectation, drillExpectations, registryPrefixOf } from '../../../src/drill/expectations.js';
import { parseInventory } from '../../../src/config/inventory.js';
import { ConfigError } from '../../../src/errors.js';

function inventory(vars: string): ReturnType<typeof parseInventory>['inventory'] {
  const text = `all:\n  vars:\n${vars}\n  children:\n    etcd:\n      hosts:\n        10.0.0.1: {}\n`;
  return parseInventory('/srv/inv.yml', text).inventory;
}

function problems(vars: string): string[] {
  try {
    drillExpectations(inventory(vars));
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.loc?.line}:${p.loc?.col} ${p.message}`);
    throw error;
  }
  return [];
}

describe('drill expectations', () => {
  it('defaults that hold in every Kubernetes cluster (and the lab)', () => {
    expect(drillExpectations(inventory('    x: 1')).map(describeExpectation)).to.deep.equal([
      'the key /registry/namespaces/default',
      'the key /registry/namespaces/kube-system',
      'the key /registry/services/specs/default/kubernetes',
      'at least 1 key under /registry/minions/',
      'at least 1 key under /registry/deployments/',
    ]);
  });

  it('follow kube_etcd_prefix', () => {
    const inv = inventory('    kube_etcd_prefix: /k8s');
    expect(registryPrefixOf(inv)).to.equal('/k8s/');
    expect(drillExpectations(inv)[0]?.value).to.equal('/k8s/namespaces/default');
    expect(defaultExpectations('/k8s/')[4]?.value).to.equal('/k8s/deployments/');
  });

  it('keys, prefixes (a trailing /), and mappings with a minimum', () => {
    const got = drillExpectations(
      inventory(
        '    drill_expect:\n      - /registry/namespaces/shop\n      - /registry/pods/\n      - { prefix: /registry/secrets/, min: 3 }\n      - { key: /a }',
      ),
    );
    expect(got.map((e) => [e.match, e.value, e.min, e.origin])).to.deep.equal([
      ['key', '/registry/namespaces/shop', 1, 'inventory'],
      ['prefix', '/registry/pods/', 1, 'inventory'],
      ['prefix', '/registry/secrets/', 3, 'inventory'],
      ['key', '/a', 1, 'inventory'],
    ]);
  });

  it('an empty list turns the checks off', () => {
    expect(drillExpectations(inventory('    drill_expect: []'))).to.deep.equal([]);
  });

  it('every bad entry at its line and column, all at once', () => {
    expect(
      problems(
        '    drill_expect:\n      - /ok/\n      - 5\n      - { prefix: /p/, min: 0 }\n      - { key: /k, prefix: /p/ }\n      - { key: /k, min: 2 }\n      - { prefx: /p/ }\n      - ""',
      ),
    ).to.deep.equal([
      '5:9 drill_expect entry 2: 5 is not a key, a prefix or a mapping',
      '6:9 drill_expect entry 3: min must be a whole number of at least 1, not 0',
      '7:9 drill_expect entry 4: give exactly one of key: or prefix: (a non-empty string)',
      '8:9 drill_expect entry 5: an exact key exists once: min applies to a prefix',
      '9:9 drill_expect entry 6: unknown field "prefx"',
      '10:9 drill_expect entry 7: an empty key',
    ]);
    expect(problems('    drill_expect: /registry/')).to.deep.equal(['3:19 drill_expect must be a list']);
    expect(problems('    kube_etcd_prefix: registry')).to.deep.equal([
      "3:23 kube_etcd_prefix must be the kube-apiserver's --etcd-prefix, such as /registry",
    ]);
  });
});
