// Reading a member's etcd configuration as etcd and systemd read it: tables of files in, settings out.
import { expect } from 'chai';
import { combineSettings, settingsFromArgs, settingsFromConfigFile, settingsFromEnv } from '../../../../src/etcd/members/etcd-flags.js';
import { configFromManifest, configFromUnit, parseFiles, parseFirstRead, readLayoutCommand } from '../../../../src/etcd/members/read-config.js';
import { checkAgainstLive, duplicateIdentities, resolveMember } from '../../../../src/etcd/members/resolve.js';
import { hostPathOf, readEtcdPod } from '../../../../src/etcd/members/static-pod.js';
import { expandSpecifiers, readEnvironmentFile, readService, splitWords } from '../../../../src/etcd/members/systemd-unit.js';
import type { EtcdMember, InventoryHost } from '../../../../src/config/types.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('etcd flags, environment and config file', () => {
  it('reads --flag=value and --flag value, keeps the last of a repeated flag, skips unknown ones', () => {
    expect(
      settingsFromArgs(['--name', 'a', '--data-dir=/d', '--unknown', 'x', '--name=b', '--initial-advertise-peer-urls=https://1:2380,https://2:2380']),
    ).to.deep.equal({
      name: 'b',
      dataDir: '/d',
      peerUrls: ['https://1:2380', 'https://2:2380'],
    });
  });
  it("reads ETCD_* variables and etcd's YAML config file; flags win over the environment, a config file over both", () => {
    const env = settingsFromEnv({ ETCD_NAME: 'from-env', ETCD_DATA_DIR: '/env', ETCD_WAL_DIR: '/wal' });
    const args = settingsFromArgs(['--name=from-flag']);
    expect(combineSettings(env, args)).to.deep.include({ name: 'from-flag', dataDir: '/env', walDir: '/wal' });
    const file = settingsFromConfigFile('name: from-file\ndata-dir: /file\nclient-transport-security:\n  cert-file: /c.pem\n');
    expect(combineSettings(env, args, file)).to.deep.include({ name: 'from-file', dataDir: '/file', certFile: '/c.pem' });
    // The peer certificates too: diagnosis reads their dates.
    expect(settingsFromArgs(['--peer-cert-file=/p.pem', '--peer-trusted-ca-file', '/pca.pem'])).to.deep.equal({
      peerCertFile: '/p.pem',
      peerTrustedCaFile: '/pca.pem',
    });
    expect(settingsFromConfigFile('peer-transport-security:\n  cert-file: /p.pem\n  trusted-ca-file: /pca.pem\n')).to.deep.include({
      peerCertFile: '/p.pem',
      peerTrustedCaFile: '/pca.pem',
    });
  });
});

