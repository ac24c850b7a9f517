// How systemd and etcd really read what a unit says: tables of unit text, EnvironmentFiles and argv in,
// what etcd ends up with (or the problem naming the file and line) out. Behaviour checked against
// systemd's env-file and unit parsers and etcd 3.4/3.5's pkg/flags.
import { expect } from 'chai';
import { settingsFromArgs, shadowedVariables } from '../../../../src/etcd/members/etcd-flags.js';
import { configFromUnit, parseFirstRead, type MemberConfig } from '../../../../src/etcd/members/read-config.js';
import { readEnvironmentFile, readService } from '../../../../src/etcd/members/systemd-unit.js';

const unitPath = '/etc/systemd/system/etcd.service';
const service = (text: string, env: Record<string, string> = {}) => readService([{ path: unitPath, text: `[Service]\n${text}\n` }], env);

/** The unit (and drop-ins, by name) on host m1, with these files for the second read. */
function hostConfig(unit: string, files: Record<string, string> = {}, dropIns: Record<string, string> = {}): MemberConfig {
  const parts = ['==m host m1', `==m unit ${unitPath}`, `[Service]\n${unit}`];
  for (const [name, text] of Object.entries(dropIns)) parts.push(`==m dropin ${name}`, text);
  return configFromUnit('m1', parseFirstRead(`${parts.join('\n')}\n`, '==m'), new Map(Object.entries(files)), 'etcd');
}

describe('ExecStart as systemd runs it', () => {
  const table: { name: string; unit: string; env?: Record<string, string>; argv: string[] }[] = [
    { name: '- (failure ignored)', unit: 'ExecStart=-/usr/bin/etcd --name=m1', argv: ['/usr/bin/etcd', '--name=m1'] },
    { name: '+ and ! (privileges)', unit: 'ExecStart=+!/usr/bin/etcd --name=m1', argv: ['/usr/bin/etcd', '--name=m1'] },
    { name: '@: the second word is only argv[0]', unit: 'ExecStart=@/usr/bin/etcd etcd-m1 --name=m1', argv: ['/usr/bin/etcd', '--name=m1'] },
    {
      name: ': turns substitution off',
      unit: 'Environment=N=m1\nExecStart=:/usr/bin/etcd --name=${N} $N',
      argv: ['/usr/bin/etcd', '--name=${N}', '$N'],
    },
    {
      name: '$VAR alone splits into words, ${VAR} stays one word',
      unit: 'Environment="ARGS=--name m1  --data-dir /d"\nExecStart=/usr/bin/etcd $ARGS "--x=${ARGS}"',
      argv: ['/usr/bin/etcd', '--name', 'm1', '--data-dir', '/d', '--x=--name m1  --data-dir /d'],
    },
    {
      name: '$VAR inside a word is not substituted; an unset $VAR vanishes, an unset ${VAR} is empty',
      unit: 'Environment=N=m1\nExecStart=/usr/bin/etcd --name=$N $UNSET --data-dir=${UNSET}',
      argv: ['/usr/bin/etcd', '--name=$N', '--data-dir='],
    },
    {
      name: "the shell's ${VAR:-default} is not systemd's: it stays as written",
      unit: 'Environment=E=\nExecStart=/usr/bin/etcd --name=${E:-x}',
      argv: ['/usr/bin/etcd', '--name=${E:-x}'],
    },
    {
      name: 'a comment line inside continuation lines is skipped',
      unit: 'ExecStart=/usr/bin/etcd \\\n  --name=m1 \\\n# --name=old \\\n; --data-dir=/old \\\n  --data-dir=/d',
      argv: ['/usr/bin/etcd', '--name=m1', '--data-dir=/d'],
    },
    { name: 'CRLF line ends', unit: 'ExecStart=/usr/bin/etcd \\\r\n  --name=m1\r\nRestart=always\r', argv: ['/usr/bin/etcd', '--name=m1'] },
  ];
  for (const row of table) it(row.name, () => expect(service(row.unit, row.env).argv).to.deep.equal(row.argv));

  it('a backslash followed by blanks ends the line: the flags below are lost, and that is a problem naming the line', () => {
    const s = service('ExecStart=/usr/bin/etcd --name=m1 \\  \n  --data-dir=/d');
    expect(s.argv).to.not.include('--data-dir=/d');
    expect(s.problems).to.deep.equal([
      `${unitPath}:2: a backslash followed by blanks does not continue the line for systemd: the next line is read on its own`,
    ]);
  });

  it('a second ExecStart without a reset is a problem; an empty Environment= or EnvironmentFile= clears the earlier ones', () => {
    const drop = { path: '/etc/systemd/system/etcd.service.d/10-x.conf', text: '[Service]\nExecStart=/usr/bin/etcd --name=b\n' };
    const two = readService([{ path: unitPath, text: '[Service]\nExecStart=/usr/bin/etcd --name=a\n' }, drop]);
    expect(two.problems).to.deep.equal([
      '/etc/systemd/system/etcd.service.d/10-x.conf:2: a second ExecStart= without an empty ExecStart= before it: systemd refuses that but for Type=oneshot',
    ]);
    const reset = service('Environment=A=1 B=2\nEnvironment=\nEnvironment=C=3\nEnvironmentFile=/a\nEnvironmentFile=\nEnvironmentFile=-/b');
    expect(reset.environment).to.deep.equal({ C: '3' });
    expect(reset.environmentFiles).to.deep.equal([{ path: '/b', optional: true }]);
  });

  it('drop-ins apply in byte order of their names; one in /etc replaces one of the same name in /lib', () => {
    const out = [
      '==m unit /lib/systemd/system/etcd.service',
      '[Service]\nExecStart=/usr/bin/etcd --name=unit',
      '==m dropin /lib/systemd/system/etcd.service.d/b.conf',
      '[Service]\nExecStart=\nExecStart=/usr/bin/etcd --name=lib-b',
      '==m dropin /etc/systemd/system/etcd.service.d/B.conf',
      '[Service]\nExecStart=\nExecStart=/usr/bin/etcd --name=etc-B',
      '==m dropin /etc/systemd/system/etcd.service.d/b.conf',
      '[Service]\nEnvironment=X=1',
    ].join('\n');
    const first = parseFirstRead(`${out}\n`, '==m');
    expect(first.unitFiles.map((f) => f.path)).to.deep.equal([
      '/lib/systemd/system/etcd.service',
      '/etc/systemd/system/etcd.service.d/B.conf',
      '/etc/systemd/system/etcd.service.d/b.conf',
    ]);
    expect(configFromUnit('m1', first, new Map(), 'etcd').settings.name).to.equal('etc-B');
  });
});

