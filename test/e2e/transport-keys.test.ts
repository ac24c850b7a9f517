// End-to-end: client keys and host key policy against real OpenSSH servers. Keys are made by ssh-keygen,
// passphrase-protected ones are served by a real ssh-agent. Needs root (sshd).
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSpec } from '../../src/config/types.js';
import { UnreachableError } from '../../src/errors.js';
import { closeTransports, openTransports } from '../../src/transport/open-transports.js';
import { SshTransport, type SshTransportOptions } from '../../src/transport/ssh-transport.js';
import { keygen, startSshd, type SshdFixture } from '../helpers/sshd.js';

async function failure(promise: Promise<unknown>): Promise<UnreachableError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(UnreachableError);
    return error as UnreachableError;
  }
  throw new Error('expected a failure, got success');
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !condition()) await new Promise((resolve) => setTimeout(resolve, 50));
  return condition();
}

const keyTypes: [string, string[]][] = [
  ['ed25519', []],
  ['ecdsa', ['-b', '256']],
  ['rsa', ['-b', '3072']],
];

describe('transport keys and host key policy (real sshd, ssh-keygen keys, ssh-agent)', function () {
  this.timeout(120_000);
  /** OpenSSH's defaults: RSA keys only with SHA-2 signatures (no SHA-1 ssh-rsa since 8.8). */
  let sshd: SshdFixture;
  /** Accepts RSA keys only with SHA-256 signatures: an RSA login there proves rsa-sha2-256. */
  let sha256Only: SshdFixture;
  let work: string;
  let knownHosts: string;
  let agentSocket: string;
  const keys = new Map<string, string>();
  const opened: SshTransport[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    sshd = await startSshd({ address: '127.0.104.1' });
    cleanups.push(() => sshd.stop());
    sha256Only = await startSshd({ address: '127.0.104.2', extraConfig: ['PubkeyAcceptedAlgorithms rsa-sha2-256,ssh-ed25519'] });
    cleanups.push(() => sha256Only.stop());
    work = mkdtempSync(join(tmpdir(), 'orchestrate-keys-e2e-'));
    cleanups.push(() => {
      rmSync(work, { recursive: true, force: true });
      return Promise.resolve();
    });
    knownHosts = join(work, 'known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine}\n${sha256Only.knownHostsLine}\n`);
    for (const [type, bits] of keyTypes) {
      const file = join(work, `id_${type}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', `test-${type}`, '-f', file]);
      keys.set(type, file);
      for (const server of [sshd, sha256Only]) server.authorize(readFileSync(`${file}.pub`, 'utf8'));
    }
    agentSocket = join(work, 'agent.sock');
    const started = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    cleanups.push(() => {
      started.kill('SIGTERM');
      return Promise.resolve();
    });
    expect(await waitFor(() => existsSync(agentSocket), 5000), 'ssh-agent started').to.equal(true);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((transport) => transport.close().catch(() => undefined)));
  });

  after(async () => {
    // What before() got to start (it may have stopped half-way), newest first.
    for (const stop of cleanups.reverse()) await stop();
  });

  const spec = (server: SshdFixture, overrides: Partial<ConnectionSpec> = {}): ConnectionSpec => ({
    host: 'target',
    address: server.address,
    port: server.port,
    user: 'root',
    local: false,
    become: false,
    ...overrides,
  });
  const transport = (server: SshdFixture, overrides: Partial<ConnectionSpec> = {}, options: SshTransportOptions = {}): SshTransport => {
    const created = new SshTransport(spec(server, overrides), {
      sshConfigFile: 'none',
      knownHostsFile: knownHosts,
      agentSocket: '',
      connectTimeoutMs: 5000,
      ...options,
    });
    opened.push(created);
    return created;
  };
  const echo = async (created: SshTransport): Promise<string> => {
    await created.connect();
    return (await created.exec('echo ok')).stdout;
  };
  const withAgent = (args: string[]): void => {
    execFileSync('ssh-add', args, { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'ignore' });
  };
  /** A copy of the key protected by a passphrase (with its .pub beside it unless `withoutPub`). */
  const locked = (type: string, withoutPub = false): string => {
    const file = join(work, `locked_${type}${withoutPub ? '_nopub' : ''}`);
    copyFileSync(keys.get(type)!, file);
    if (!withoutPub) copyFileSync(`${keys.get(type)!}.pub`, `${file}.pub`);
    execFileSync('ssh-keygen', ['-q', '-p', '-N', 'secret words', '-f', file]);
    return file;
  };

  for (const [type] of keyTypes) {
    it(`logs in with an ${type} key file`, async () => {
      expect(await echo(transport(sshd, { privateKeyFile: keys.get(type)! }))).to.equal('ok\n');
    });
  }

  it('signs RSA with SHA-2 (rsa-sha2-256), never falling back to SHA-1 ssh-rsa', async () => {
    const before256 = sha256Only.log().length;
    expect(await echo(transport(sha256Only, { privateKeyFile: keys.get('rsa')! }))).to.equal('ok\n');
    expect(sha256Only.log().slice(before256)).to.match(/Accepted publickey for root .* ssh2: RSA SHA256:/);
    // A server that would take only SHA-1 signatures gets none: the login fails rather than downgrade.
    const sha1Only = await startSshd({ address: '127.0.104.3', extraConfig: ['PubkeyAcceptedAlgorithms ssh-rsa'] });
    try {
      sha1Only.authorize(readFileSync(`${keys.get('rsa')!}.pub`, 'utf8'));
      const knownHere = join(work, 'known_hosts_sha1');
      writeFileSync(knownHere, `${sha1Only.knownHostsLine}\n`);
      const error = await failure(transport(sha1Only, { privateKeyFile: keys.get('rsa')! }, { knownHostsFile: knownHere }).connect());
      expect(error.message).to.contain(`authentication as root@${sha1Only.address}:${sha1Only.port} failed`);
      expect(sha1Only.log()).to.not.contain('Accepted publickey');
    } finally {
      await sha1Only.stop();
    }
  });

  for (const [type] of keyTypes) {
    it(`uses a passphrase-protected ${type} key through ssh-agent`, async () => {
      withAgent([keys.get(type)!]);
      try {
        expect(await echo(transport(sshd, { privateKeyFile: locked(type) }, { agentSocket }))).to.equal('ok\n');
      } finally {
        withAgent(['-D']);
      }
    });
  }

  it('without an agent, refuses a passphrase-protected key at once, naming it and ssh-add (no prompt)', async () => {
    const file = locked('ed25519');
    const started = Date.now();
    const error = await failure(transport(sshd, { privateKeyFile: file }).connect());
    expect(error.message).to.equal(`target: private key ${file} is protected by a passphrase, and orchestrate never asks for one`);
    expect(error.hint).to.contain(`ssh-add ${file}`).and.to.contain('SSH_AUTH_SOCK');
    expect(Date.now() - started).to.be.below(5000);
  });

  it('with an agent that does not hold the key, says which key to ssh-add', async () => {
    const file = locked('ecdsa', true); // no .pub: the public key comes from the key file's own header
    const error = await failure(transport(sshd, { privateKeyFile: file }, { agentSocket }).connect());
    expect(error.message).to.contain(`skipped the passphrase-protected ${file}`);
    expect(error.hint).to.contain(`ssh-add ${file}`);
  });

  it('IdentitiesOnly: of the agent keys, only those of the IdentityFile lines are offered', async () => {
    const stranger = keygen(join(work, 'stranger'), 'stranger');
    withAgent([stranger, keys.get('ed25519')!]);
    try {
      const config = (identity: string): string => {
        const file = join(work, `config_${identity.split('/').pop() ?? 'x'}`);
        writeFileSync(file, `Host *\n  IdentitiesOnly yes\n  IdentityFile ${identity}\n`, { mode: 0o600 });
        return file;
      };
      const allowedKey = locked('ed25519');
      expect(await echo(transport(sshd, {}, { agentSocket, sshConfigFile: config(allowedKey) }))).to.equal('ok\n');
      const before = sshd.log().length;
      const error = await failure(transport(sshd, {}, { agentSocket, sshConfigFile: config(stranger) }).connect());
      expect(error.message).to.contain('authentication as root@').and.to.contain('IdentitiesOnly');
      expect(sshd.log().slice(before), 'the authorized agent key was not offered').to.not.contain('Accepted publickey');
    } finally {
      withAgent(['-D']);
    }
  });

  describe('host key policy', () => {
    const fresh = (name: string): string => join(work, `${name}_known_hosts`);

    it('accept-new from ansible.cfg: records new keys, says so once per run, and still refuses a changed key', async () => {
      const file = fresh('accept');
      const notices: string[] = [];
      const notify = (message: string): void => {
        notices.push(message);
      };
      const options = {
        sshConfigFile: 'none',
        knownHostsFile: file,
        agentSocket: '',
        hostKeyPolicy: 'accept-new' as const,
        hostKeyPolicyReason: 'host_key_checking = False in ./ansible.cfg',
        notify,
      };
      const specs = [
        spec(sshd, { host: 'a', privateKeyFile: keys.get('ed25519')! }),
        spec(sha256Only, { host: 'b', privateKeyFile: keys.get('ed25519')! }),
      ];
      const first = await openTransports(specs, options);
      await closeTransports(first);
      const second = await openTransports(specs, options); // a later connection in the same run
      await closeTransports(second);
      const policyNotices = notices.filter((notice) => notice.startsWith('warning: host_key_checking = False in ./ansible.cfg'));
      expect(policyNotices, 'said once per run').to.have.length(1);
      expect(policyNotices[0]).to.contain('a host whose key changed is still refused');
      expect(notices.filter((notice) => notice.includes('recorded the new host key'))).to.have.length(2);
      expect(readFileSync(file, 'utf8'))
        .to.contain(sshd.hostPublicKey.toString('base64'))
        .and.to.contain(sha256Only.hostPublicKey.toString('base64'));

      const otherKey = sha256Only.knownHostsLine.split(' ').slice(1).join(' ');
      const changed = fresh('changed');
      writeFileSync(changed, `[${sshd.address}]:${sshd.port} ${otherKey}\n`);
      const refused = await openTransports([specs[0]!], { ...options, knownHostsFile: changed });
      expect((refused.get('a') as UnreachableError).message).to.contain('HAS CHANGED');
    });

    it('StrictHostKeyChecking no in ssh_config is taken as accept-new, and the notice names the file and line', async () => {
      const config = join(work, 'config_strict_no');
      writeFileSync(config, `Host *\n  IdentityFile ${keys.get('ecdsa')!}\n  StrictHostKeyChecking no\n`, { mode: 0o600 });
      const notices: string[] = [];
      const map = await openTransports([spec(sshd)], {
        sshConfigFile: config,
        knownHostsFile: fresh('strict-no'),
        agentSocket: '',
        notify: (message) => notices.push(message),
      });
      await closeTransports(map);
      expect(map.get('target')).to.not.be.instanceOf(UnreachableError);
      expect(notices[0]).to.equal(
        `warning: StrictHostKeyChecking no (${config}:3) is taken as accept-new: keys of hosts not yet in ${fresh('strict-no')} are accepted and recorded there; a host whose key changed is still refused`,
      );
    });

    it('strict by default: an unknown key is refused with its fingerprint', async () => {
      const error = await failure(transport(sshd, { privateKeyFile: keys.get('ed25519')! }, { knownHostsFile: fresh('strict') }).connect());
      expect(error.message).to.contain(`unknown host key for [${sshd.address}]:${sshd.port}: ${sshd.hostKeyType} ${sshd.hostFingerprint}`);
    });
  });
});
