// End-to-end: SshTransport against a real OpenSSH sshd on 127.0.101.1, LocalTransport on this machine.
// Needs root (sshd, a throwaway sudo user). The "remote" host is this machine, so remote files are checked with fs.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSpec } from '../../src/config/types.js';
import { TaskFailedError, UnreachableError } from '../../src/errors.js';
import { LocalTransport } from '../../src/transport/local-transport.js';
import { closeTransports, openTransports } from '../../src/transport/open-transports.js';
import { sha256File } from '../../src/transport/sha256.js';
import { SshTransport, type SshTransportOptions } from '../../src/transport/ssh-transport.js';
import type { Transport } from '../../src/transport/types.js';
import { createSudoUser, keygen, removeSudoUser, startSshd, type SshdFixture } from '../helpers/sshd.js';

// Unique per run: the suite may run twice at once (several people share this machine).
const testUser = `orcht${process.pid}`;

/** The UnreachableError a connection attempt ends with. */
async function unreachable(promise: Promise<unknown>): Promise<UnreachableError> {
  const error = await failure(promise);
  if (error instanceof UnreachableError) return error;
  throw new Error(`expected an UnreachableError, got ${error.name}: ${error.message}`);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure, got success');
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.includes('.orchestrate-tmp-'));
}

/** Staging files of this run's test user (unique per run, so parallel runs do not disturb the check). */
function stagedInTmp(uid: number): string[] {
  return readdirSync('/tmp').filter((name) => {
    if (!name.startsWith('orchestrate-stage-')) return false;
    try {
      return statSync(join('/tmp', name)).uid === uid;
    } catch {
      return false;
    }
  });
}