describe('systemd units', () => {
  it('splits words as systemd does and substitutes ${VAR} and $VAR', () => {
    expect(splitWords(`a "b c" 'd e' f\\ g`)).to.deep.equal(['a', 'b c', 'd e', 'f g']);
    const service = readService(
      [
        {
          path: '/etc/systemd/system/etcd.service',
          text: '[Service]\nEnvironment="NAME=m1" ARGS="--data-dir /x"\nExecStart=/usr/bin/etcd --name=${NAME} $ARGS\n',
        },
      ],
      {},
    );
    expect(service.argv).to.deep.equal(['/usr/bin/etcd', '--name=m1', '--data-dir', '/x']);
    // `$$` is a literal dollar sign, never a variable.
    const dollars = readService([
      { path: '/etc/systemd/system/etcd.service', text: '[Service]\nEnvironment=A=x\nExecStart=/usr/bin/etcd --p=$${A}$$A\n' },
    ]);
    expect(dollars.argv).to.deep.equal(['/usr/bin/etcd', '--p=${A}$A']);
  });
  it('a drop-in resets ExecStart with an empty one and replaces it; continuation lines join', () => {
    const service = readService([
      { path: '/lib/systemd/system/etcd.service', text: '[Unit]\nDescription=x\n[Service]\nExecStart=/usr/bin/etcd --name=old\n' },
      {
        path: '/etc/systemd/system/etcd.service.d/10-override.conf',
        text: '[Service]\nExecStart=\nExecStart=-/opt/etcd \\\n  --name=new \\\n  --data-dir=/srv/etcd\n',
      },
    ]);
    expect(service.argv).to.deep.equal(['/opt/etcd', '--name=new', '--data-dir=/srv/etcd']);
    expect(service.execStartFile).to.equal('/etc/systemd/system/etcd.service.d/10-override.conf');
  });
  it('EnvironmentFile values override Environment= lines (systemd.exec(5))', () => {
    // systemd has no `export`: that line sets nothing (unit-quirks.test.ts has the problem it raises).
    expect(readEnvironmentFile('/e', '# comment\nETCD_NAME="m 1"\nexport ETCD_DATA_DIR=/d\n').values).to.deep.equal({ ETCD_NAME: 'm 1' });
    const first = parseFirstRead(
      '==m unit /etc/systemd/system/etcd.service\n[Service]\nEnvironmentFile=-/etc/default/etcd\nEnvironment=ETCD_NAME=loses\nExecStart=/usr/bin/etcd\n',
      '==m',
    );
    const config = configFromUnit('h', first, new Map([['/etc/default/etcd', 'ETCD_NAME=wins\nETCD_DATA_DIR=/var/lib/etcd-data\n']]), 'etcd');
    expect(config.settings).to.deep.include({ name: 'wins', dataDir: '/var/lib/etcd-data' });
    expect(config.sources).to.deep.equal(['/etc/systemd/system/etcd.service', '/etc/default/etcd']);
    expect(config.problems).to.deep.equal([]);
  });
  it("expands systemd's specifiers: Debian's own etcd.service names the member %H and reads /etc/default/%p", () => {
    const debianUnit = [
      '[Service]',
      'Environment=DAEMON_ARGS=',
      'Environment=ETCD_NAME=%H',
      'Environment=ETCD_DATA_DIR=/var/lib/etcd/default',
      'EnvironmentFile=-/etc/default/%p',
      'ExecStart=/usr/bin/etcd $DAEMON_ARGS',
    ].join('\n');
    const first = parseFirstRead(`==m host cp-1.example.org\n==m unit /lib/systemd/system/etcd.service\n${debianUnit}\n`, '==m');
    expect(first.specifiers).to.deep.equal({ unit: 'etcd.service', hostname: 'cp-1.example.org' });
    const files = new Map([['/etc/default/etcd', 'DAEMON_ARGS="--listen-client-urls https://10.0.0.1:2379 --data-dir /srv/etcd"\n']]);
    const config = configFromUnit('cp-1', first, files, 'etcd');
    expect(config.sources).to.deep.equal(['/lib/systemd/system/etcd.service', '/etc/default/etcd']);
    expect(config.settings).to.deep.include({ name: 'cp-1.example.org', dataDir: '/srv/etcd' });
    expect(expandSpecifiers('%l %N %n 100%% %t %Z', { unit: 'etcd.service', hostname: 'cp-1.example.org' })).to.equal(
      'cp-1 etcd etcd.service 100% /run %Z',
    );
    // The command that reads a host prints its name first.
    expect(readLayoutCommand('==m', 'etcd', '/etc/kubernetes/manifests')).to.contain('uname -n');
  });
  it('no unit is a note, not a problem; a missing EnvironmentFile without "-" is a problem', () => {
    const none = configFromUnit('h', parseFirstRead('', '==m'), new Map(), 'etcd');
    expect(none.notes.join()).to.contain('no systemd unit etcd.service was found');
    expect(none.problems).to.deep.equal([]);
    const first = parseFirstRead(
      '==m unit /etc/systemd/system/etcd.service\n[Service]\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/bin/etcd\n',
      '==m',
    );
    expect(configFromUnit('h', first, new Map([['/etc/etcd.env', undefined]]), 'etcd').problems.join()).to.contain(
      'EnvironmentFile /etc/etcd.env of etcd.service is missing',
    );
  });
});

