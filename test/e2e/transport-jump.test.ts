// End-to-end: hosts behind jump hosts, with real OpenSSH servers. The hosts' sshds run in a network
// namespace of this test's own, so nothing here can reach them except through a jump host: a passing
// test proves the jump was used, and the jump host's sshd log shows each forwarded channel.
// Needs root (namespaces, sshd).
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionFor } from '../../src/config/connection.js';
import type { ConnectionSpec, InventoryHost } from '../../src/config/types.js';
import { ConfigError, UnreachableError } from '../../src/errors.js';
import { JumpHostPool } from '../../src/transport/jump-hosts.js';
import { closeTransports, openTransports, type OpenTransportsOptions } from '../../src/transport/open-transports.js';
import { SshTransport } from '../../src/transport/ssh-transport.js';
import { openTunnel } from '../../src/transport/tunnel.js';
import type { Transport } from '../../src/transport/types.js';
import { runCliFromSource } from '../helpers/cli.js';
import { createNetns, startInetdSshd, startSshd, type InetdSshdFixture, type Netns, type SshdFixture } from '../helpers/sshd.js';

const memberAddresses = ['127.0.213.2', '127.0.213.3', '127.0.213.4'];
/** A second jump host, itself inside the namespace (reachable only through the first). */
const innerJumpAddress = '127.0.213.9';

function connected(map: Map<string, Transport | UnreachableError>): Transport[] {
  return [...map.values()].map((entry) => {
    if (entry instanceof UnreachableError) throw entry;
    return entry;
  });
}

