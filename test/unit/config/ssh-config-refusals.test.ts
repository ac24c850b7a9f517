// What orchestrate refuses in ssh_config, where and why: each refusal names file:line and the fix, and
// comes only for a host the line applies to. Also hostile files: Include loops, huge files, odd names.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSshConfig } from '../../../src/config/ssh-config.js';
import { resolveJumpChain } from '../../../src/config/ssh-config-jumps.js';
import { resolveSshOptions, type ResolvedSsh, type SshLocal } from '../../../src/config/ssh-config-resolve.js';
import { parseProxyJump } from '../../../src/config/ssh-jump.js';
import type { ConnectionSpec } from '../../../src/config/types.js';
import { resolveTarget } from '../../../src/transport/ssh-target.js';
import { configError, local, sshAvailable } from './ssh-config-oracle.js';

describe('ssh_config: refusals, located, and only where they apply', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-ssh-refuse-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (text: string, name = 'config'): string => {
    const file = join(dir, name);
    writeFileSync(file, text.replaceAll('$DIR', dir), { mode: 0o600 });
    return file;
  };
  const resolve = async (file: string, host: string, who: SshLocal = local): Promise<ResolvedSsh> =>
    resolveSshOptions(await loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid }), host, {}, who);
  /** The one problem of the ConfigError `host` ends with: message, line and hint. */
  const refused = async (file: string, host: string, who: SshLocal = local): Promise<{ message: string; line?: number; hint?: string }> => {
    const problem = (await configError(() => resolve(file, host, who))).problems[0];
    return { message: problem?.message ?? '', ...(problem?.loc ? { line: problem.loc.line } : {}), ...(problem?.hint ? { hint: problem.hint } : {}) };
  };

  it('refuses an unknown keyword anywhere (as ssh does), suggesting the keyword meant', async () => {
    const file = write('Host other\n  Hostnmae typo.example\nHost a\n  User u\n');
    if (sshAvailable) expect(spawnSync('ssh', ['-G', '-F', file, 'a']).status, 'ssh refuses it').to.not.equal(0);
    const problem = await refused(file, 'a');
    expect(problem).to.deep.include({ line: 2 });
    expect(problem.message).to.contain('unknown ssh_config keyword "Hostnmae"');
    expect(problem.hint).to.contain('did you mean "hostname"?').and.to.contain('IgnoreUnknown Hostnmae');
  });

  it('IgnoreUnknown covers the lines after it, for the hosts its block applies to, as in ssh', async () => {
    const file = write('Host b\n  IgnoreUnknown Foo*\nHost *\n  FooBar 1\n');
    expect((await resolve(file, 'b')).hostname).to.equal('b');
    expect(await refused(file, 'a')).to.deep.include({ line: 4 });
    if (sshAvailable) expect(spawnSync('ssh', ['-G', '-F', file, 'a']).status).to.not.equal(0);
    expect(await refused(write('FooBar 1\nIgnoreUnknown FooBar\n'), 'a')).to.deep.include({ line: 1 });
  });

  const applying: [string, RegExp, RegExp][] = [
    ['HostKeyAlias pinned-name', /HostKeyAlias "pinned-name" applies to a: .*key pinned under the alias would not be checked/, /ssh-keyscan/],
    ['KnownHostsCommand /usr/bin/fetch-keys %H', /KnownHostsCommand .* never runs commands/, /known_hosts/],
    ['RevokedHostKeys ~/.ssh/revoked', /RevokedHostKeys .* a revoked key could be accepted/, /@revoked/],
    ['CertificateFile ~/.ssh/id_ed25519-cert.pub', /CertificateFile .* cannot present SSH certificates/, /Host \* !etcd-\*/],
    ['PKCS11Provider /usr/lib/opensc-pkcs11.so', /PKCS11Provider .* PKCS#11/, /ssh-add -s/],
    ['SmartcardDevice /usr/lib/opensc-pkcs11.so', /PKCS11Provider \(or SmartcardDevice\)/, /ssh-add -s/],
    ['RefuseConnection yes', /RefuseConnection yes applies to a/, /remove RefuseConnection/],
    ['HostName %r.example', /HostName "%r.example" has a % token other than %h/, /%h/],
  ];
  for (const [line, message, hint] of applying) {
    it(`refuses "${line}" for a host it applies to (file:line, the fix), and not for others`, async () => {
      const file = write(`Host a\n  ${line}\nHost *\n  User u\n`);
      const problem = await refused(file, 'a');
      expect(problem.line).to.equal(2);
      expect(problem.message).to.match(message);
      expect(problem.hint).to.match(hint);
      expect((await resolve(file, 'b')).user).to.equal('u');
    });
  }

  it('CertificateFile none changes nothing; a later CertificateFile still counts (ssh adds them up)', async () => {
    expect((await resolve(write('Host a\n  CertificateFile none\n'), 'a')).hostname).to.equal('a');
    expect(await refused(write('Host a\n  CertificateFile none\nHost *\n  CertificateFile ~/c.pub\n'), 'a')).to.deep.include({ line: 4 });
  });

  it('IdentityAgent: accepted when it names the agent of SSH_AUTH_SOCK (or none without one), else refused', async () => {
    const withAgent: SshLocal = { ...local, env: { SSH_AUTH_SOCK: '/run/agent.sock', AGENT: '/run/agent.sock' } };
    const noAgent: SshLocal = { ...local, env: {} };
    const file = write(
      'Host same\n  IdentityAgent /run/agent.sock\nHost env\n  IdentityAgent ${AGENT}\nHost legacy\n  IdentityAgent $AGENT\n' +
        'Host var\n  IdentityAgent SSH_AUTH_SOCK\nHost none\n  IdentityAgent none\nHost other\n  IdentityAgent ~/.1password/agent.sock\n',
    );
    for (const host of ['same', 'env', 'legacy', 'var']) expect((await resolve(file, host, withAgent)).hostname).to.equal(host);
    expect((await resolve(file, 'none', noAgent)).hostname).to.equal('none');
    const none = await refused(file, 'none', withAgent);
    expect(none).to.deep.include({ line: 10 });
    expect(none.hint).to.contain('SSH_AUTH_SOCK unset');
    const other = await refused(file, 'other', withAgent);
    expect(other).to.deep.include({ line: 12 });
    expect(other.message).to.contain('would offer other keys');
    expect(other.hint).to.equal(`run orchestrate with SSH_AUTH_SOCK=${local.homeDir}/.1password/agent.sock`);
  });

  it('refuses DNS canonicalisation (CanonicalDomains, CNAME rules) where ssh would do it', async () => {
    const file = write(
      'CanonicalizeHostname yes\nCanonicalDomains corp.example\nHost full.name.example\n  Port 2\nHost cname\n  CanonicalizePermittedCNAMEs *.a:*.b\n',
    );
    const problem = await refused(file, 'short');
    expect(problem).to.deep.include({ line: 2 });
    expect(problem.message).to.contain('ssh would look short up in DNS');
    expect((await resolve(file, 'full.name.example')).port).to.equal(2);
    const viaJump = write('CanonicalizeHostname yes\nCanonicalDomains corp.example\nHost short\n  ProxyJump j.corp.example\n');
    expect((await resolve(viaJump, 'short')).hostname, 'a proxied name is left to the jump host').to.equal('short');
  });

  it('ProxyJump none counts as a proxy for canonicalisation, as in ssh (no DNS lookup, so nothing to refuse)', async () => {
    const file = write('CanonicalizeHostname yes\nCanonicalizePermittedCNAMEs *:*\nHost n.invalid\n  ProxyJump none\n');
    // Were it direct, ssh would look n.invalid up to follow CNAMEs, and fail.
    if (sshAvailable) expect(spawnSync('ssh', ['-G', '-F', file, 'n.invalid']).status, 'ssh -G does no lookup').to.equal(0);
    expect((await resolve(file, 'n.invalid')).hostname).to.equal('n.invalid');
    expect(await refused(file, 'z.invalid')).to.deep.include({ line: 2 });
  });

  it('CanonicalizePermittedCNAMEs is refused only when CanonicalizeHostname is not no (ssh follows no CNAME then)', async () => {
    const cnames = 'CanonicalizePermittedCNAMEs *.a:*.b\nHost short\n  Port 2\n';
    expect((await resolve(write(`${cnames}CanonicalizeHostname no\n`), 'short')).port).to.equal(2);
    expect((await resolve(write(cnames), 'short')).port, 'no is the default').to.equal(2);
    expect(await refused(write(`CanonicalizeHostname yes\n${cnames}`), 'short')).to.deep.include({ line: 2 });
  });

  it('Match localnetwork/version/sessiontype/command is refused only when all the other criteria match, in any order', async () => {
    for (const line of [
      'Match localnetwork 10.0.0.0/8 host bastion',
      'Match host bastion localnetwork 10.0.0.0/8',
      'Match !version OpenSSH_9* host bastion',
    ]) {
      const file = write(`${line}\n  User ops\nHost *\n  Port 2\n`);
      expect(await refused(file, 'bastion'), line).to.deep.include({ line: 1 });
      expect(await resolve(file, 'web'), line).to.deep.include({ user: local.user, port: 2 });
    }
    const both = write('Match sessiontype shell command "" user nobody-here\n  User ops\n');
    expect((await resolve(both, 'web')).user).to.equal(local.user);
    expect((await refused(both, 'web', { ...local, user: 'nobody-here' })).message).to.contain('Match sessiontype');
    const exec = write('Match localnetwork 10.0.0.0/8 exec true\n  User ops\n');
    expect((await refused(exec, 'web')).message, 'ssh may run exec').to.contain('Match exec');
  });

  it('Match criteria it cannot evaluate are refused when reached; Match tagged follows Tag', async () => {
    const file = write('Match host elsewhere localnetwork 10.0.0.0/8\n  User never\nMatch host reach version OpenSSH_10*\n  User maybe\n');
    expect((await resolve(file, 'skip')).user).to.equal(local.user);
    expect(await refused(file, 'reach')).to.deep.include({ line: 3 });
    const tagged = write('Host t\n  Tag prod\nMatch tagged prod\n  User from-tag\nMatch tagged ""\n  Port 2200\n');
    expect(await resolve(tagged, 't')).to.deep.include({ user: 'from-tag', port: 22 });
    expect(await resolve(tagged, 'u')).to.deep.include({ user: local.user, port: 2200 });
  });

  it('refuses host names ssh itself rejects (a leading "-", shell characters), and quoted jump hosts', async () => {
    const file = write('Host odd\n  HostName -oProxyCommand=touch\nHost quoted\n  ProxyJump "bastion"\n');
    for (const host of ['-oProxyCommand=x', 'a;b', 'a b', '$(id)']) expect((await refused(file, host)).message).to.contain('host name');
    expect(await refused(file, 'odd')).to.deep.include({ line: 2 });
    const config = await loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid });
    const error = await configError(() => Promise.resolve(resolveJumpChain(config, resolveSshOptions(config, 'quoted', {}, local), local)));
    expect(error.problems[0]?.loc?.line).to.equal(4);
    expect(error.problems[0]?.message).to.contain('quotes');
  });

  it('jump hosts: odd characters are refused at the ProxyJump line, and each hop gets the checks of a host', async () => {
    const file = write('Host ctl\n  ProxyJump ssh://a%01b@j\nHost via\n  ProxyJump j2\nHost j2\n  HostName "a b"\n');
    const config = await loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid });
    const chain = async (host: string): Promise<{ line?: number; message?: string }> => {
      const problem = (await configError(() => Promise.resolve(resolveJumpChain(config, resolveSshOptions(config, host, {}, local), local))))
        .problems[0];
      return { ...(problem?.loc ? { line: problem.loc.line } : {}), ...(problem ? { message: problem.message } : {}) };
    };
    expect(await chain('ctl')).to.deep.include({ line: 2 });
    const hop = await chain('via');
    expect(hop, 'checkNames on the hop, via resolveSshOptions').to.deep.include({ line: 6 });
    expect(hop.message).to.contain('host name "a b"');
  });

  it('ProxyJump ports may be service names or signed, as ssh reads them', () => {
    expect(parseProxyJump('jump:ssh,ops@other:+2200')).to.deep.equal({
      kind: 'chain',
      hops: [
        { host: 'jump', port: 22 },
        { user: 'ops', host: 'other', port: 2200 },
      ],
    });
  });

  it('StrictHostKeyChecking no is never "accept anything": accept-new, with a notice naming file:line', async () => {
    const file = write('Host lax\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n');
    const config = await loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid });
    const spec: ConnectionSpec = { host: 'lax', address: 'lax', port: 22, user: 'me', local: false, defaulted: ['port', 'user'] } as ConnectionSpec;
    const target = resolveTarget(spec, config, {}, local);
    expect(target.hostKeyPolicy.policy).to.equal('accept-new');
    expect(target.hostKeyPolicy.reason).to.equal(`StrictHostKeyChecking no (${file}:2) is taken as accept-new`);
  });
});

