import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  keyTypeOf,
  lookupHostKey,
  parseKnownHosts,
  readKnownHosts,
  type HostKeyStatus,
} from '../../../src/transport/known-hosts.js';

interface TestKey {
  type: string;
  base64: string;
  raw: Buffer;
  pubFile: string;
}

describe('known-hosts', () => {
  let dir: string;
  let ed: TestKey;
  let ed2: TestKey;
  let ecdsa: TestKey;

  const generate = (name: string, type: string): TestKey => {
    const file = join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
    const [keyType = '', base64 = ''] = readFileSync(`${file}.pub`, 'utf8').trim().split(' ');
    return { type: keyType, base64, raw: Buffer.from(base64, 'base64'), pubFile: `${file}.pub` };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-known-hosts-'));
    ed = generate('ed', 'ed25519');
    ed2 = generate('ed2', 'ed25519');
    ecdsa = generate('ecdsa', 'ecdsa');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('checkHostKey on plain entries', () => {
    const cases: Array<{ name: string; lines: () => string[]; host: string; port: number; key: () => TestKey; want: HostKeyStatus }> = [
      { name: 'plain host name', lines: () => [`web1 ${ed.type} ${ed.base64}`], host: 'web1', port: 22, key: () => ed, want: 'match' },
      {
        name: 'host names compare case-insensitively',
        lines: () => [`Web1.Example.COM ${ed.type} ${ed.base64}`],
        host: 'web1.example.com',
        port: 22,
        key: () => ed,
        want: 'match',
      },
      { name: 'comma list', lines: () => [`web1,10.0.0.5 ${ed.type} ${ed.base64}`], host: '10.0.0.5', port: 22, key: () => ed, want: 'match' },
      {
        name: '[host]:port for a non-22 port',
        lines: () => [`[10.0.0.5]:2222 ${ed.type} ${ed.base64}`],
        host: '10.0.0.5',
        port: 2222,
        key: () => ed,
        want: 'match',
      },
      {
        name: 'plain entry does not cover another port',
        lines: () => [`10.0.0.5 ${ed.type} ${ed.base64}`],
        host: '10.0.0.5',
        port: 2222,
        key: () => ed,
        want: 'unknown',
      },
      {
        name: '[host]:port does not cover port 22',
        lines: () => [`[10.0.0.5]:2222 ${ed.type} ${ed.base64}`],
        host: '10.0.0.5',
        port: 22,
        key: () => ed,
        want: 'unknown',
      },
      {
        name: 'wildcards',
        lines: () => [`10.0.0.? ${ed.type} ${ed.base64}`, `*.lab ${ecdsa.type} ${ecdsa.base64}`],
        host: 'etcd1.lab',
        port: 22,
        key: () => ecdsa,
        want: 'match',
      },
      {
        name: 'negated pattern excludes the host',
        lines: () => [`*.lab,!etcd1.lab ${ed.type} ${ed.base64}`],
        host: 'etcd1.lab',
        port: 22,
        key: () => ed,
        want: 'unknown',
      },
      {
        name: 'same type, other key: changed',
        lines: () => [`web1 ${ed2.type} ${ed2.base64}`],
        host: 'web1',
        port: 22,
        key: () => ed,
        want: 'changed',
      },
      {
        name: 'only another key type known: unknown',
        lines: () => [`web1 ${ecdsa.type} ${ecdsa.base64}`],
        host: 'web1',
        port: 22,
        key: () => ed,
        want: 'unknown',
      },
      {
        name: 'one matching line among several wins over a conflicting one',
        lines: () => [`web1 ${ed2.type} ${ed2.base64}`, `web1 ${ed.type} ${ed.base64}`],
        host: 'web1',
        port: 22,
        key: () => ed,
        want: 'match',
      },
      {
        name: '@revoked beats a matching line',
        lines: () => [`web1 ${ed.type} ${ed.base64}`, `@revoked * ${ed.type} ${ed.base64}`],
        host: 'web1',
        port: 22,
        key: () => ed,
        want: 'revoked',
      },
      {
        name: '@revoked for another key does not matter',
        lines: () => [`web1 ${ed.type} ${ed.base64}`, `@revoked * ${ed2.type} ${ed2.base64}`],
        host: 'web1',
        port: 22,
        key: () => ed,
        want: 'match',
      },
      {
        name: '@cert-authority lines never match a plain key',
        lines: () => [`@cert-authority web1 ${ed.type} ${ed.base64}`],
        host: 'web1',
        port: 22,
        key: () => ed,
        want: 'unknown',
      },
      {
        name: 'comments and blank lines are skipped',
        lines: () => ['# web1 is the primary', '', '   ', `web1 ${ed.type} ${ed.base64} root@web1`],
        host: 'web1',
        port: 22,
        key: () => ed,
        want: 'match',
      },
      { name: 'other hosts do not count', lines: () => [`web2 ${ed2.type} ${ed2.base64}`], host: 'web1', port: 22, key: () => ed, want: 'unknown' },
    ];
    for (const testCase of cases) {
      it(testCase.name, () => {
        const { entries, problems } = parseKnownHosts(testCase.lines().join('\n'));
        expect(problems).to.deep.equal([]);
        const key = testCase.key();
        expect(checkHostKey(entries, testCase.host, testCase.port, key.type, key.raw)).to.equal(testCase.want);
      });
    }
  });

  it('keeps comments, markers and line numbers, and reports malformed lines without giving up', () => {
    const text = [
      '# header',
      `web1 ${ed.type} ${ed.base64} first key`,
      'web2 ssh-ed25519',
      `web3 ${ed.type} not*base64`,
      `web4 ssh-rsa ${ed.base64}`,
      `@bogus web5 ${ed.type} ${ed.base64}`,
      `@revoked web6 ${ed.type} ${ed.base64}`,
      '|1|short|hash ssh-ed25519 AAAA',
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text, '/x/known_hosts');
    expect(entries.map((entry) => [entry.line, entry.patterns, entry.marker, entry.comment])).to.deep.equal([
      [2, ['web1'], undefined, 'first key'],
      [7, ['web6'], 'revoked', undefined],
    ]);
    expect(entries[0]?.file).to.equal('/x/known_hosts');
    expect(problems.map((problem) => problem.line)).to.deep.equal([3, 4, 5, 6, 8]);
    expect(problems[2]?.message).to.contain('ssh-ed25519');
  });

  it('matches hashed entries written by ssh-keygen -H, including [host]:port', async () => {
    const file = join(dir, 'hashed_known_hosts');
    writeFileSync(file, [`etcd1.lab ${ed.type} ${ed.base64}`, `[10.1.2.3]:2222 ${ecdsa.type} ${ecdsa.base64}`, ''].join('\n'));
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const { entries, problems } = await readKnownHosts(file);
    expect(problems).to.deep.equal([]);
    expect(entries).to.have.length(2);
    expect(entries.every((entry) => entry.hashed !== undefined && entry.patterns === undefined)).to.equal(true);
    expect(checkHostKey(entries, 'etcd1.lab', 22, ed.type, ed.raw)).to.equal('match');
    expect(checkHostKey(entries, 'ETCD1.lab', 22, ed.type, ed.raw)).to.equal('match');
    expect(checkHostKey(entries, '10.1.2.3', 2222, ecdsa.type, ecdsa.raw)).to.equal('match');
    expect(checkHostKey(entries, '10.1.2.3', 22, ecdsa.type, ecdsa.raw)).to.equal('unknown');
    expect(checkHostKey(entries, 'etcd1.lab', 22, ed2.type, ed2.raw)).to.equal('changed');
    expect(checkHostKey(entries, 'etcd2.lab', 22, ed.type, ed.raw)).to.equal('unknown');
  });

  it('returns the deciding entry for messages', () => {
    const { entries } = parseKnownHosts(`web1 ${ecdsa.type} ${ecdsa.base64}\nweb1 ${ed2.type} ${ed2.base64}\n`, 'kh');
    const lookup = lookupHostKey(entries, 'web1', 22, ed.type, ed.raw);
    expect(lookup.status).to.equal('changed');
    expect(lookup.entry?.line).to.equal(2);
    expect(lookup.knownKeys.map((entry) => entry.keyType)).to.deep.equal([ecdsa.type, ed2.type]);
  });

  it('treats a missing file as empty', async () => {
    expect(await readKnownHosts(join(dir, 'does-not-exist'))).to.deep.equal({ entries: [], problems: [] });
  });

  it('computes the fingerprint exactly as ssh-keygen -lf prints it', () => {
    for (const key of [ed, ed2, ecdsa]) {
      const printed = execFileSync('ssh-keygen', ['-lf', key.pubFile]).toString().split(' ')[1];
      expect(fingerprint(key.raw)).to.equal(printed);
      expect(fingerprint(key.raw)).to.match(/^SHA256:[A-Za-z0-9+/]{43}$/);
    }
  });

  it('reads the key type from the blob and rejects garbage', () => {
    expect(keyTypeOf(ed.raw)).to.equal('ssh-ed25519');
    expect(keyTypeOf(ecdsa.raw)).to.equal('ecdsa-sha2-nistp256');
    expect(() => keyTypeOf(Buffer.from([0, 0]))).to.throw();
    expect(() => keyTypeOf(Buffer.from([0, 0, 1, 0, 65]))).to.throw();
  });

  describe('appendKnownHost', () => {
    it('creates the folder 0700 and the file 0600 and writes [host]:port lines that ssh-keygen finds', async () => {
      const sshDir = join(dir, 'home', '.ssh');
      const file = join(sshDir, 'known_hosts');
      await appendKnownHost(file, '10.0.0.7', 2222, ed.type, ed.raw);
      await appendKnownHost(file, 'Etcd1.Lab', 22, ecdsa.type, ecdsa.raw);
      expect(statSync(sshDir).mode & 0o777).to.equal(0o700);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(readFileSync(file, 'utf8')).to.equal(`[10.0.0.7]:2222 ${ed.type} ${ed.base64}\netcd1.lab ${ecdsa.type} ${ecdsa.base64}\n`);
      const found = execFileSync('ssh-keygen', ['-F', '[10.0.0.7]:2222', '-f', file]).toString();
      expect(found).to.contain(ed.base64);
      const { entries } = await readKnownHosts(file);
      expect(checkHostKey(entries, '10.0.0.7', 2222, ed.type, ed.raw)).to.equal('match');
      expect(checkHostKey(entries, 'etcd1.lab', 22, ecdsa.type, ecdsa.raw)).to.equal('match');
    });

    it('starts a new line when the file does not end with one, and keeps an existing mode', async () => {
      const file = join(dir, 'no-newline');
      writeFileSync(file, `web1 ${ed2.type} ${ed2.base64}`, { mode: 0o644 });
      await appendKnownHost(file, 'web2', 22, ed.type, ed.raw);
      expect(readFileSync(file, 'utf8')).to.equal(`web1 ${ed2.type} ${ed2.base64}\nweb2 ${ed.type} ${ed.base64}\n`);
      expect(statSync(file).mode & 0o777).to.equal(0o644);
    });
  });
});
