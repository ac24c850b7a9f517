import { expect } from 'chai';
import { isIPv6 } from 'node:net';
import { isIPv6Literal } from '../../../src/config/ipv6-literal.js';

describe('isIPv6Literal', () => {
  const cases: Array<[string, boolean]> = [
    ['::1', true],
    ['fe80::1', true],
    ['2001:db8::10', true],
    ['::ffff:127.0.0.1', true],
    ['127.0.0.1', false],
    ['etcd', false],
    ['etcd:kube_master', false],
    ['[::1]', false],
    ['', false],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${expected}, as net.isIPv6 says`, () => {
      expect(isIPv6Literal(text)).to.equal(expected);
      expect(isIPv6Literal(text)).to.equal(isIPv6(text));
    });
  }
});
