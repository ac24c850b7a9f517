// ssh_config tables: a config file in, the settings per host out, each compared with what Debian's
// OpenSSH client resolves for the same host (`ssh -G HOST -F FILE`, the oracle).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSshConfig } from '../../../src/config/ssh-config.js';
import { resolveSshOptions, type ResolvedSsh } from '../../../src/config/ssh-config-resolve.js';
import { configError, describeOracleCases, local, oracle, sshAvailable, type Case } from './ssh-config-oracle.js';

const cases: Case[] = [
  {
    name: 'Host patterns with ! negation; the first value of each option wins',
    config:
      'Host web* !web3\n  User alice\n  Port 2200\nHost *.example.com db?\n  User bob\n  Port 2300\nHost *\n  User carol\n  ServerAliveInterval 15\n',
    hosts: ['web1', 'web3', 'db1', 'db12', 'x.example.com', 'WEB1'],
  },
  {
    name: 'HostName with %h, Match host on the expanded (lower-cased) name, Match originalhost, user, localuser, all',
    config: [
      'Host short',
      '  HostName %h.Example.COM',
      'Match host short.example.com',
      '  User matched-host',
      'Match originalhost short !host other',
      '  Port 2201',
      'Match user matched-host',
      '  ConnectTimeout 7',
      `Match localuser ${local.user}`,
      '  ServerAliveCountMax 9',
      'Match !localuser nobody-here',
      '  IdentitiesOnly yes',
      'Match all',
      '  Port 2299',
      '',
    ].join('\n'),
    hosts: ['short', 'other', 'short.example.com'],
  },
  {
    name: 'Include with globs: inside a Host block, state restored after the file, nested Match',
    config: 'Host inc-*\n  Include $DIR/conf.d/*.conf\n  Port 2400\nInclude $DIR/top/[ab]?.conf\nHost *\n  User fallback\n',
    files: {
      'conf.d/10-users.conf': 'User from-include\nMatch host inc-special\n  Port 2401\n',
      'conf.d/20-more.conf': 'ConnectTimeout 3\n',
      'conf.d/skip.txt': 'User never\n',
      'top/a1.conf': 'Host plain\n  User from-a1\n',
      'top/b2.conf': 'Host plain other\n  Port 2402\n',
      'top/c3.conf': 'Host plain\n  User never-c3\n',
    },
    hosts: ['inc-one', 'inc-special', 'plain', 'other'],
  },
  {
    name: 'IdentityFile: several, tokens kept as written, duplicates once, the inventory key first',
    config:
      'Host k*\n  IdentityFile ~/.ssh/id_%h_%r\n  IdentityFile /keys/%u-%p\n  IdentityFile ~/.ssh/id_%h_%r\n  IdentitiesOnly yes\nHost *\n  IdentityFile "/keys/with space"\n',
    hosts: ['k1', 'other'],
    commandLine: { identityFiles: ['/inventory/key'] },
  },
  {
    name: 'ProxyJump chains, none, and ProxyCommand after ProxyJump (ignored, as ssh does)',
    config:
      'Host direct\n  ProxyJump none\nHost behind-*\n  ProxyJump ops@bastion1:2222,ssh://admin@jump2:2022,[fd00::5]:22,jump3\n  ProxyCommand ssh -W %h:%p never-used\nHost *\n  ProxyJump default-jump\n',
    hosts: ['direct', 'behind-1', 'elsewhere'],
  },
  {
    name: 'time values, StrictHostKeyChecking spellings, UserKnownHostsFile with ~, tokens and none',
    config: [
      'Host t1',
      '  ConnectTimeout 1m30s',
      '  ServerAliveInterval 2M',
      '  StrictHostKeyChecking accept-new',
      '  UserKnownHostsFile ~/kh1 %d/kh_%h_%p_%r_%u_%n_%l_%L %C',
      'Host t2',
      '  ConnectTimeout none',
      '  StrictHostKeyChecking off',
      '  UserKnownHostsFile none',
      'Host t3',
      '  StrictHostKeyChecking yes',
      '  ConnectTimeout 1h',
      '',
    ].join('\n'),
    hosts: ['t1', 't2', 't3', 't4'],
  },
  {
    name: 'Match final: a second pass with the final host name; Host lines then match it too',
    config: 'Host alias\n  HostName real.example.org\nMatch final host real.example.org\n  User final-user\nHost real.example.org\n  Port 2500\n',
    hosts: ['alias', 'real.example.org', 'x'],
  },
  {
    name: 'key=value, quotes, comments and odd spacing',
    config:
      '# comment\nHost  q1 # trailing comment\n\tUser=alice\n  HostName = "quoted.example"\n  Port\t=\t2600\n  IdentityFile "/path with space/key"\n',
    hosts: ['q1'],
  },
  {
    name: 'the inventory (ssh -o) comes before the config: user and port win, Match user sees the inventory user',
    config: 'Match user deploy\n  Port 2701\n  ProxyJump via-match\nHost *\n  User config-user\n  Port 2702\n',
    hosts: ['m1'],
    commandLine: { user: 'deploy', proxyJump: 'inv-jump:2200' },
  },
  {
    name: 'the inventory ProxyJump none turns off the config ProxyJump',
    config: 'Host *\n  ProxyJump config-jump\n',
    hosts: ['n1'],
    commandLine: { proxyJump: 'none', port: 2222 },
  },
];

