// How a host's connection settings come together: the inventory first, then ssh_config, then the
// command line of orchestrate over both, and the jump hosts resolved hop by hop.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSshConfig, type SshConfig } from '../../../src/config/ssh-config.js';
import type { SshLocal } from '../../../src/config/ssh-config-resolve.js';
import type { ConnectionSpec } from '../../../src/config/types.js';
import { ConfigError } from '../../../src/errors.js';
import { resolveTarget } from '../../../src/transport/ssh-target.js';

const local: SshLocal = { user: 'me', homeDir: '/home/me', uid: 1000, hostname: 'deploy.example' };

describe('resolveTarget', () => {
  let dir: string;
  let config: SshConfig;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-target-'));
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'Host etcd*',
        '  User ops',
        '  Port 2222',
        '  IdentityFile ~/.ssh/id_%r_%h',
        '  ProxyJump bastion',
        '  ConnectTimeout 3',
        '  ServerAliveInterval 20',
        '  UserKnownHostsFile ~/.ssh/known_%h',
        'Host bastion',
        '  HostName 10.9.0.1',
        '  User jumper',
        '  ProxyJump none',
        '  StrictHostKeyChecking accept-new',
        'Host chain',
        '  ProxyJump outer,inner:2200',
        'Host outer',
        '  ProxyJump far-outer',
        'Host loop',
        '  ProxyJump loop',
        'Host relay',
        '  ProxyCommand ssh -W %h:%p somewhere',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    config = await loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const spec = (address: string, extra: Partial<ConnectionSpec> = {}): ConnectionSpec => ({
    host: `inv-${address}`,
    address,
    port: 22,
    user: 'me',
    local: false,
    become: false,
    defaulted: ['port', 'user'],
    ...extra,
  });

  it('fills what the inventory leaves out from ssh_config, with tokens and ~ expanded', () => {
    const target = resolveTarget(spec('etcd1'), config, {}, local);
    expect(target).to.deep.include({
      host: 'inv-etcd1',
      alias: 'etcd1',
      address: 'etcd1',
      port: 2222,
      user: 'ops',
      connectTimeoutMs: 3000,
      keepaliveIntervalMs: 20_000,
    });
    expect(target.identityFiles).to.deep.equal([{ path: '/home/me/.ssh/id_ops_etcd1', explicit: false }]);
    expect(target.knownHostsFiles).to.deep.equal(['/home/me/.ssh/known_etcd1']);
    expect(target.hostKeyPolicy).to.deep.equal({ policy: 'strict' });
  });

  it('keeps the inventory values over ssh_config, and orchestrate options over both', () => {
    const target = resolveTarget(
      spec('etcd1', { port: 22, user: 'root', privateKeyFile: '/keys/inv', defaulted: [] }),
      config,
      { connectTimeoutMs: 9000, knownHostsFile: '/kh' },
      local,
    );
    expect(target).to.deep.include({ port: 22, user: 'root', connectTimeoutMs: 9000 });
    expect(target.identityFiles[0]).to.deep.equal({ path: '/keys/inv', explicit: true });
    expect(target.knownHostsFiles).to.deep.equal(['/kh']);
    expect(target.jumps.map((hop) => hop.knownHostsFiles)).to.deep.equal([['/kh']]);
  });

  it('resolves the jump host with its own Host block', () => {
    const [jump, ...more] = resolveTarget(spec('etcd1'), config, {}, local).jumps;
    expect(more).to.deep.equal([]);
    expect(jump).to.deep.include({ host: 'jump host bastion', alias: 'bastion', address: '10.9.0.1', port: 22, user: 'jumper', jump: true });
    expect(jump?.hostKeyPolicy.policy).to.equal('accept-new');
    expect(jump?.hostKeyPolicy.reason).to.match(/^StrictHostKeyChecking accept-new \(.*config:13\)$/);
  });

  it('builds chains as ssh -J does: the last hop takes the others as its ProxyJump, the first its own', () => {
    const target = resolveTarget(spec('chain'), config, {}, local);
    expect(target.jumps.map((hop) => `${hop.alias}:${hop.port}`)).to.deep.equal(['far-outer:22', 'outer:22', 'inner:2200']);
  });

  it('the inventory ProxyJump none connects directly', () => {
    expect(resolveTarget(spec('etcd1', { proxyJump: 'none' }), config, {}, local).jumps).to.deep.equal([]);
  });

  it('an explicit policy beats ssh_config; --accept-new-host-keys means accept-new', () => {
    expect(resolveTarget(spec('bastion'), config, { hostKeyPolicy: 'strict' }, local).hostKeyPolicy).to.deep.equal({ policy: 'strict' });
    expect(resolveTarget(spec('etcd1'), config, { acceptNewHostKeys: true }, local).hostKeyPolicy).to.deep.equal({ policy: 'accept-new' });
    expect(resolveTarget(spec('etcd1'), config, { hostKeyPolicy: 'accept-new', hostKeyPolicyReason: 'because' }, local).hostKeyPolicy).to.deep.equal({
      policy: 'accept-new',
      reason: 'because',
    });
  });

  it('without ssh_config settings: ~/.ssh/id_* keys, ~/.ssh/known_hosts(2), 10 s, keepalive 5 s', () => {
    const target = resolveTarget(spec('plain', { defaulted: [] }), { files: [] }, {}, local);
    expect(target.identityFiles.map((file) => file.path)).to.deep.equal(
      ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(homedir(), '.ssh', name)),
    );
    expect(target.knownHostsFiles).to.deep.equal([join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')]);
    expect(target).to.deep.include({ connectTimeoutMs: 10_000, keepaliveIntervalMs: 5000, keepaliveCountMax: 3, port: 22, user: 'me' });
  });

  it('refuses a jump loop and a ProxyCommand with file:line', () => {
    for (const [address, message] of [
      ['loop', /loop jumps through itself/],
      ['relay', /ProxyCommand "ssh -W %h:%p somewhere" applies to relay/],
    ] as const) {
      let error: unknown;
      try {
        resolveTarget(spec(address), config, {}, local);
      } catch (caught) {
        error = caught;
      }
      expect(error, address).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).problems[0]?.message).to.match(message);
      expect((error as ConfigError).problems[0]?.loc?.file).to.equal(join(dir, 'config'));
    }
  });
});
