import { expect } from 'chai';
import { selectHosts, splitPattern } from '../../../src/config/host-pattern.js';
import { loadInventory, parseInventory } from '../../../src/config/inventory.js';
import type { Inventory } from '../../../src/config/types.js';
import { ConfigError } from '../../../src/errors.js';

const h1 = '192.168.1.1';
const h2 = '192.168.1.2';
const h3 = '192.168.1.3';
const h4 = '192.168.1.4';

describe('selectHosts', () => {
  let inventory: Inventory;
  before(async () => {
    ({ inventory } = await loadInventory('test/fixtures/config/good/inventory.yml'));
  });

  const table: [string, string | undefined, string[]][] = [
    ['all', undefined, [h1, h2, h3, h4]],
    ['*', undefined, [h1, h2, h3, h4]],
    ['etcd', undefined, [h1, h2, h3]],
    ['kube_node:etcd', undefined, [h4, h1, h2, h3]],
    ['etcd,kube_node', undefined, [h1, h2, h3, h4]],
    [' etcd , kube_node ', undefined, [h1, h2, h3, h4]],
    ['kube_master:&etcd', undefined, [h1, h2, h3]],
    ['all:!etcd', undefined, [h4]],
    ['!etcd', undefined, [h4]],
    ['&kube_node', undefined, [h4]],
    ['etcd:!192.168.1.2', undefined, [h1, h3]],
    [h2, undefined, [h2]],
    [`kube_node:${h1}`, undefined, [h4, h1]],
    ['kube_*', undefined, [h1, h2, h3, h4]],
    ['192.168.1.?', undefined, [h1, h2, h3, h4]],
    ['etcd', h3, [h3]],
    ['all', 'etcd:!192.168.1.1', [h2, h3]],
    ['kube_node', 'etcd', []],
  ];
  for (const [pattern, limit, expected] of table) {
    it(`${JSON.stringify(pattern)}${limit === undefined ? '' : ` --limit ${limit}`} -> ${expected.join(' ') || '(none)'}`, () => {
      expect(selectHosts(inventory, pattern, limit)).to.deep.equal(expected);
    });
  }

  const unknown: [string, string | undefined, string[]][] = [
    ['etcdd', undefined, ['hosts: "etcdd" is neither a group nor a host of test/fixtures/config/good/inventory.yml|did you mean "etcd"?']],
    ['etcd:&nope', undefined, ['hosts: "nope" is neither a group nor a host of test/fixtures/config/good/inventory.yml|']],
    [
      'etcd',
      'kube_mastr',
      ['--limit: "kube_mastr" is neither a group nor a host of test/fixtures/config/good/inventory.yml|did you mean "kube_master"?'],
    ],
    ['zz*', undefined, ['hosts: "zz*" is neither a group nor a host of test/fixtures/config/good/inventory.yml|']],
    [':', undefined, ['hosts: the host pattern is empty|']],
  ];
  for (const [pattern, limit, expected] of unknown) {
    it(`refuses ${JSON.stringify(pattern)}${limit === undefined ? '' : ` --limit ${limit}`}, naming the term`, () => {
      try {
        selectHosts(inventory, pattern, limit);
        expect.fail('should have thrown');
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).problems.map((p) => `${p.message}|${p.hint ?? ''}`)).to.deep.equal(expected);
      }
    });
  }

  it('carries the location of the play that wrote the pattern', () => {
    const loc = { file: 'site.yml', line: 3, col: 10 };
    try {
      selectHosts(inventory, 'etcdd', undefined, { loc });
      expect.fail('should have thrown');
    } catch (error) {
      expect((error as ConfigError).problems[0]?.loc).to.deep.equal(loc);
    }
  });

  it('keeps an IPv6 host name whole instead of splitting it on colons', () => {
    const { inventory: v6 } = parseInventory('inline/v6.yml', 'all:\n  hosts:\n    "::1":\n    "fd00::2":\n');
    expect(selectHosts(v6, '::1')).to.deep.equal(['::1']);
    expect(selectHosts(v6, '::1,fd00::2')).to.deep.equal(['::1', 'fd00::2']);
    expect(splitPattern('a:b:&c:!d')).to.deep.equal(['a', 'b', '&c', '!d']);
  });
});