describeOracleCases('ssh_config resolution, compared with ssh -G', cases);

describe('ssh_config: what orchestrate refuses, and bad files', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    if (!sshAvailable) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrate-ssh-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (text: string): string => {
    const file = join(dir, 'config');
    writeFileSync(file, text.replaceAll('$DIR', dir), { mode: 0o600 });
    return file;
  };
  const resolve = async (file: string, host: string): Promise<ResolvedSsh> =>
    resolveSshOptions(await loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid }), host, {}, local);

  it('refuses a ProxyCommand exactly where ssh would run it, naming file:line and the fix', async () => {
    const file = write('Host pj\n  ProxyJump j1\nHost pc pj\n  ProxyCommand nc %h %p\nHost off\n  ProxyCommand none\n');
    expect(oracle(file, 'pc').proxycommand).to.equal('nc %h %p');
    const error = await configError(() => resolve(file, 'pc'));
    expect(error.problems[0]?.loc).to.deep.include({ file, line: 4 });
    expect(error.problems[0]?.message).to.contain('ProxyCommand "nc %h %p" applies to pc');
    expect(error.problems[0]?.hint).to.contain('ProxyJump');
    // ProxyJump came first for pj, and ProxyCommand none does nothing: ssh runs no command for them.
    expect(oracle(file, 'pj').proxycommand).to.equal(undefined);
    expect((await resolve(file, 'pj')).proxyJump?.value).to.equal('j1');
    expect((await resolve(file, 'off')).proxyJump).to.equal(undefined);
  });

  it('refuses Match exec when a host reaches it, and only then (ssh runs the command exactly then)', async () => {
    const marker = join(dir, 'ran');
    const file = write(`Match host reached exec "touch ${marker}"\n  User x\n`);
    oracle(file, 'skipped');
    expect(existsSync(marker), 'ssh did not run it for a host that fails the first criterion').to.equal(false);
    expect((await resolve(file, 'skipped')).user).to.equal(local.user);
    oracle(file, 'reached');
    expect(existsSync(marker), 'ssh ran it for the host that passed the first criterion').to.equal(true);
    rmSync(marker);
    const error = await configError(() => resolve(file, 'reached'));
    expect(existsSync(marker), 'orchestrate never runs it').to.equal(false);
    expect(error.problems[0]?.loc).to.deep.include({ file, line: 1 });
    expect(error.problems[0]?.message).to.contain('Match exec').and.to.contain('never runs commands');
  });

  const badFiles: [string, string, number, RegExp][] = [
    ['a port out of range', 'Host a\n  Port 70000\n', 2, /bad port "70000"/],
    ['an unclosed quote', 'Host a\n  IdentityFile "/x\n', 2, /unbalanced quotes/],
    ['an unknown Match criterion', 'Match hostname x\n  User y\n', 1, /unsupported criterion "hostname"/],
    ['Match all with more', 'Match all host x\n', 1, /cannot be combined/],
    ['a bad ProxyJump', 'Host a\n  ProxyJump u@:22\n', 2, /invalid ProxyJump/],
    ['a bad time', 'Host a\n  ConnectTimeout 5x\n', 2, /bad time "5x"/],
    ['a keyword without a value', 'Host a\n  User\n', 2, /no value after User/],
    ['a bad value in a block that does not apply', 'Host never\n  StrictHostKeyChecking maybe\n', 2, /bad value "maybe"/],
  ];
  for (const [what, text, line, message] of badFiles) {
    it(`rejects ${what} at file:line, as ssh rejects the file`, async () => {
      const file = write(text);
      expect(spawnSync('ssh', ['-G', '-F', file, 'a']).status, 'ssh refuses it').to.not.equal(0);
      const error = await configError(() => loadSshConfig({ file, homeDir: local.homeDir, uid: local.uid }));
      expect(error.problems[0]?.loc).to.deep.include({ file, line });
      expect(error.problems[0]?.message).to.match(message);
      expect(error.problems[0]?.hint).to.be.a('string');
    });
  }

  it('a missing --ssh-config file is an error; a missing ~/.ssh/config is an empty one', async () => {
    const error = await configError(() => loadSshConfig({ file: join(dir, 'absent'), homeDir: local.homeDir, uid: local.uid }));
    expect(error.problems[0]?.message).to.contain('no such file');
    const config = await loadSshConfig({ homeDir: join(dir, 'no-home'), uid: local.uid, systemFile: false });
    expect(config.files).to.deep.equal([]);
  });
});