describe('kubeadm static pod manifests', () => {
  const manifest = [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: { name: etcd, namespace: kube-system }',
    'spec:',
    '  containers:',
    '  - name: etcd',
    '    command: [etcd, --name=master-01, --data-dir=/var/lib/etcd, --wal-dir=/var/lib/etcd/wal-x, --cert-file=/etc/kubernetes/pki/etcd/server.crt]',
    '    volumeMounts:',
    '    - { mountPath: /var/lib/etcd, name: etcd-data }',
    '    - { mountPath: /etc/kubernetes/pki/etcd, name: etcd-certs }',
    '  volumes:',
    '  - { name: etcd-data, hostPath: { path: /mnt/etcd-disk, type: DirectoryOrCreate } }',
    '  - { name: etcd-certs, hostPath: { path: /etc/kubernetes/pki/etcd, type: DirectoryOrCreate } }',
  ].join('\n');
  it('maps container paths through hostPath volumes', () => {
    const pod = readEtcdPod(manifest);
    if ('problem' in pod) throw new Error(pod.problem);
    expect(hostPathOf(pod, '/var/lib/etcd')).to.equal('/mnt/etcd-disk');
    expect(hostPathOf(pod, '/var/lib/etcd/wal-x')).to.equal('/mnt/etcd-disk/wal-x');
    expect(hostPathOf(pod, '/nowhere')).to.equal(undefined);
    const config = configFromManifest('m1', parseFirstRead(`==m pod etcd\n==m file /etc/kubernetes/manifests/etcd.yaml\n${manifest}\n`, '==m'));
    expect(config.topology).to.equal('kubeadm');
    expect(config.settings).to.deep.include({
      name: 'master-01',
      dataDir: '/mnt/etcd-disk',
      walDir: '/mnt/etcd-disk/wal-x',
      certFile: '/etc/kubernetes/pki/etcd/server.crt',
    });
    expect(config.staticPods).to.deep.equal(['etcd']);
  });
  it('a data dir on no volume, or a manifest that is not YAML, is a problem naming the file', () => {
    const bad = configFromManifest(
      'm1',
      parseFirstRead('==m file /m/etcd.yaml\nspec: { containers: [ { name: etcd, command: [etcd, --data-dir=/data] } ] }\n', '==m'),
    );
    expect(bad.problems.join()).to.contain('/m/etcd.yaml: /data (--data-dir) is on no hostPath volume');
    expect(configFromManifest('m1', parseFirstRead('==m file /m/etcd.yaml\n: : :\n', '==m')).problems.join()).to.match(
      /\/m\/etcd\.yaml: the manifest (is not YAML|has no container)/,
    );
  });
});

describe('the reading scripts, run by a real sh on a folder tree', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'member config $(x) '));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('prints the manifests present, the etcd manifest and nothing of the unit dirs when no unit exists; values stay arguments', () => {
    const dir = join(root, 'manifests');
    mkdirSync(dir);
    writeFileSync(join(dir, 'etcd.yaml'), 'kind: Pod\n');
    writeFileSync(join(dir, 'kube-apiserver.yaml'), 'kind: Pod\n');
    const r = spawnSync('/bin/sh', ['-c', readLayoutCommand('==m1', "no-such-unit'; touch pwned; '", dir)], { encoding: 'utf8', cwd: root });
    expect(r.status).to.equal(0);
    const first = parseFirstRead(r.stdout, '==m1');
    expect(first.staticPods).to.deep.equal(['etcd', 'kube-apiserver']);
    expect(first.manifest?.name).to.equal(join(dir, 'etcd.yaml'));
    expect(first.unitFiles).to.deep.equal([]);
    expect(parseFiles(`==x file /a\nA=1\n\n==x missing /b\n`, '==x')).to.deep.equal(
      new Map([
        ['/a', 'A=1\n'],
        ['/b', undefined],
      ]),
    );
  });
});