describe('ssh_config: hostile files', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-ssh-hostile-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text.replaceAll('$DIR', dir), { mode: 0o600 });
    return file;
  };
  const load = (file: string) => loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid });

  it('names an Include loop at the Include line, at once (ssh only says "too many includes")', async () => {
    write('b.conf', 'Include $DIR/config $DIR/config\n');
    const file = write('config', 'Host a\n  Include $DIR/b.conf $DIR/b.conf $DIR/b.conf\n');
    const started = Date.now();
    const error = await configError(() => load(file));
    expect(Date.now() - started).to.be.below(5000);
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]?.loc).to.deep.include({ file: join(dir, 'b.conf'), line: 1 });
    expect(error.problems[0]?.message).to.equal(`Include loop: ${file} includes ${join(dir, 'b.conf')} includes ${file}`);
  });

  it('skips folders matched by an Include, as ssh does', async () => {
    mkdirSync(join(dir, 'conf.d', 'sub'), { recursive: true });
    write('conf.d/a.conf', 'Host *\n  User from-a\n');
    const config = await load(write('config', 'Include $DIR/conf.d/* $DIR/conf.d\n'));
    expect(resolveSshOptions(config, 'x', {}, local).user).to.equal('from-a');
  });

  it('refuses a file over the size limit without reading it', async () => {
    const file = write('config', '');
    truncateSync(file, 40 * 1024 * 1024);
    const error = await configError(() => load(file));
    expect(error.problems[0]?.message).to.match(/limit is 32\.0 MiB/);
  });

  it('stops after 50 problems instead of listing a million', async () => {
    const error = await configError(() => load(write('config', 'Port 0\n'.repeat(10_000))));
    expect(error.problems).to.have.length(51);
    expect(error.problems.at(-1)?.message).to.contain('stopped reading');
  });
});