/** Gone or a zombie (this container's init may be slow to reap orphans). */
function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe('transport end to end', function () {
  this.timeout(120_000);
  let sshd: SshdFixture;
  let work: string;
  let userDir: string;
  let knownHosts: string;
  let userUid: number;
  const opened: Transport[] = [];

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    sshd = await startSshd();
    createSudoUser(testUser);
    userUid = Number(execFileSync('id', ['-u', testUser]).toString().trim());
    work = mkdtempSync(join(tmpdir(), 'orchestrate-transport-e2e-'));
    chmodSync(work, 0o755);
    userDir = join(work, 'user');
    mkdirSync(userDir);
    chownSync(userDir, userUid, userUid);
    knownHosts = join(work, 'known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((transport) => transport.close().catch(() => undefined)));
  });

  after(async () => {
    // sshd is unset when before() skipped or failed before starting it.
    await (sshd as SshdFixture | undefined)?.stop();
    removeSudoUser(testUser);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const spec = (overrides: Partial<ConnectionSpec> = {}): ConnectionSpec => ({
    host: 'target',
    address: sshd.address,
    port: sshd.port,
    user: 'root',
    privateKeyFile: sshd.clientKeyFile,
    local: false,
    become: false,
    ...overrides,
  });
  const transport = (overrides: Partial<ConnectionSpec> = {}, options: SshTransportOptions = {}): SshTransport => {
    const created = new SshTransport(spec(overrides), { knownHostsFile: knownHosts, agentSocket: '', connectTimeoutMs: 5000, ...options });
    opened.push(created);
    return created;
  };
  const connected = async (overrides: Partial<ConnectionSpec> = {}, options: SshTransportOptions = {}): Promise<SshTransport> => {
    const created = transport(overrides, options);
    await created.connect();
    return created;
  };
  const asUser = (options: SshTransportOptions = {}): Promise<SshTransport> => connected({ user: testUser }, options);

  describe('SshTransport exec', () => {
    it('returns stdout, stderr and the exit code separately', async () => {
      const ssh = await asUser();
      const result = await ssh.exec(`printf 'out\\n'; printf 'err\\n' >&2; exit 3`);
      expect(result).to.include({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
      expect(result.timedOut).to.equal(undefined);
      expect(result.durationMs).to.be.a('number');
    });

    it('passes stdin, and closes stdin when none is given', async () => {
      const ssh = await asUser();
      expect((await ssh.exec('cat', { stdin: 'line 1\nline 2\n' })).stdout).to.equal('line 1\nline 2\n');
      const noInput = await ssh.exec('cat; echo done', { timeoutMs: 10_000 });
      expect(noInput).to.include({ exitCode: 0, stdout: 'done\n' });
    });

    it('reports a command ended by a signal: by name on a channel of its own, as 128+N on the shell', async () => {
      const ssh = await asUser();
      // Input makes the command take a channel of its own; sshd then reports the signal itself.
      const onChannel = await ssh.exec('kill -TERM $$', { stdin: '' });
      expect(onChannel.exitCode).to.equal(null);
      expect(onChannel.signal).to.equal('SIGTERM');
      const onShell = await ssh.exec('kill -TERM $$');
      expect(onShell.exitCode).to.equal(143);
      expect((await ssh.exec('echo next')).stdout).to.equal('next\n');
    });

    it('runs commands one after another on one shell, none leaking state into the next', async () => {
      const ssh = await asUser();
      const shellPid = (await ssh.exec('echo $PPID')).stdout;
      expect((await ssh.exec('cd /; X=set; export X; umask 077; set -e; false; exit 4')).exitCode).to.equal(1);
      expect((await ssh.exec('exit 4')).exitCode).to.equal(4);
      const syntax = await ssh.exec('if then fi (');
      expect(syntax.exitCode).to.equal(2);
      expect(syntax.stderr).to.match(/syntax error/i);
      const after = await ssh.exec('pwd; printf "%s\\n" "${X-unset}"; umask; echo $PPID');
      expect(after.stdout).to.equal(`/home/${testUser}\nunset\n0022\n${shellPid}`);
      expect(after.exitCode).to.equal(0);
    });

    it('keeps output byte for byte: no trailing newline, control bytes, marker-like text', async () => {
      const ssh = await asUser();
      const result = await ssh.exec(`printf 'a\\036b\\036'; printf '\\036%s 0\\n' deadbeef; printf 'no newline'; printf 'e\\036' >&2`);
      expect(result.stdout).to.equal('a\x1eb\x1e\x1edeadbeef 0\nno newline');
      expect(result.stderr).to.equal('e\x1e');
      expect(result.exitCode).to.equal(0);
    });

    it('a command stopped on the shell takes the shell with it; the next command gets a new one', async () => {
      const ssh = await asUser();
      const before = (await ssh.exec('echo $PPID')).stdout;
      const stopped = await ssh.exec('sleep 60', { timeoutMs: 300 });
      expect(stopped.timedOut).to.equal(true);
      const next = await ssh.exec('echo $PPID');
      expect(next.exitCode).to.equal(0);
      expect(next.stdout).to.not.equal(before);
    });

    it('an idle shell gives up its channel slot to a command that needs a channel', async () => {
      const ssh = await asUser({ maxChannels: 1 });
      expect((await ssh.exec('echo on the shell')).stdout).to.equal('on the shell\n');
      const withInput = await ssh.exec('cat', { stdin: 'on a channel\n', timeoutMs: 10_000 });
      expect(withInput.stdout).to.equal('on a channel\n');
      const file = join(userDir, 'one-slot.txt');
      await ssh.upload({ content: 'sftp too\n' }, file, { mode: 0o600 });
      expect(readFileSync(file, 'utf8')).to.equal('sftp too\n');
      expect((await ssh.exec('echo shell again')).stdout).to.equal('shell again\n');
    });

    it('kills a command that runs past its timeout, children included', async () => {
      const ssh = await asUser();
      const pidFile = join(userDir, 'background.pid');
      const started = Date.now();
      const result = await ssh.exec(`sleep 60 & echo $! > ${pidFile}; wait`, { timeoutMs: 500 });
      expect(result.timedOut).to.equal(true);
      expect(result.exitCode).to.equal(null);
      expect(Date.now() - started).to.be.below(5000);
      const backgroundPid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => processGone(backgroundPid), 3000), 'the background sleep was killed').to.equal(true);
    });

    it('stops a command when the abort signal fires, rejecting with its reason', async () => {
      const ssh = await asUser();
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('operator pressed ctrl-c')), 300);
      const started = Date.now();
      const error = await failure(ssh.exec('sleep 30', { signal: controller.signal }));
      expect(error.message).to.equal('operator pressed ctrl-c');
      expect(Date.now() - started).to.be.below(5000);
      expect((await ssh.exec('echo still usable')).stdout).to.equal('still usable\n');
    });

    it('runs 20 commands at once on one connection although sshd allows 10 sessions', async () => {
      for (const maxChannels of [8, 20]) {
        // 20 is more than the server allows: the refused channels must wait and succeed, not fail.
        const ssh = await asUser({ maxChannels });
        const started = Date.now();
        const results = await Promise.all(Array.from({ length: 20 }, (_, index) => ssh.exec(`sleep 1; echo ${index}`)));
        expect(results.map((result) => result.stdout)).to.deep.equal(Array.from({ length: 20 }, (_, index) => `${index}\n`));
        expect(results.every((result) => result.exitCode === 0)).to.equal(true);
        expect(Date.now() - started, 'ran concurrently').to.be.below(15_000);
      }
    });

    it('bounds the memory kept for huge output while reading both streams to the end', async () => {
      const ssh = await asUser({ outputCapBytes: 64 * 1024 });
      const result = await ssh.exec(`head -c 1000000 /dev/zero | tr '\\0' a; echo END; head -c 300000 /dev/zero | tr '\\0' b >&2; echo ERR >&2`);
      expect(result.exitCode).to.equal(0);
      expect(result.stdout.length).to.be.below(70 * 1024);
      expect(result.stdout).to.match(/^a+\n\[orchestrate: \d+ bytes of output omitted\]\na+END\n$/);
      expect(result.stderr).to.match(/omitted\]\nb+ERR\n$/);
    });

    it('runs become commands through sudo for a non-root user, with quoting intact', async () => {
      const ssh = await asUser();
      const command = `id -un; printf '%s\\n' 'it'\\''s $HOME; $(id)'`;
      expect((await ssh.exec(command)).stdout).to.equal(`${testUser}\nit's $HOME; $(id)\n`);
      expect((await ssh.exec(command, { become: true })).stdout).to.equal(`root\nit's $HOME; $(id)\n`);
      expect((await ssh.exec('printf %s "$SUDO_USER"', { become: true })).stdout).to.equal(testUser);
      const byDefault = await connected({ user: testUser, become: true });
      expect((await byDefault.exec('id -un')).stdout).to.equal('root\n');
      expect((await byDefault.exec('id -un', { become: false })).stdout).to.equal(`${testUser}\n`);
    });

    it('kills a timed-out become command running as root', async () => {
      const ssh = await asUser();
      const pidFile = join(work, 'root-background.pid');
      const result = await ssh.exec(`sleep 60 & echo $! > ${pidFile}; wait`, { become: true, timeoutMs: 800 });
      expect(result.timedOut).to.equal(true);
      const backgroundPid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => processGone(backgroundPid), 5000), 'the root sleep was killed').to.equal(true);
    });

    it('leaves root commands unwrapped by sudo', async () => {
      const ssh = await connected({ become: true });
      expect((await ssh.exec('printf "%s|%s" "$(id -un)" "$SUDO_USER"')).stdout).to.equal('root|');
    });

    it('fails the running command and later ones with UnreachableError when the connection drops', async () => {
      const ssh = await asUser();
      expect((await ssh.exec('echo up')).stdout).to.equal('up\n');
      const running = ssh.exec('sleep 30');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sshd.connectionPids()).to.have.length(1);
      // the unprivileged session process holds the socket: kill the whole tree, as a crashed host would
      for (const pid of sshd.descendantPids()) process.kill(pid, 'SIGKILL');
      const started = Date.now();
      const error = await failure(running);
      expect(error).to.be.instanceOf(UnreachableError);
      expect(error.message).to.match(/^target: lost the SSH connection/);
      expect(Date.now() - started).to.be.below(5000);
      expect(await failure(ssh.exec('true'))).to.be.instanceOf(UnreachableError);
    });
  });

  describe('SshTransport connect and host keys', () => {
    it('refuses an unknown host key, showing the fingerprint and how to trust it', async () => {
      const empty = join(work, 'empty_known_hosts');
      writeFileSync(empty, '');
      const error = await unreachable(transport({}, { knownHostsFile: empty }).connect());
      expect(error).to.be.instanceOf(UnreachableError);
      expect(error.host).to.equal('target');
      expect(error.message).to.contain('unknown host key');
      expect(error.message).to.contain(sshd.hostFingerprint);
      expect(error.hint).to.contain(`ssh-keyscan -p ${sshd.port} -t ssh-ed25519 ${sshd.address} >> ${empty}`);
      expect(error.hint).to.contain('--accept-new-host-keys');
      expect(readFileSync(empty, 'utf8')).to.equal('');
    });

    it('records an unknown key with acceptNewHostKeys (file 0600 in a new 0700 folder) and trusts it next time', async () => {
      const sshDir = join(work, 'fresh-home', '.ssh');
      const file = join(sshDir, 'known_hosts');
      const first = await connected({}, { knownHostsFile: file, acceptNewHostKeys: true });
      expect(first.recordedHostKey?.fingerprint).to.equal(sshd.hostFingerprint);
      expect(readFileSync(file, 'utf8')).to.equal(`${sshd.knownHostsLine}\n`);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(statSync(sshDir).mode & 0o777).to.equal(0o700);
      const second = await connected({}, { knownHostsFile: file });
      expect(second.recordedHostKey).to.equal(undefined);
      expect((await second.exec('echo ok')).stdout).to.equal('ok\n');
    });

    it('refuses a changed host key loudly, even with acceptNewHostKeys, and leaves the file alone', async () => {
      const otherKey = keygen(join(work, 'impostor_key'), 'impostor');
      const [type, base64] = readFileSync(`${otherKey}.pub`, 'utf8').split(' ');
      const file = join(work, 'changed_known_hosts');
      const content = `[${sshd.address}]:${sshd.port} ${type} ${base64}\n`;
      writeFileSync(file, content);
      const storedFingerprint = execFileSync('ssh-keygen', ['-lf', `${otherKey}.pub`])
        .toString()
        .split(' ')[1]!;
      const error = await unreachable(transport({}, { knownHostsFile: file, acceptNewHostKeys: true }).connect());
      expect(error).to.be.instanceOf(UnreachableError);
      expect(error.message).to.contain('HAS CHANGED');
      expect(error.message).to.contain(sshd.hostFingerprint);
      expect(error.message).to.contain(storedFingerprint);
      expect(error.message).to.contain(`${file}:1`);
      expect(error.hint).to.contain('ssh-keygen -R');
      expect(readFileSync(file, 'utf8')).to.equal(content);
    });

    it('reads GlobalKnownHostsFile as ssh does: a key pinned there is trusted, another key there is a changed key, even with acceptNewHostKeys', async () => {
      const userFile = join(work, 'global_user_known_hosts');
      writeFileSync(userFile, '');
      const pinned = join(work, 'global_known_hosts');
      writeFileSync(pinned, `${sshd.knownHostsLine}\n`);
      const pinnedConfig = join(work, 'global_ssh_config');
      writeFileSync(pinnedConfig, `GlobalKnownHostsFile ${pinned}\n`);
      const trusted = await connected({}, { knownHostsFile: userFile, sshConfigFile: pinnedConfig });
      expect((await trusted.exec('echo ok')).stdout).to.equal('ok\n');
      expect(readFileSync(userFile, 'utf8')).to.equal('');

      const impostor = keygen(join(work, 'global_impostor_key'), 'impostor');
      const [type, base64] = readFileSync(`${impostor}.pub`, 'utf8').split(' ');
      const other = join(work, 'global_known_hosts_other');
      writeFileSync(other, `[${sshd.address}]:${sshd.port} ${type} ${base64}\n`);
      const otherConfig = join(work, 'global_ssh_config_other');
      writeFileSync(otherConfig, `GlobalKnownHostsFile ${other}\n`);
      const error = await unreachable(transport({}, { knownHostsFile: userFile, sshConfigFile: otherConfig, acceptNewHostKeys: true }).connect());
      expect(error.message).to.contain('HAS CHANGED');
      expect(error.message).to.contain(`${other}:1`);
      expect(readFileSync(userFile, 'utf8')).to.equal('');
    });

    it('refuses a key marked @revoked', async () => {
      const file = join(work, 'revoked_known_hosts');
      writeFileSync(file, `${sshd.knownHostsLine}\n@revoked * ${sshd.hostKeyType} ${sshd.hostPublicKey.toString('base64')}\n`);
      const error = await failure(transport({}, { knownHostsFile: file }).connect());
      expect(error.message).to.contain('@revoked');
    });

    it('accepts a hashed known_hosts entry', async () => {
      const file = join(work, 'hashed_known_hosts');
      writeFileSync(file, `${sshd.knownHostsLine}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
      expect(readFileSync(file, 'utf8')).to.match(/^\|1\|/);
      const ssh = await connected({}, { knownHostsFile: file });
      expect((await ssh.exec('echo hashed')).stdout).to.equal('hashed\n');
    });

    it('fails within seconds, naming the host, when nothing listens on the port', async () => {
      const started = Date.now();
      const error = await unreachable(transport({ port: 1 }).connect());
      expect(error).to.be.instanceOf(UnreachableError);
      expect(error.message).to.equal(`target: connection refused by ${sshd.address}:1`);
      expect(Date.now() - started).to.be.below(3000);
    });

    it('times out a server that accepts but never speaks SSH', async () => {
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, sshd.address, resolve));
      const port = (silent.address() as { port: number }).port;
      try {
        const started = Date.now();
        const error = await failure(transport({ port }, { connectTimeoutMs: 1000 }).connect());
        expect(error).to.be.instanceOf(UnreachableError);
        expect(error.message).to.contain(`timed out after 1 s waiting for SSH at ${sshd.address}:${port}`);
        expect(Date.now() - started).to.be.below(4000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('names the key it tried when authentication fails', async () => {
      const stranger = keygen(join(work, 'stranger_key'), 'stranger');
      const error = await unreachable(transport({ privateKeyFile: stranger }).connect());
      expect(error).to.be.instanceOf(UnreachableError);
      expect(error.message).to.contain(`authentication as root@${sshd.address}:${sshd.port} failed`);
      expect(error.message).to.contain(`key ${stranger} (ssh-ed25519 SHA256:`);
    });

    it('authenticates through ssh-agent, also when the key file needs a passphrase', async () => {
      const agentSocket = join(work, 'agent.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
      try {
        expect(await waitFor(() => existsSync(agentSocket), 5000), 'ssh-agent started').to.equal(true);
        execFileSync('ssh-add', [sshd.clientKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'ignore' });
        const viaAgent = await connected({ privateKeyFile: undefined }, { agentSocket, defaultIdentityFiles: [] });
        expect((await viaAgent.exec('echo agent')).stdout).to.equal('agent\n');

        // The same key, protected by a passphrase: without an agent that is a clear error, with one it works.
        const locked = join(work, 'locked_key');
        copyFileSync(sshd.clientKeyFile, locked);
        execFileSync('ssh-keygen', ['-q', '-p', '-N', 'secret words', '-f', locked]);
        const error = await unreachable(transport({ privateKeyFile: locked }).connect());
        expect(error.message).to.contain(`private key ${locked} is protected by a passphrase`);
        expect(error.hint).to.contain(`ssh-add ${locked}`);
        const lockedViaAgent = await connected({ privateKeyFile: locked }, { agentSocket });
        expect((await lockedViaAgent.exec('echo unlocked')).stdout).to.equal('unlocked\n');
      } finally {
        agent.kill('SIGTERM');
      }
    });

    it('says so when the key file is missing', async () => {
      const error = await unreachable(transport({ privateKeyFile: join(work, 'nope') }).connect());
      expect(error.message).to.contain(`cannot read private key ${join(work, 'nope')}: no such file`);
      expect(error.hint).to.contain('ansible_ssh_private_key_file');
    });
  });

  describe('SshTransport transfers', () => {
    let big: string;
    let bigSha: string;
    before(async () => {
      big = join(work, 'big.bin');
      const chunks = Array.from({ length: 50 }, () => randomBytes(1024 * 1024));
      writeFileSync(big, Buffer.concat(chunks));
      bigSha = await sha256File(big);
    });

    it('uploads and downloads 50 MB, sha256-verified, owner-only, with no temporary files left', async () => {
      const ssh = await connected();
      const remoteDir = join(work, 'remote');
      mkdirSync(remoteDir);
      const remote = join(remoteDir, 'big.bin');
      const up = await ssh.upload({ path: big }, remote, { mode: 0o600 });
      expect(up).to.deep.equal({ bytes: 50 * 1024 * 1024, sha256: bigSha });
      expect(await sha256File(remote)).to.equal(bigSha);
      expect(statSync(remote).mode & 0o777).to.equal(0o600);
      expect(leftovers(remoteDir)).to.deep.equal([]);

      const local = join(work, 'downloads', 'nested', 'big.bin');
      const down = await ssh.download(remote, local, { mode: 0o600 });
      expect(down).to.deep.equal({ bytes: 50 * 1024 * 1024, sha256: bigSha });
      expect(await sha256File(local)).to.equal(bigSha);
      expect(statSync(local).mode & 0o777).to.equal(0o600);
      expect(leftovers(join(work, 'downloads', 'nested'))).to.deep.equal([]);
    });

    it('uploads in-memory content with the requested mode and replaces an existing file', async () => {
      const ssh = await asUser();
      const dest = join(userDir, 'config.yml');
      await ssh.upload({ content: 'first\n' }, dest, { mode: 0o640 });
      expect(readFileSync(dest, 'utf8')).to.equal('first\n');
      expect(statSync(dest).mode & 0o777).to.equal(0o640);
      const result = await ssh.upload({ content: Buffer.from('second\n') }, dest, { mode: 0o600 });
      expect(readFileSync(dest, 'utf8')).to.equal('second\n');
      expect(statSync(dest).mode & 0o777).to.equal(0o600);
      expect(statSync(dest).uid).to.equal(userUid);
      expect(result.bytes).to.equal(7);
      expect(leftovers(userDir)).to.deep.equal([]);
    });

    it('never leaves a file at the local path when the remote file is missing', async () => {
      const ssh = await asUser();
      const localDir = join(work, 'missing-download');
      const local = join(localDir, 'snapshot.db');
      const error = await failure(ssh.download('/nonexistent/snapshot.db', local, { mode: 0o600 }));
      expect(error).to.be.instanceOf(TaskFailedError);
      expect(error.message).to.contain('target: cannot read /nonexistent/snapshot.db');
      expect(error.message).to.contain('No such file');
      expect(existsSync(local)).to.equal(false);
      expect(leftovers(localDir)).to.deep.equal([]);
    });

    it('refuses to replace a directory and cleans up its temporary file', async () => {
      const ssh = await asUser();
      mkdirSync(join(userDir, 'a-dir'));
      const error = await failure(ssh.upload({ content: 'x' }, join(userDir, 'a-dir'), { mode: 0o600 }));
      expect(error).to.be.instanceOf(TaskFailedError);
      expect(error.message).to.contain('is a directory');
      expect(leftovers(userDir)).to.deep.equal([]);
    });

    it('writes and reads root-only files through sudo for a non-root user', async () => {
      const ssh = await asUser();
      const rootDir = join(work, 'root-only');
      mkdirSync(rootDir, { mode: 0o700 });
      const dest = join(rootDir, 'secret.conf');
      const denied = await failure(ssh.upload({ content: 'secret\n' }, dest, { mode: 0o600 }));
      expect(denied).to.be.instanceOf(TaskFailedError);
      expect(existsSync(dest)).to.equal(false);

      const up = await ssh.upload({ path: big }, dest, { mode: 0o640, become: true });
      expect(up.sha256).to.equal(bigSha);
      expect(statSync(dest).uid).to.equal(0);
      expect(statSync(dest).mode & 0o777).to.equal(0o640);
      expect(leftovers(rootDir)).to.deep.equal([]);

      const local = join(work, 'from-root', 'secret.conf');
      const refused = await failure(ssh.download(dest, local, { mode: 0o600 }));
      expect(refused.message).to.contain('Permission denied');
      expect(existsSync(local)).to.equal(false);

      const down = await ssh.download(dest, local, { mode: 0o600, become: true });
      expect(down.sha256).to.equal(bigSha);
      expect(statSync(local).mode & 0o777).to.equal(0o600);
      expect(stagedInTmp(userUid)).to.deep.equal([]);
    });
  });

  describe('LocalTransport', () => {
    const local = new LocalTransport();

    it('runs commands through sh with separate streams, exit code and stdin', async () => {
      const result = await local.exec(`printf 'out\\n'; printf 'err\\n' >&2; exit 4`);
      expect(result).to.include({ exitCode: 4, stdout: 'out\n', stderr: 'err\n' });
      expect((await local.exec('cat', { stdin: 'piped\n' })).stdout).to.equal('piped\n');
      expect((await local.exec('cat; echo done', { timeoutMs: 10_000 })).stdout).to.equal('done\n');
    });

    it('reports a signal', async () => {
      const result = await local.exec('kill -TERM $$');
      expect(result.exitCode).to.equal(null);
      expect(result.signal).to.equal('SIGTERM');
    });

    it('kills the whole process group on timeout', async () => {
      const pidFile = join(work, 'local-background.pid');
      const started = Date.now();
      const result = await local.exec(`sleep 60 & echo $! > ${pidFile}; wait`, { timeoutMs: 500 });
      expect(result.timedOut).to.equal(true);
      expect(Date.now() - started).to.be.below(4000);
      const backgroundPid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => processGone(backgroundPid), 3000)).to.equal(true);
    });

    it('rejects with the abort reason', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('cancelled')), 200);
      const error = await failure(local.exec('sleep 30', { signal: controller.signal }));
      expect(error.message).to.equal('cancelled');
    });

    it('copies files and content atomically with modes and sha256', async () => {
      const dir = join(work, 'local-copies');
      mkdirSync(dir);
      const source = join(dir, 'source.bin');
      writeFileSync(source, randomBytes(3 * 1024 * 1024));
      const sourceSha = await sha256File(source);
      const up = await local.upload({ path: source }, join(dir, 'copy.bin'), { mode: 0o644 });
      expect(up).to.deep.equal({ bytes: 3 * 1024 * 1024, sha256: sourceSha });
      expect(statSync(join(dir, 'copy.bin')).mode & 0o777).to.equal(0o644);
      await local.upload({ content: 'hello\n' }, join(dir, 'hello.txt'), { mode: 0o600 });
      expect(readFileSync(join(dir, 'hello.txt'), 'utf8')).to.equal('hello\n');
      const down = await local.download(source, join(dir, 'fetched', 'copy.bin'), { mode: 0o600 });
      expect(down.sha256).to.equal(sourceSha);
      expect(statSync(join(dir, 'fetched', 'copy.bin')).mode & 0o777).to.equal(0o600);
      expect(leftovers(dir)).to.deep.equal([]);
      expect(leftovers(join(dir, 'fetched'))).to.deep.equal([]);
    });

    it('leaves nothing behind when the source is missing', async () => {
      const dir = join(work, 'local-missing');
      const error = await failure(local.download(join(work, 'no-such-file'), join(dir, 'x.db'), { mode: 0o600 }));
      expect(error).to.be.instanceOf(TaskFailedError);
      expect(error.message).to.contain('ENOENT');
      expect(existsSync(join(dir, 'x.db'))).to.equal(false);
      expect(leftovers(dir)).to.deep.equal([]);
    });

    it('goes through sudo for become when the deploy user is not root', async () => {
      const viaSudo = new LocalTransport({ host: 'localhost' }, { user: testUser });
      expect((await viaSudo.exec('printf %s "$SUDO_USER"', { become: true })).stdout).to.equal('root');
      expect((await viaSudo.exec('printf %s "$SUDO_USER"')).stdout).to.equal('');
      const dir = join(work, 'local-sudo');
      mkdirSync(dir);
      const up = await viaSudo.upload({ content: 'via sudo\n' }, join(dir, 'file'), { mode: 0o640, become: true });
      expect(readFileSync(join(dir, 'file'), 'utf8')).to.equal('via sudo\n');
      expect(statSync(join(dir, 'file')).mode & 0o777).to.equal(0o640);
      const down = await viaSudo.download(join(dir, 'file'), join(dir, 'back'), { mode: 0o600, become: true });
      expect(down.sha256).to.equal(up.sha256);
      expect(statSync(join(dir, 'back')).mode & 0o777).to.equal(0o600);
      expect(leftovers(dir)).to.deep.equal([]);
      expect(stagedInTmp(userUid)).to.deep.equal([]);
    });
  });

  it('openTransports connects all hosts and keeps each failure per host', async () => {
    const transports = await openTransports(
      [spec({ host: 'good' }), spec({ host: 'dead', port: 1 }), { ...spec({ host: 'localhost' }), local: true }],
      { knownHostsFile: knownHosts, agentSocket: '', connectTimeoutMs: 5000 },
    );
    try {
      expect([...transports.keys()]).to.deep.equal(['good', 'dead', 'localhost']);
      const good = transports.get('good');
      expect(good).to.be.instanceOf(SshTransport);
      expect((await (good as Transport).exec('echo hi')).stdout).to.equal('hi\n');
      const dead = transports.get('dead');
      expect(dead).to.be.instanceOf(UnreachableError);
      expect((dead as UnreachableError).message).to.contain('dead: connection refused');
      expect(transports.get('localhost')).to.be.instanceOf(LocalTransport);
    } finally {
      await closeTransports(transports);
    }
  });
});