describe('~/.ssh/config itself: relative Includes under ~/.ssh, permissions (root: a fake home bound over ~ for ssh)', function () {
  this.timeout(60_000);
  let home: string;
  before(function () {
    if (!sshAvailable || process.getuid?.() !== 0 || spawnSync('unshare', ['--version']).status !== 0) this.skip();
    home = mkdtempSync(join(tmpdir(), 'orchestrate-fake-home-'));
    mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'config'), 'Include conf.d/*.conf\nHost h1\n  Port 2801\nInclude ~/.ssh/extra\n', { mode: 0o600 });
    writeFileSync(join(home, '.ssh', 'conf.d', 'a.conf'), 'Host h1 h2\n  User from-conf-d\n', { mode: 0o600 });
    writeFileSync(join(home, '.ssh', 'extra'), 'Host h2\n  Port 2802\n', { mode: 0o600 });
  });
  after(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** ssh -G as root with `home` mounted over root's home, in a mount namespace of its own (nothing else sees it). */
  const sshWithHome = (host: string): { status: number | null; output: string } => {
    const script = 'mount --bind "$1" "$2" && exec ssh -G "$3"';
    const child = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', home, local.homeDir, host], {
      encoding: 'utf8',
    });
    return { status: child.status, output: `${child.stdout}${child.stderr}` };
  };
  const field = (output: string, key: string): string | undefined => new RegExp(`^${key} (.*)$`, 'm').exec(output)?.[1];

  it('reads relative Includes from ~/.ssh, and the system file after the user file, like ssh', async () => {
    const config = await loadSshConfig({ homeDir: home, uid: local.uid });
    for (const host of ['h1', 'h2', 'h3']) {
      const theirs = sshWithHome(host);
      expect(theirs.status, theirs.output).to.equal(0);
      const ours = resolveSshOptions(config, host, {}, { ...local, homeDir: home });
      expect({ user: ours.user, port: String(ours.port) }, host).to.deep.equal({
        user: field(theirs.output, 'user'),
        port: field(theirs.output, 'port'),
      });
    }
  });

  it('refuses a ~/.ssh/config others can write, as ssh does', async () => {
    chmodSync(join(home, '.ssh', 'config'), 0o666);
    try {
      const theirs = sshWithHome('h1');
      expect(theirs.status).to.not.equal(0);
      expect(theirs.output).to.contain('Bad owner or permissions');
      const error = await configError(() => loadSshConfig({ homeDir: home, uid: local.uid }));
      expect(error.problems[0]?.message).to.contain('bad owner or permissions');
      expect(error.problems[0]?.hint).to.contain('chmod go-w');
    } finally {
      chmodSync(join(home, '.ssh', 'config'), 0o600);
    }
  });
});
