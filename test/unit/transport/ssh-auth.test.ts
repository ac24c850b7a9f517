// Which keys are offered, with real ssh-keygen keys (no server: the plan of attempts is what is checked).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnreachableError } from '../../../src/errors.js';
import { authAttempts, opensshPublicKey, type AuthRequest } from '../../../src/transport/ssh-auth.js';
import { loadSsh2, type Ssh2Module } from '../../../src/transport/ssh2-loader.js';

describe('ssh-auth: the keys offered', () => {
  let dir: string;
  let ssh2: Ssh2Module;
  const key = (name: string, type: string, passphrase = ''): string => {
    const file = join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', file]);
    return file;
  };
  const blob = (file: string): Buffer => Buffer.from(readFileSync(`${file}.pub`, 'utf8').split(' ')[1] ?? '', 'base64');
  const request = (extra: Partial<AuthRequest>): AuthRequest => ({
    host: 'h1',
    user: 'root',
    identityFiles: [],
    identitiesOnly: false,
    agentSocket: '',
    ...extra,
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-auth-'));
    ssh2 = await loadSsh2();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the public key of a passphrase-protected key from its header, for the agent to sign with', () => {
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      const file = key(`locked-${type}`, type, 'secret');
      expect(opensshPublicKey(readFileSync(file))?.equals(blob(file)), type).to.equal(true);
    }
    expect(opensshPublicKey(Buffer.from('not a key'))).to.equal(undefined);
  });

  it('offers the identity files in order, skips missing defaults, then the agent', async () => {
    const first = key('first', 'ed25519');
    const second = key('second', 'ecdsa');
    const plan = await authAttempts(
      ssh2,
      request({
        identityFiles: [
          { path: first, explicit: true },
          { path: join(dir, 'absent'), explicit: false },
          { path: second, explicit: false },
        ],
        agentSocket: '/run/agent.sock',
      }),
    );
    expect(plan.attempts.map((attempt) => attempt.description.replace(/ SHA256:\S+\)$/, ')'))).to.deep.equal([
      `key ${first} (ssh-ed25519)`,
      `key ${second} (ecdsa-sha2-nistp256)`,
      'ssh-agent keys (/run/agent.sock)',
    ]);
    expect(plan.agentOnlyKeys).to.deep.equal([]);
  });

  it('leaves a passphrase-protected key to the agent, and says so; with IdentitiesOnly the agent offers only listed keys', async () => {
    const locked = key('locked', 'ed25519', 'secret');
    const plan = await authAttempts(
      ssh2,
      request({ identityFiles: [{ path: locked, explicit: true }], identitiesOnly: true, agentSocket: '/run/agent.sock' }),
    );
    expect(plan.attempts.map((attempt) => attempt.description)).to.deep.equal([
      'ssh-agent keys of the identity files (IdentitiesOnly; /run/agent.sock)',
    ]);
    expect(plan.agentOnlyKeys).to.deep.equal([locked]);
  });

  it('without an agent: a passphrase-protected key is refused with the ssh-add fix; a missing named key too', async () => {
    const locked = key('locked-2', 'ecdsa', 'secret');
    const refusal = async (files: AuthRequest['identityFiles']): Promise<UnreachableError> => {
      try {
        await authAttempts(ssh2, request({ identityFiles: files }));
      } catch (error) {
        return error as UnreachableError;
      }
      throw new Error('expected a refusal');
    };
    let error = await refusal([{ path: locked, explicit: true }]);
    expect(error.message).to.equal(`h1: private key ${locked} is protected by a passphrase, and orchestrate never asks for one`);
    expect(error.hint).to.contain(`ssh-add ${locked}`);
    error = await refusal([{ path: locked, explicit: false }]);
    expect(error.hint, 'also when it came from ssh_config and nothing else is left').to.contain(`ssh-add ${locked}`);
    error = await refusal([{ path: join(dir, 'nope'), explicit: true }]);
    expect(error.message).to.equal(`h1: cannot read private key ${join(dir, 'nope')}: no such file`);
    error = await refusal([{ path: join(dir, 'nope'), explicit: false }]);
    expect(error.message).to.equal('h1: no key to authenticate with');
  });
});