/** A TCP connection from here (the deploy host) to address:port: refused, or open. */
function directConnect(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('transport through jump hosts (real sshds, members in a network namespace)', function () {
  this.timeout(120_000);
  let netns: Netns;
  let bastion: InetdSshdFixture;
  let members: SshdFixture[];
  let innerJump: SshdFixture;
  let work: string;
  let knownHosts: string;
  let sshConfig: string;
  const opened: Map<string, Transport | UnreachableError>[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    netns = await createNetns();
    cleanups.push(() => netns.stop());
    bastion = await startInetdSshd({ netns, logLevel: 'DEBUG1' });
    cleanups.push(() => bastion.stop());
    members = await Promise.all(memberAddresses.map((address) => startSshd({ netns, address })));
    cleanups.push(() => Promise.all(members.map((member) => member.stop())).then(() => undefined));
    innerJump = await startSshd({ netns, address: innerJumpAddress, logLevel: 'DEBUG1' });
    cleanups.push(() => innerJump.stop());
    work = mkdtempSync(join(tmpdir(), 'orchestrate-jump-e2e-'));
    cleanups.push(() => {
      rmSync(work, { recursive: true, force: true });
      return Promise.resolve();
    });
    // One client key for all: each server authorizes the bastion's client key.
    const clientPublic = readFileSync(`${bastion.clientKeyFile}.pub`, 'utf8');
    for (const server of [...members, innerJump]) server.authorize(clientPublic);
    knownHosts = join(work, 'known_hosts');
    writeFileSync(knownHosts, [bastion, ...members, innerJump].map((server) => server.knownHostsLine).join('\n') + '\n');
    sshConfig = join(work, 'ssh_config');
    writeFileSync(
      sshConfig,
      [
        'Host bastion',
        `  HostName ${bastion.address}`,
        `  Port ${bastion.port}`,
        'Host inner',
        `  HostName ${innerJumpAddress}`,
        'Host member-*',
        '  ProxyJump bastion',
        'Host member-a',
        `  HostName ${memberAddresses[0]}`,
        'Host member-b',
        `  HostName ${memberAddresses[1]}`,
        'Host member-c',
        `  HostName ${memberAddresses[2]}`,
        'Host chained',
        `  HostName ${memberAddresses[2]}`,
        '  ProxyJump bastion,inner',
        'Host *',
        '  User root',
        `  IdentityFile ${bastion.clientKeyFile}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((map) => closeTransports(map)));
  });

  after(async () => {
    // What before() got to start (it may have stopped half-way), newest first.
    for (const stop of cleanups.reverse()) await stop();
  });

  const spec = (host: string, address = host): ConnectionSpec => ({
    host,
    address,
    port: 22,
    user: 'root',
    local: false,
    become: false,
    defaulted: ['port', 'user'],
  });
  const options = (extra: OpenTransportsOptions = {}): OpenTransportsOptions => ({
    sshConfigFile: sshConfig,
    knownHostsFile: knownHosts,
    agentSocket: '',
    connectTimeoutMs: 5000,
    jumpHosts: new JumpHostPool(),
    ...extra,
  });
  const open = async (specs: ConnectionSpec[], extra: OpenTransportsOptions = {}): Promise<Map<string, Transport | UnreachableError>> => {
    const map = await openTransports(specs, options(extra));
    opened.push(map);
    return map;
  };
  const forwardsInLog = (log: string, address: string): number =>
    log.split('\n').filter((line) => line.includes('server_request_direct_tcpip') && line.includes(`target ${address} port 22`)).length;

  it('the members cannot be reached from here except through the jump host', async () => {
    for (const address of memberAddresses) expect(await directConnect(address, 22)).to.equal('ECONNREFUSED');
  });

  it('reaches every member through one shared connection to the jump host (ProxyJump from ssh_config)', async () => {
    const before = bastion.connections();
    const pool = new JumpHostPool();
    const map = await open(
      ['member-a', 'member-b', 'member-c'].map((name) => spec(name)),
      { jumpHosts: pool },
    );
    const transports = connected(map);
    const seen = await Promise.all(transports.map(async (transport) => (await transport.exec('echo "$SSH_CONNECTION"')).stdout.trim().split(' ')[2]));
    expect(seen).to.deep.equal(memberAddresses);
    expect(bastion.connections() - before, 'one SSH connection to the jump host for three members').to.equal(1);
    expect(pool.openCount).to.equal(1);
    for (const address of memberAddresses)
      expect(forwardsInLog(bastion.log(), address), `forward to ${address} in the jump host's log`).to.be.at.least(1);
    await closeTransports(map);
    opened.pop();
    expect(pool.openCount, 'the jump host connection closes with the last member').to.equal(0);
  });

  it('goes through a chain of two jump hosts (ProxyJump bastion,inner)', async () => {
    const innerLogBefore = innerJump.log().length;
    const [transport] = connected(await open([spec('chained')]));
    expect((await transport!.exec('echo "$SSH_CONNECTION"')).stdout.trim().split(' ')[2]).to.equal(memberAddresses[2]);
    expect(forwardsInLog(bastion.log(), innerJumpAddress), 'bastion forwarded to the inner jump host').to.be.at.least(1);
    expect(forwardsInLog(innerJump.log().slice(innerLogBefore), memberAddresses[2]!), 'the inner jump host forwarded to the member').to.be.at.least(
      1,
    );
  });

  it('takes the jump host from the inventory: -J / -o ProxyJump in ansible_ssh_common_args, and ssh_jump_hosts', async () => {
    const host = (name: string, vars: Record<string, unknown>): InventoryHost => ({
      name,
      vars: { ansible_host: memberAddresses[0], ansible_user: 'root', ...vars },
      groups: ['all'],
    });
    const viaArgs = connectionFor(
      host('by-args', { ansible_ssh_common_args: `-o StrictHostKeyChecking=yes -o ProxyJump=root@${bastion.address}:${bastion.port}` }),
    );
    const viaJ = connectionFor(host('by-j', { ansible_ssh_extra_args: `-J root@${bastion.address}:${bastion.port}` }));
    const viaVariable = connectionFor(host('by-variable', { ssh_jump_hosts: [`root@${bastion.address}:${bastion.port}`] }));
    const map = await open([viaArgs, viaJ, viaVariable], { sshConfigFile: 'none', defaultIdentityFiles: [bastion.clientKeyFile] });
    for (const transport of connected(map)) expect((await transport.exec('echo ok')).stdout).to.equal('ok\n');
  });

  it('refuses a ProxyCommand in the inventory args before connecting anything', () => {
    const host: InventoryHost = { name: 'pc', vars: { ansible_ssh_common_args: '-o ProxyCommand="nc %h %p"' }, groups: ['all'] };
    expect(() => connectionFor(host)).to.throw(ConfigError, /ProxyCommand is not supported/);
  });

  it('a dead jump host fails every host behind it at once, naming the jump host', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, bastion.address, () => {
        const port = (probe.address() as { port: number }).port;
        probe.close(() => resolve(port));
      });
    });
    const config = join(work, 'dead_config');
    writeFileSync(config, `Host member-*\n  ProxyJump root@${bastion.address}:${closed}\nHost *\n  IdentityFile ${bastion.clientKeyFile}\n`, {
      mode: 0o600,
    });
    const map = await open(
      ['member-a', 'member-b'].map((name) => spec(name)),
      { sshConfigFile: config },
    );
    for (const [host, entry] of map) {
      expect(entry, host).to.be.instanceOf(UnreachableError);
      expect((entry as UnreachableError).message).to.equal(
        `${host}: jump host ${bastion.address}: connection refused by ${bastion.address}:${closed}`,
      );
    }
  });

  it('a jump host that never answers fails every host within the connect timeout, with one attempt for all', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, bastion.address, resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const config = join(work, 'silent_config');
      writeFileSync(config, `Host member-*\n  ProxyJump root@${bastion.address}:${port}\nHost *\n  IdentityFile ${bastion.clientKeyFile}\n`, {
        mode: 0o600,
      });
      const started = Date.now();
      const map = await open(
        ['member-a', 'member-b', 'member-c'].map((name) => spec(name)),
        { sshConfigFile: config, connectTimeoutMs: 1500 },
      );
      const elapsed = Date.now() - started;
      for (const [host, entry] of map)
        expect((entry as UnreachableError).message, host).to.equal(
          `${host}: jump host ${bastion.address}: timed out after 1.5 s waiting for SSH at ${bastion.address}:${port}`,
        );
      expect(sockets.length, 'one connection attempt to the jump host, shared').to.equal(1);
      expect(elapsed, 'within the connect timeout (plus slack for a loaded machine)').to.be.below(1500 + 4000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses a jump host whose key is unknown, with its fingerprint and the fix; a changed one even with accept-new', async () => {
    const withoutBastion = join(work, 'known_hosts_without_bastion');
    writeFileSync(withoutBastion, members.map((member) => member.knownHostsLine).join('\n') + '\n');
    const map = await open(
      ['member-a', 'member-b'].map((name) => spec(name)),
      { knownHostsFile: withoutBastion },
    );
    for (const [host, entry] of map) {
      const error = entry as UnreachableError;
      expect(error.message, host).to.contain(
        `${host}: jump host bastion: unknown host key for [${bastion.address}]:${bastion.port}: ${bastion.hostKeyType} ${bastion.hostFingerprint}`,
      );
      expect(error.hint).to.contain(`ssh-keyscan -p ${bastion.port}`);
    }
    const changed = join(work, 'known_hosts_changed_bastion');
    const other = members[0]!.knownHostsLine.split(' ').slice(1).join(' ');
    writeFileSync(changed, [`[${bastion.address}]:${bastion.port} ${other}`, ...members.map((member) => member.knownHostsLine)].join('\n') + '\n');
    const notices: string[] = [];
    const refused = await open([spec('member-a')], {
      knownHostsFile: changed,
      hostKeyPolicy: 'accept-new',
      notify: (message) => notices.push(message),
    });
    expect((refused.get('member-a') as UnreachableError).message).to.contain('jump host bastion: WARNING: THE HOST KEY OF');
    expect(
      notices.filter((notice) => notice.includes('recorded')),
      'nothing recorded',
    ).to.deep.equal([]);
    expect(readFileSync(changed, 'utf8'), 'the file is left alone').to.not.contain(bastion.hostPublicKey.toString('base64'));
  });

  it('orchestrate run reaches the members through the jump host named by ssh_jump_hosts and resolved in --ssh-config', async () => {
    const inventory = join(work, 'inventory.yml');
    const hosts = memberAddresses.slice(0, 2).map((address, index) => `        m${index + 1}: { ansible_host: ${address} }`);
    writeFileSync(
      inventory,
      ['all:', '  vars:', '    ansible_user: root', '    ssh_jump_hosts: bastion', '  children:', '    etcd:', '      hosts:', ...hosts, ''].join(
        '\n',
      ),
    );
    const playbook = join(work, 'ssh-connection.yml');
    writeFileSync(playbook, '- hosts: etcd\n  gather_facts: false\n  tasks:\n    - shell: echo "$SSH_CONNECTION"\n');
    const logins = bastion.connections();
    const result = await runCliFromSource(['run', playbook, '-i', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts], {
      timeoutMs: 60_000,
      env: { SSH_AUTH_SOCK: '' },
    });
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout)
      .to.match(/m1 .*ok=1 .*changed=1/)
      .and.to.match(/m2 .*ok=1 .*changed=1/);
    expect(bastion.connections() - logins, 'one connection to the jump host for both members').to.equal(1);

    const refusing = join(work, 'refusing_config');
    writeFileSync(refusing, `Host *\n  IdentityFile ${bastion.clientKeyFile}\nHost m* 127.0.213.*\n  ProxyCommand nc %h %p\n`, { mode: 0o600 });
    const withoutJump = join(work, 'inventory-direct.yml');
    writeFileSync(withoutJump, ['all:', '  vars:', '    ansible_user: root', '  children:', '    etcd:', '      hosts:', ...hosts, ''].join('\n'));
    const refused = await runCliFromSource(['run', playbook, '-i', withoutJump, '--ssh-config', refusing, '--known-hosts', knownHosts], {
      timeoutMs: 60_000,
    });
    expect(refused.code, refused.stdout + refused.stderr).to.equal(2);
    expect(refused.stderr).to.contain(`${refusing}:4`).and.to.contain('ProxyCommand "nc %h %p" applies to').and.to.contain('ProxyJump');
    expect(bastion.connections() - logins, 'nothing was contacted').to.equal(1);
  });

  it('openTunnel: a local port that reaches a port only the member can reach, through its SSH connection', async () => {
    const echo = await spawnEcho(netns, 7007);
    try {
      const [member] = connected(await open([spec('member-b')]));
      const tunnel = await openTunnel(member as SshTransport, '127.0.0.1', 7007);
      try {
        expect(await directConnect(memberAddresses[1]!, 7007), 'not reachable directly').to.equal('ECONNREFUSED');
        expect(await roundTrip(tunnel.localPort, 'hello through ssh\n')).to.equal('hello through ssh\n');
        expect(await roundTrip(tunnel.localPort, 'a second connection\n')).to.equal('a second connection\n');
      } finally {
        await tunnel.close();
      }
      const errors: UnreachableError[] = [];
      const nothing = await openTunnel(member as SshTransport, '127.0.0.1', 7008, { onError: (error) => errors.push(error) });
      try {
        expect(await roundTrip(nothing.localPort, 'x')).to.equal('');
        expect(errors[0]?.message).to.contain('cannot connect to 127.0.0.1:7008');
      } finally {
        await nothing.close();
      }
    } finally {
      echo.kill('SIGTERM');
    }
  });
});

/** A TCP echo server on 127.0.0.1:port inside the namespace (where a member's etcd listens), once it listens. */
async function spawnEcho(netns: Netns, port: number): Promise<ChildProcess> {
  const script = `require('net').createServer((s) => s.pipe(s)).listen(${port}, '127.0.0.1', () => console.log('ready'))`;
  const child = spawn(netns.enter[0]!, [...netns.enter.slice(1), process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the echo server exited with ${String(code)}`)));
  });
  return child;
}

/** Sends `text` to 127.0.0.1:port and returns what comes back before the other end closes (or 2 s pass). */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(text));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= text.length) socket.end();
    });
    const done = (): void => resolve(received);
    socket.once('close', done);
    socket.once('error', done);
    setTimeout(() => socket.destroy(), 2000);
  });
}
