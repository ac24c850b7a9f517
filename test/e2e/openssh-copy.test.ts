// End-to-end: large uploads through the OpenSSH client against a real sshd on 127.0.101.1 (needs root).
// The client must refuse any host key but the one ssh2 checked, report a write failure as the
// far side's error, and never outlive the process that started it.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskFailedError } from '../../src/errors.js';
import { findSsh, opensshCopyMinBytes, opensshPut, opensshRoute, OpensshCopyError, type OpensshRoute } from '../../src/transport/openssh-copy.js';
import { sha256File } from '../../src/transport/sha256.js';
import { SshTransport } from '../../src/transport/ssh-transport.js';
import { waitFor } from '../helpers/lab.js';
import { processesMentioning } from '../helpers/processes.js';
import { keygen, startSshd, type SshdFixture } from '../helpers/sshd.js';

const repoRoot = join(import.meta.dirname, '..', '..');

describe('e2e: uploads through the OpenSSH client', function () {
  this.timeout(60_000);
  let sshd: SshdFixture;
  let work: string;
  let knownHosts: string;
  let big: string;
  let bigSha: string;
  let sshPath: string | undefined;
  const opened: SshTransport[] = [];

  before(async function () {
    sshPath = await findSsh();
    if (process.getuid?.() !== 0 || !sshPath) this.skip();
    sshd = await startSshd();
    work = mkdtempSync(join(tmpdir(), 'orchestrate-openssh-'));
    knownHosts = join(work, 'known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
    big = join(work, 'big.bin');
    writeFileSync(big, randomBytes(opensshCopyMinBytes + 4096));
    bigSha = await sha256File(big);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((transport) => transport.close().catch(() => undefined)));
  });

  after(async () => {
    await (sshd as SshdFixture | undefined)?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const connected = async (notices: string[] = []): Promise<SshTransport> => {
    const transport = new SshTransport(
      { host: 'target', address: sshd.address, port: sshd.port, user: 'root', privateKeyFile: sshd.clientKeyFile, local: false, become: false },
      { knownHostsFile: knownHosts, agentSocket: '', connectTimeoutMs: 5000, sshConfigFile: 'none', notify: (line) => notices.push(line) },
    );
    opened.push(transport);
    await transport.connect();
    return transport;
  };

  it('uploads a large file through ssh with the sha256 checked, the mode set and nothing left behind', async () => {
    const notices: string[] = [];
    const ssh = await connected(notices);
    const dir = join(work, 'far-1');
    mkdirSync(dir);
    const dest = join(dir, 'snapshot.db');
    const result = await ssh.upload({ path: big }, dest, { mode: 0o640, sha256: bigSha });
    expect(result).to.deep.equal({ bytes: opensshCopyMinBytes + 4096, sha256: bigSha });
    expect(await sha256File(dest)).to.equal(bigSha);
    expect(statSync(dest).mode & 0o777).to.equal(0o640);
    expect(readdirSync(dir)).to.deep.equal(['snapshot.db']);
    expect(ssh.uploadRoutes).to.deep.equal({ openssh: 1, sftp: 0 });
    expect(notices).to.deep.equal([]);
  });

  it('keeps small files on sftp', async () => {
    const ssh = await connected();
    const small = join(work, 'small.bin');
    writeFileSync(small, randomBytes(1024));
    await ssh.upload({ path: small }, join(work, 'small-copy.bin'), { mode: 0o600 });
    expect(ssh.uploadRoutes).to.deep.equal({ openssh: 0, sftp: 1 });
  });

  it('refuses a host key other than the one the connection checked, and writes nothing', async () => {
    const other = keygen(join(work, 'other-host-key'), 'not the server');
    const otherBlob = Buffer.from(readFileSync(`${other}.pub`, 'latin1').split(' ')[1]!, 'base64');
    const dest = join(work, 'never-written.db');
    let failure: unknown;
    try {
      await opensshPut(routeFor(await connected(), otherBlob), 'target', big, dest);
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(OpensshCopyError);
    expect(failure).to.have.property('connectionFailed', true);
    expect((failure as Error).message).to.match(/host key/i);
    expect(existsSync(dest)).to.equal(false);
  });

  it('a far-side write failure: ssh names the far error, the transfer tries sftp (which says the same) and fails', async () => {
    const dest = join(work, 'no-such-dir', 'snapshot.db');
    let direct: unknown;
    try {
      await opensshPut(routeFor(await connected()), 'target', big, dest);
    } catch (error) {
      direct = error;
    }
    expect(direct).to.be.instanceOf(OpensshCopyError);
    expect(direct).to.have.property('connectionFailed', false);
    expect((direct as Error).message).to.match(/cannot write .*no-such-dir.*(Directory nonexistent|No such file or directory)/s);

    const notices: string[] = [];
    const ssh = await connected(notices);
    let failure: unknown;
    try {
      await ssh.upload({ path: big }, dest, { mode: 0o600, sha256: bigSha });
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(TaskFailedError);
    expect((failure as Error).message).to.match(/no-such-dir/);
    expect(notices).to.have.length(1);
    expect(notices[0]).to.match(/the ssh client could not copy .*no-such-dir.*; copying over sftp instead$/s);
    expect(ssh.uploadRoutes).to.deep.equal({ openssh: 0, sftp: 0 });
  });

  it('ends the ssh copy when the process that started it is killed with SIGKILL', async () => {
    const ssh = await connected();
    // A FIFO nobody writes to keeps the copy running until the parent is gone.
    const fifo = join(work, 'never-ending');
    execFileSync('mkfifo', [fifo]);
    const holder = openSync(fifo, 'r+');
    const marker = `orchestrate-killed-copy-${process.pid}-${Date.now()}`;
    const script = join(work, 'copy-then-die.mts');
    writeFileSync(
      script,
      [
        `import { opensshPut } from ${JSON.stringify(join(repoRoot, 'src/transport/openssh-copy.ts'))};`,
        `const route = ${JSON.stringify(routeFor(ssh))};`,
        `await opensshPut(route, 'target', ${JSON.stringify(fifo)}, ${JSON.stringify(join(work, marker))});`,
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import=tsx', script], { cwd: repoRoot, stdio: 'ignore' });
    try {
      expect(await waitFor(() => Promise.resolve(processesMentioning(marker).length >= 2), 20_000), 'the copy started').to.equal(true);
      child.kill('SIGKILL');
      expect(
        await waitFor(() => Promise.resolve(processesMentioning(marker).length === 0), 10_000),
        `copy processes left: ${processesMentioning(marker).join(', ')}`,
      ).to.equal(true);
    } finally {
      child.kill('SIGKILL');
      closeSync(holder);
    }
  });

  /** The route a connected transport would take, pinned to `hostKey`. */
  function routeFor(ssh: SshTransport, hostKey: Buffer = sshd.hostPublicKey): OpensshRoute {
    if (!ssh.target) throw new Error('not connected');
    const choice = opensshRoute(sshPath, ssh.target, hostKey, '');
    if (!('route' in choice)) throw new Error(choice.unusable);
    return choice.route;
  }
});
