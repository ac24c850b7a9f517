import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { shellJoin, shellQuote } from '../../../src/shell/quote.js';

// Each hostile value must come back from a real /bin/sh as exactly one, unchanged argument.
const hostile = [
  'plain',
  'a b',
  '; rm -rf /',
  '$(touch /tmp/pwned)',
  '`id`',
  "it's",
  '"double"',
  'line1\nline2',
  '*',
  '~root',
  'A=b',
  '',
  '-n',
  '\\',
  "'; echo '",
];

describe('shellQuote', () => {
  for (const value of hostile) {
    it(`passes ${JSON.stringify(value)} through sh as one word`, () => {
      const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shellQuote(value)}`]).toString();
      expect(out).to.equal(`${value}\0`);
    });
  }

  it('leaves safe words bare and quotes the rest', () => {
    expect(shellQuote('/var/lib/etcd')).to.equal('/var/lib/etcd');
    expect(shellQuote('a=b')).to.equal(`'a=b'`);
    expect(shellJoin(['echo', "it's"])).to.equal(`echo 'it'\\''s'`);
  });

  it('refuses a NUL byte', () => {
    expect(() => shellQuote('a\0b')).to.throw(/NUL/);
  });
});