describe('resolving identities: inventory, configuration and the live member list', () => {
  const host = (vars: Record<string, unknown> = {}): InventoryHost => ({ name: '10.0.0.1', vars, groups: ['all', 'etcd'] });
  const member: EtcdMember = {
    host: '10.0.0.1',
    name: 'etcd-10.0.0.1',
    address: '10.0.0.1',
    peerUrl: 'https://10.0.0.1:2380',
    clientUrl: 'https://10.0.0.1:2379',
    dataDir: '/var/lib/etcd',
    token: 'etcd-cluster-0',
    service: 'etcd',
  };
  const config = (settings: Record<string, unknown>) => ({
    host: '10.0.0.1',
    topology: 'kubeadm' as const,
    staticPods: ['etcd'],
    sources: ['/etc/kubernetes/manifests/etcd.yaml'],
    settings,
    problems: [],
    notes: [],
  });

  it('defaults come from the configuration, and say so', () => {
    const r = resolveMember(host(), member, config({ name: 'master-01', dataDir: '/mnt/etcd/', peerUrls: ['https://10.0.0.1:2380'] }));
    expect(r.problems).to.deep.equal([]);
    expect(r.member).to.deep.include({ name: 'master-01', dataDir: '/mnt/etcd', topology: 'kubeadm' });
    expect(r.member.sources.name).to.deep.equal({ from: 'config', file: '/etc/kubernetes/manifests/etcd.yaml' });
    expect(r.notes.join('\n')).to.contain('etcd_name master-01 taken from /etc/kubernetes/manifests/etcd.yaml');
  });
  it('a configured value the inventory would refuse is refused too, never adopted', () => {
    const r = resolveMember(
      host(),
      member,
      config({
        name: 'a,b=http://x',
        dataDir: '/var/lib',
        walDir: 'relative/wal',
        peerUrls: ['https://10.0.0.1:2380/path'],
        clientUrls: ['ftp://x:1'],
      }),
    );
    expect(r.problems.map((p) => p.replace(/ would be taken .*? but /, ' ').replace(/; fix: .*/, ''))).to.deep.equal([
      `10.0.0.1: etcd_name "a,b=http://x" is not a valid member name (letters, digits, ".", "_", ":" and "-", starting with a letter or digit)`,
      '10.0.0.1: etcd_peer_url "https://10.0.0.1:2380/path" must be just scheme://host:port',
      '10.0.0.1: etcd_client_url "ftp://x:1" must use http or https',
      '10.0.0.1: etcd_data_dir "/var/lib" is a system folder; a restore moves the data dir aside and replaces it',
      '10.0.0.1: etcd_wal_dir "relative/wal" is not an absolute path',
    ]);
    expect(r.problems[0]).to.match(/; fix: correct the member's configuration, or set etcd_name for 10\.0\.0\.1/);
    expect(r.member).to.deep.include({ name: 'etcd-10.0.0.1', dataDir: '/var/lib/etcd' });
    expect(r.member.walDir).to.equal(undefined);
  });
  it('an explicit value the configuration contradicts is a problem with both values and the fix', () => {
    const r = resolveMember(host({ etcd_data_dir: '/var/lib/etcd' }), member, config({ dataDir: '/mnt/etcd' }));
    expect(r.problems).to.deep.equal([
      '10.0.0.1: etcd_data_dir is /var/lib/etcd in the inventory, but /etc/kubernetes/manifests/etcd.yaml says /mnt/etcd; fix: set etcd_data_dir: /mnt/etcd for 10.0.0.1 (or remove it to use the configured value)',
    ]);
  });
  it('two members with one name, and live members that differ, are problems', () => {
    const a = { ...member, topology: 'systemd' as const, sources: {} };
    const b = { ...a, host: '10.0.0.2', peerUrl: 'https://10.0.0.2:2380' };
    expect(duplicateIdentities([a, b])).to.deep.equal([
      '10.0.0.1 and 10.0.0.2 both claim the member name etcd-10.0.0.1; fix: give each member its own etcd_name (or correct its configuration)',
    ]);
    const live = [
      { id: '1', name: 'renamed', peerUrls: ['https://10.0.0.1:2380'] },
      { id: '9', name: 'stranger', peerUrls: ['https://10.0.0.9:2380'] },
    ];
    const problems = checkAgainstLive([a], live);
    expect(problems[0]).to.contain('the live cluster calls the member at https://10.0.0.1:2380 "renamed"');
    expect(problems[1]).to.contain('the live cluster has a member "stranger" (https://10.0.0.9:2380) the inventory does not list');
  });
});

describe('etcd asked on the member over SSH', () => {
  const member = {
    host: 'm1',
    name: 'm1',
    address: 'a',
    peerUrl: 'https://a:2380',
    clientUrl: 'https://a:2379',
    dataDir: '/d',
    token: 't',
    service: 'etcd',
  };
  it('reads 64-bit ids exactly (as hex) from etcdctl JSON; an empty answer is a member that did not answer', async () => {
    const { parseStatusOverSsh } = await import('../../../../src/etcd/cluster/observe-over-ssh.js');
    const stdout =
      '[{"Endpoint":"https://a:2379","Status":{"header":{"cluster_id":2744924975535466782,"member_id":9156988813840076243,"revision":1000000002,"raft_term":3},"version":"3.5.16","dbSize":40960,"leader":9156988813840076243}}]\n==orchestrate-member-list==\n{"members":[{"ID":9156988813840076243,"name":"m1","peerURLs":["https://a:2380"]}]}\n';
    const seen = parseStatusOverSsh(member, { exitCode: 0, stdout, stderr: '', durationMs: 1 }, 5);
    expect(seen).to.deep.include({ ok: true, memberId: '7f1428cf7529cdd3', clusterId: '2617eeb8d5e3a91e', isLeader: true, revision: 1000000002 });
    expect(seen.members).to.deep.equal([{ id: '7f1428cf7529cdd3', name: 'm1', peerUrls: ['https://a:2380'] }]);
    const silent = parseStatusOverSsh(
      member,
      { exitCode: 1, stdout: '[]\n==orchestrate-member-list==\n', stderr: 'context deadline exceeded\n', durationMs: 1 },
      5,
    );
    expect(silent).to.deep.include({ ok: false, error: 'etcdctl on m1: context deadline exceeded' });
  });
});