describe('EnvironmentFiles as systemd reads them', () => {
  const table: { name: string; text: string; values: Record<string, string> }[] = [
    { name: 'blanks around = and the value trimmed', text: '  ETCD_NAME =  m1  \n', values: { ETCD_NAME: 'm1' } },
    {
      name: 'an unquoted value keeps inner blanks',
      text: 'DAEMON_ARGS=--name m1 --data-dir /d\n',
      values: { DAEMON_ARGS: '--name m1 --data-dir /d' },
    },
    {
      name: 'single quotes are literal, double quotes unescape only " \\ ` $',
      text: `A='x \\n "y"'\nB="a\\"b\\$c\\nd"\n`,
      values: { A: 'x \\n "y"', B: 'a"b$c\\nd' },
    },
    {
      name: 'quoted and plain parts join; a quote inside a plain value is literal',
      text: `A="a b"'c'd\nB=x"y"\n`,
      values: { A: 'a bcd', B: 'x"y"' },
    },
    { name: 'a backslash-newline joins lines', text: 'A=one \\\ntwo\nB="x\\\ny"\n', values: { A: 'one two', B: 'xy' } },
    { name: '# and ; comment lines, also indented', text: '# ETCD_NAME=a\n  ; ETCD_NAME=b\nETCD_NAME=c\n', values: { ETCD_NAME: 'c' } },
    { name: 'an empty value, the last line without a newline', text: 'ETCD_WAL_DIR=\nETCD_NAME=m1', values: { ETCD_WAL_DIR: '', ETCD_NAME: 'm1' } },
    { name: 'a line without = is skipped', text: 'ETCD_NAME\nETCD_DATA_DIR=/d\n', values: { ETCD_DATA_DIR: '/d' } },
    { name: 'CRLF line ends', text: 'ETCD_NAME=m1\r\nETCD_DATA_DIR="/d"\r\n', values: { ETCD_NAME: 'm1', ETCD_DATA_DIR: '/d' } },
  ];
  for (const row of table) it(row.name, () => expect(readEnvironmentFile('/e', row.text)).to.deep.equal({ values: row.values, problems: [] }));

  it('`export NAME=...` is not an assignment to systemd: the variable is not set, and that is a problem naming the line', () => {
    expect(readEnvironmentFile('/etc/etcd.env', 'ETCD_NAME=m1\nexport ETCD_DATA_DIR=/srv/etcd\n')).to.deep.equal({
      values: { ETCD_NAME: 'm1' },
      problems: ['/etc/etcd.env:2: systemd ignores "export ETCD_DATA_DIR=...": ETCD_DATA_DIR is not set; fix: write it as ETCD_DATA_DIR=...'],
    });
  });

  it('a trailing "# comment" is part of the value for systemd: a problem for an ETCD_* variable', () => {
    const read = readEnvironmentFile('/etc/etcd.env', 'ETCD_NAME=m1 # this host\nOTHER=x # y\n');
    expect(read.values).to.deep.equal({ ETCD_NAME: 'm1 # this host', OTHER: 'x # y' });
    expect(read.problems).to.have.length(1);
    expect(read.problems[0]).to.match(/^\/etc\/etcd\.env:1: ETCD_NAME is "m1 # this host": systemd reads the text after #/);
  });

  it('an export line or a swallowed line of a variable etcd does not use is no problem (a shared env file)', () => {
    const read = readEnvironmentFile('/etc/default/etcd', 'export HTTP_PROXY=http://proxy:3128\n# note \\\nNO_PROXY=10.0.0.1\nETCD_NAME=m1\n');
    expect(read.problems).to.deep.equal([]);
    expect(read.values).to.deep.equal({ NO_PROXY: '10.0.0.1', ETCD_NAME: 'm1' });
    const used = readEnvironmentFile('/etc/default/etcd', 'export DAEMON_ARGS=--name=m1\n', (name) => name === 'DAEMON_ARGS');
    expect(used.problems).to.deep.equal([
      '/etc/default/etcd:1: systemd ignores "export DAEMON_ARGS=...": DAEMON_ARGS is not set; fix: write it as DAEMON_ARGS=...',
    ]);
  });

  it('line numbers stay right after escaped and joined lines, and a long file reads in linear time', () => {
    const read = readEnvironmentFile('/e', 'A="x\\\ny"\nB=1 \\\n2\n\n# c \\\nETCD_NAME=m1\n');
    expect(read.values).to.deep.equal({ A: 'xy', B: '1 2', ETCD_NAME: 'm1' });
    expect(read.problems).to.deep.equal([
      '/e:7: the comment above ends in a backslash: systemd before 254 reads ETCD_NAME as part of it; fix: remove that backslash',
    ]);
    const long = readEnvironmentFile('/e', `${'X=1\n'.repeat(400_000)}ETCD_NAME=m1 # x\n`);
    expect(long.problems[0]).to.match(/^\/e:400001: ETCD_NAME is/);
  });

  it('a comment ending in a backslash: systemd before 254 swallows the next line, so that is a problem', () => {
    const read = readEnvironmentFile('/etc/etcd.env', '# data moved \\\nETCD_DATA_DIR=/srv\n');
    expect(read.values).to.deep.equal({ ETCD_DATA_DIR: '/srv' });
    expect(read.problems[0]).to.match(/^\/etc\/etcd\.env:2: the comment above ends in a backslash/);
  });

  it('several EnvironmentFiles: later ones win, a missing optional one is no problem, each file read is a source', () => {
    const config = hostConfig(
      'EnvironmentFile=/etc/etcd.env\nEnvironmentFile=-/etc/etcd.local.env\nEnvironmentFile=-/etc/none\nExecStart=/usr/bin/etcd',
      {
        '/etc/etcd.env': 'ETCD_NAME=a\nETCD_DATA_DIR=/var/lib/etcd\n',
        '/etc/etcd.local.env': 'ETCD_NAME=b\n',
      },
    );
    expect(config.problems).to.deep.equal([]);
    expect(config.sources).to.deep.equal([unitPath, '/etc/etcd.env', '/etc/etcd.local.env']);
    expect(config.settings).to.deep.equal({ name: 'b', dataDir: '/var/lib/etcd' });
    expect(config.origins).to.deep.equal({ name: '/etc/etcd.local.env', dataDir: '/etc/etcd.env' });
    const glob = hostConfig('EnvironmentFile=-/etc/etcd/*.env\nExecStart=/usr/bin/etcd');
    expect(glob.problems).to.deep.equal(['EnvironmentFile /etc/etcd/*.env of etcd.service is a wildcard: the files it matches were not read']);
  });
});

describe("etcd's own reading of flags and ETCD_* variables", () => {
  it('--flag value, --flag=value, -flag value and -flag=value are one flag (Go flag syntax); the last one counts', () => {
    expect(settingsFromArgs(['--name', 'a', '-data-dir', '/d', '-wal-dir=/w', '--name=b'])).to.deep.equal({ name: 'b', dataDir: '/d', walDir: '/w' });
    // Go takes the next word as the value whatever it looks like; after `--` nothing is a flag.
    expect(settingsFromArgs(['--name', '--data-dir=/x', '--', '--wal-dir=/w'])).to.deep.equal({ name: '--data-dir=/x' });
    // Flags it does not know are skipped, with or without a value of their own.
    expect(settingsFromArgs(['--log-level', 'info', '--client-cert-auth', '--name', 'm1'])).to.deep.equal({ name: 'm1' });
  });

  it('a flag and its ETCD_* variable both set, even empty, make etcd refuse to start', () => {
    expect(
      shadowedVariables(['--name=m1', '-data-dir', '/d', '--log-level=info'], { ETCD_NAME: '', ETCD_DATA_DIR: '/x', ETCD_WAL_DIR: '/w' }),
    ).to.deep.equal(['ETCD_NAME', 'ETCD_DATA_DIR']);
    const config = hostConfig('Environment=ETCD_DATA_DIR=/var/lib/etcd\nExecStart=/usr/bin/etcd --data-dir /srv/etcd');
    expect(config.problems).to.deep.equal([
      `${unitPath} gives --data-dir and ${unitPath} sets ETCD_DATA_DIR: etcd 3.4/3.5 refuses to start with both ("conflicting environment variable is shadowed by corresponding command-line flag"); fix: keep one of them`,
    ]);
  });

  it('an empty ETCD_* variable is skipped; an empty flag means the default, and still counts as given', () => {
    const config = hostConfig('Environment=ETCD_NAME=\nExecStart=/usr/bin/etcd --wal-dir= --data-dir=/d');
    expect(config.settings).to.deep.equal({ dataDir: '/d' });
    expect(config.problems).to.deep.equal([]);
  });

  it('with --config-file (flag or ETCD_CONFIG_FILE) etcd reads only that file: no clash, its TLS only from the *-transport-security maps', () => {
    const yaml = [
      'name: m1',
      'data-dir: /var/lib/etcd/m1',
      'wal-dir:',
      'initial-advertise-peer-urls: https://10.20.0.11:2380',
      'cert-file: /top-level/is/ignored.pem',
      'client-transport-security:',
      '  cert-file: /etc/etcd/server.pem',
    ].join('\n');
    for (const unit of [
      'ExecStart=/usr/bin/etcd --config-file=/etc/etcd/etcd.yml --name=flag',
      'Environment=ETCD_CONFIG_FILE=/etc/etcd/etcd.yml ETCD_NAME=env\nExecStart=/usr/bin/etcd',
    ]) {
      const config = hostConfig(unit, { '/etc/etcd/etcd.yml': yaml });
      expect(config.problems).to.deep.equal([]);
      expect(config.settings).to.deep.equal({
        name: 'm1',
        dataDir: '/var/lib/etcd/m1',
        peerUrls: ['https://10.20.0.11:2380'],
        certFile: '/etc/etcd/server.pem',
        configFile: '/etc/etcd/etcd.yml',
      });
      expect(config.origins?.name).to.equal('/etc/etcd/etcd.yml');
    }
    const broken = hostConfig('ExecStart=/usr/bin/etcd --config-file=/etc/etcd/etcd.yml', { '/etc/etcd/etcd.yml': 'name: [m1\n' });
    expect(broken.problems).to.have.length(1);
    expect(broken.problems[0]).to.match(/^\/etc\/etcd\/etcd\.yml: etcd's --config-file is not YAML it can read: /);
  });

  it('a unit that runs etcd through a shell is a note: the flags the shell passes cannot be read', () => {
    const config = hostConfig('Environment=ETCD_NAME=m1\nExecStart=/bin/sh -c "GOMAXPROCS=$(nproc) /usr/bin/etcd $DAEMON_ARGS"');
    expect(config.settings).to.deep.equal({ name: 'm1' });
    expect(config.notes).to.deep.equal([`${unitPath} runs sh, not etcd: the flags it may pass to etcd could not be read, only the ETCD_* variables`]);
  });
});
