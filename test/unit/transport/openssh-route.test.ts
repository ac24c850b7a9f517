// When a large upload may go through the OpenSSH client, and what that client is told: exactly the
// host key ssh2 trusted, the same user, port and keys, no ssh_config, strict checking, keys only.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulkCopyMode, opensshRoute, type OpensshRoute } from '../../../src/transport/openssh-copy.js';
import type { SshEndpoint, SshTarget } from '../../../src/transport/ssh-target.js';

/** An ssh-ed25519 public key blob: the type string, then 32 key bytes. */
function ed25519Blob(fill: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = Buffer.alloc(32, fill);
  const out = Buffer.alloc(8 + type.length + key.length);
  out.writeUInt32BE(type.length, 0);
  type.copy(out, 4);
  out.writeUInt32BE(key.length, 4 + type.length);
  key.copy(out, 8 + type.length);
  return out;
}

function endpoint(overrides: Partial<SshEndpoint>): SshEndpoint {
  return {
    host: 'etcd-1',
    alias: '10.0.0.1',
    address: '10.0.0.1',
    port: 2222,
    user: 'ops',
    identityFiles: [],
    identitiesOnly: false,
    knownHostsFiles: ['/home/ops/.ssh/known_hosts'],
    hostKeyPolicy: { policy: 'strict' },
    connectTimeoutMs: 2500,
    keepaliveIntervalMs: 5000,
    keepaliveCountMax: 3,
    ...overrides,
  };
}

function option(route: OpensshRoute, key: string): string[] {
  const values: string[] = [];
  route.options.forEach((arg, i) => {
    const next = route.options[i + 1];
    if (arg === '-o' && next?.startsWith(`${key}=`)) values.push(next.slice(key.length + 1));
  });
  return values;
}

describe('opensshRoute', () => {
  let dir: string;
  let keyFile: string;
  const hostKey = ed25519Blob(7);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-route-'));
    keyFile = join(dir, 'id_ed25519');
    writeFileSync(keyFile, 'not read here\n');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const target = (overrides: Partial<SshTarget> = {}): SshTarget => ({
    ...endpoint({ identityFiles: [{ path: keyFile, explicit: true }] }),
    jumps: [],
    ...overrides,
  });

  const routeOf = (choice: ReturnType<typeof opensshRoute>): OpensshRoute => {
    if (!('route' in choice)) throw new Error(`expected a route, got: ${choice.unusable}`);
    return choice.route;
  };

  it('pins the checked host key under its own alias, with strict checking and no other known hosts', () => {
    const route = routeOf(opensshRoute('/usr/bin/ssh', target(), hostKey, ''));
    expect(route.knownHostsLine).to.equal(`orchestrate-pinned-host ssh-ed25519 ${hostKey.toString('base64')}\n`);
    expect(option(route, 'StrictHostKeyChecking')).to.deep.equal(['yes']);
    expect(option(route, 'HostKeyAlias')).to.deep.equal(['orchestrate-pinned-host']);
    expect(option(route, 'GlobalKnownHostsFile')).to.deep.equal(['/dev/null']);
    expect(option(route, 'HostKeyAlgorithms')).to.deep.equal(['ssh-ed25519']);
    expect(option(route, 'UpdateHostKeys')).to.deep.equal(['no']);
    expect(route.options.slice(0, 2)).to.deep.equal(['-F', '/dev/null']);
  });

  it('offers the same user, port, keys and agent as the ssh2 connection, and nothing but keys', () => {
    const route = routeOf(opensshRoute('/usr/bin/ssh', target({ identitiesOnly: true }), hostKey, '/run/agent.sock'));
    expect(route.destination).to.equal('10.0.0.1');
    expect(route.options.slice(-4)).to.deep.equal(['-p', '2222', '-l', 'ops']);
    expect(option(route, 'IdentityFile')).to.deep.equal([keyFile]);
    expect(option(route, 'IdentitiesOnly')).to.deep.equal(['yes']);
    expect(option(route, 'IdentityAgent')).to.deep.equal(['/run/agent.sock']);
    expect(option(route, 'PasswordAuthentication')).to.deep.equal(['no']);
    expect(option(route, 'KbdInteractiveAuthentication')).to.deep.equal(['no']);
    expect(option(route, 'BatchMode')).to.deep.equal(['yes']);
    expect(option(route, 'ConnectTimeout')).to.deep.equal(['3']);
  });

  it('leaves out key files that do not exist and turns the agent off when there is none', () => {
    const route = routeOf(opensshRoute('/usr/bin/ssh', target({ identityFiles: [{ path: join(dir, 'missing'), explicit: false }] }), hostKey, ''));
    expect(option(route, 'IdentityFile')).to.deep.equal([]);
    expect(option(route, 'IdentityAgent')).to.deep.equal(['none']);
  });

  it('accepts every RSA signature algorithm for an RSA host key', () => {
    const type = Buffer.from('ssh-rsa');
    const rsa = Buffer.concat([Buffer.from([0, 0, 0, type.length]), type, Buffer.from([0, 0, 0, 1, 3])]);
    const route = routeOf(opensshRoute('/usr/bin/ssh', target(), rsa, ''));
    expect(option(route, 'HostKeyAlgorithms')).to.deep.equal(['rsa-sha2-512,rsa-sha2-256,ssh-rsa']);
  });

  it('stays on sftp through jump hosts, without a checked key, or without an ssh client', () => {
    const jump = endpoint({ host: 'jump host bastion', jump: true });
    expect(opensshRoute('/usr/bin/ssh', target({ jumps: [jump] }), hostKey, '')).to.deep.equal({
      unusable: 'the host is reached through jump hosts',
    });
    expect(opensshRoute('/usr/bin/ssh', target(), undefined, '')).to.deep.equal({ unusable: 'no checked host key to pin' });
    expect(opensshRoute(undefined, target(), hostKey, '')).to.deep.equal({ unusable: 'no ssh client on PATH' });
  });

  it("stays on sftp when a value would mean something else on ssh's command line (%-tokens, ~, spaces, a leading dash)", () => {
    for (const odd of [join(dir, 'id_%h'), join(dir, 'key file')]) {
      writeFileSync(odd, 'x\n');
      const choice = opensshRoute('/usr/bin/ssh', target({ identityFiles: [{ path: odd, explicit: true }] }), hostKey, '');
      expect(choice).to.deep.equal({ unusable: `${JSON.stringify(odd)} cannot be passed to ssh as it is` });
    }
    expect(opensshRoute('/usr/bin/ssh', target({ user: '~root' }), hostKey, '')).to.have.property('unusable');
    expect(opensshRoute('/usr/bin/ssh', target({ address: '-oProxyCommand=x' }), hostKey, '')).to.have.property('unusable');
    expect(opensshRoute('/usr/bin/ssh', target(), hostKey, '/tmp/agent %d')).to.have.property('unusable');
  });

  it('reads ORCHESTRATE_BULK_COPY: ssh and sftp as given, anything else as auto', () => {
    expect(bulkCopyMode({ ORCHESTRATE_BULK_COPY: 'sftp' })).to.equal('sftp');
    expect(bulkCopyMode({ ORCHESTRATE_BULK_COPY: 'ssh' })).to.equal('ssh');
    expect(bulkCopyMode({ ORCHESTRATE_BULK_COPY: 'scp' })).to.equal('auto');
    expect(bulkCopyMode({})).to.equal('auto');
  });
});
