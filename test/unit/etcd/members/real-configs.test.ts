// The member configurations kubespray, kubeasz and kubeadm leave on a host (test/fixtures/member-configs),
// read as etcd.member-config reads them: the first read's output, then the files it names.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  configFileOf,
  configFromManifest,
  configFromUnit,
  environmentFilesOf,
  parseFirstRead,
  type MemberConfig,
} from '../../../../src/etcd/members/read-config.js';
import { resolveMember } from '../../../../src/etcd/members/resolve.js';
import { joinDropIn } from '../../../../src/etcd/member/replace.js';
import type { EtcdMember, InventoryHost } from '../../../../src/config/types.js';

const fixture = (path: string): string => readFileSync(`test/fixtures/member-configs/${path}`, 'utf8');

/** What the first read prints on a host with this unit (and drop-ins) in /etc/systemd/system. */
function firstRead(hostname: string, unit: string, dropIns: Record<string, string> = {}) {
  const sections = [`==m host ${hostname}`, '==m unit /etc/systemd/system/etcd.service', unit];
  for (const [name, text] of Object.entries(dropIns)) sections.push(`==m dropin /etc/systemd/system/etcd.service.d/${name}`, text);
  return parseFirstRead(`${sections.join('\n')}\n`, '==m');
}

function manifestHost(text: string): MemberConfig {
  return configFromManifest(
    'cp',
    parseFirstRead(`==m pod etcd\n==m pod kube-apiserver\n==m file /etc/kubernetes/manifests/etcd.yaml\n${text}\n`, '==m'),
  );
}

describe('kubespray: etcd.service with no flags and /etc/etcd.env', () => {
  const first = firstRead('master-01', fixture('kubespray/etcd.service'));
  const files = new Map([['/etc/etcd.env', fixture('kubespray/etcd.env')]]);

  it('reads every setting from the EnvironmentFile, and names it as their origin', () => {
    expect(environmentFilesOf(first)).to.deep.equal([{ path: '/etc/etcd.env', optional: false }]);
    expect(configFileOf(first, files)).to.equal(undefined);
    const config = configFromUnit('master-01', first, files, 'etcd');
    expect(config.problems).to.deep.equal([]);
    expect(config.notes).to.deep.equal([]);
    expect(config.argv).to.deep.equal(['/usr/local/bin/etcd']);
    expect(config.sources).to.deep.equal(['/etc/systemd/system/etcd.service', '/etc/etcd.env']);
    expect(config.settings).to.deep.equal({
      name: 'etcd-a',
      dataDir: '/var/lib/etcd',
      peerUrls: ['https://10.20.0.11:2380'],
      clientUrls: ['https://10.20.0.11:2379'],
      token: 'k8s_etcd',
      initialClusterState: 'existing',
      certFile: '/etc/ssl/etcd/ssl/member-master-01.pem',
      keyFile: '/etc/ssl/etcd/ssl/member-master-01-key.pem',
      trustedCaFile: '/etc/ssl/etcd/ssl/ca.pem',
      peerCertFile: '/etc/ssl/etcd/ssl/member-master-01.pem',
      peerTrustedCaFile: '/etc/ssl/etcd/ssl/ca.pem',
    });
    expect(config.origins?.name).to.equal('/etc/etcd.env');
    // What a member replace must not add as flags: etcd would refuse to start.
    expect(config.etcdVariables).to.include.members(['ETCD_INITIAL_CLUSTER', 'ETCD_INITIAL_CLUSTER_STATE', 'ETCD_NAME']);
  });

  it('an inventory that contradicts it is told which file says otherwise', () => {
    const config = configFromUnit('master-01', first, files, 'etcd');
    const host: InventoryHost = { name: 'master-01', vars: { etcd_name: 'master-01' }, groups: ['all', 'etcd'] };
    const member: EtcdMember = {
      host: 'master-01',
      name: 'master-01',
      address: '10.20.0.11',
      peerUrl: 'https://10.20.0.11:2380',
      clientUrl: 'https://10.20.0.11:2379',
      dataDir: '/var/lib/etcd',
      token: 'k8s_etcd',
      service: 'etcd',
    };
    const r = resolveMember(host, member, config);
    expect(r.problems).to.have.length(1);
    expect(r.problems[0]).to.contain('etcd_name is master-01 in the inventory, but /etc/etcd.env says etcd-a');
  });

  it('a drop-in that adds a flag the EnvironmentFile also sets is a problem: etcd refuses to start', () => {
    const withFlag = firstRead('master-01', fixture('kubespray/etcd.service'), {
      '20-name.conf': '[Service]\nExecStart=\nExecStart=/usr/local/bin/etcd --name=master-01\n',
    });
    const config = configFromUnit('master-01', withFlag, files, 'etcd');
    expect(config.settings.name).to.equal('master-01');
    expect(config.problems).to.deep.equal([
      '/etc/systemd/system/etcd.service.d/20-name.conf gives --name and /etc/etcd.env sets ETCD_NAME: etcd 3.4/3.5 refuses to start with both ("conflicting environment variable is shadowed by corresponding command-line flag"); fix: keep one of them',
    ]);
  });
});

describe('kubespray: a member replace joins without clashing with /etc/etcd.env', () => {
  const files = new Map([['/etc/etcd.env', fixture('kubespray/etcd.env')]]);
  const member = (i: number): EtcdMember => ({
    host: `master-0${i}`,
    name: i === 1 ? 'etcd-a' : `etcd-${String.fromCharCode(96 + i)}`,
    address: `10.20.0.1${i}`,
    peerUrl: `https://10.20.0.1${i}:2380`,
    clientUrl: `https://10.20.0.1${i}:2379`,
    dataDir: '/var/lib/etcd',
    token: 'k8s_etcd',
    service: 'etcd',
  });

  it('the join drop-in unsets ETCD_INITIAL_CLUSTER(_STATE), so etcd starts with the flags alone', () => {
    const config = configFromUnit('master-01', firstRead('master-01', fixture('kubespray/etcd.service')), files, 'etcd');
    const members = [member(1), member(2), member(3)];
    const dropIn = joinDropIn(config, members[0]!, members, 'r1');
    if (typeof dropIn !== 'string') throw new Error(dropIn.problem);
    expect(dropIn).to.match(/^UnsetEnvironment=ETCD_INITIAL_CLUSTER_STATE ETCD_INITIAL_CLUSTER$/m);
    const joined = configFromUnit(
      'master-01',
      firstRead('master-01', fixture('kubespray/etcd.service'), { '90-orchestrate-join.conf': dropIn }),
      files,
      'etcd',
    );
    expect(joined.problems).to.deep.equal([]);
    expect(joined.etcdVariables).to.not.include.members(['ETCD_INITIAL_CLUSTER']);
    expect(joined.etcdVariables).to.not.include.members(['ETCD_INITIAL_CLUSTER_STATE']);
    expect(joined.settings).to.deep.include({ name: 'etcd-a', initialClusterState: 'existing', certFile: '/etc/ssl/etcd/ssl/member-master-01.pem' });
  });

  it('without the unset, the same flags would be refused as a clash', () => {
    const config = configFromUnit('master-01', firstRead('master-01', fixture('kubespray/etcd.service')), files, 'etcd');
    const members = [member(1), member(2), member(3)];
    const dropIn = joinDropIn(config, members[0]!, members, 'r1');
    if (typeof dropIn !== 'string') throw new Error(dropIn.problem);
    const clashing = dropIn.replace(/^UnsetEnvironment=.*\n/m, '');
    const joined = configFromUnit(
      'master-01',
      firstRead('master-01', fixture('kubespray/etcd.service'), { '90-orchestrate-join.conf': clashing }),
      files,
      'etcd',
    );
    expect(joined.problems.join('\n')).to.contain('sets ETCD_INITIAL_CLUSTER');
  });
});

describe('kubeasz: etcd.service with --flag=value continuation lines', () => {
  it('reads the flags; the empty --wal-dir= is no WAL dir', () => {
    const config = configFromUnit('10.20.0.21', firstRead('node-21', fixture('kubeasz/etcd.service')), new Map(), 'etcd');
    expect(config.problems).to.deep.equal([]);
    expect(config.argv?.[0]).to.equal('/opt/kube/bin/etcd');
    expect(config.argv).to.include('--wal-dir=');
    expect(config.settings).to.deep.equal({
      name: 'etcd-10.20.0.21',
      dataDir: '/var/lib/etcd',
      peerUrls: ['https://10.20.0.21:2380'],
      clientUrls: ['https://10.20.0.21:2379'],
      token: 'etcd-cluster-0',
      initialClusterState: 'new',
      certFile: '/etc/kubernetes/ssl/etcd.pem',
      keyFile: '/etc/kubernetes/ssl/etcd-key.pem',
      trustedCaFile: '/etc/kubernetes/ssl/ca.pem',
      peerCertFile: '/etc/kubernetes/ssl/etcd.pem',
      peerTrustedCaFile: '/etc/kubernetes/ssl/ca.pem',
    });
    expect(config.origins?.dataDir).to.equal('/etc/systemd/system/etcd.service');
  });

  it('the drop-in `systemctl edit` left resets ExecStart and moves data and WAL: its values win, and it is named', () => {
    const first = firstRead('node-21', fixture('kubeasz/etcd.service'), { 'override.conf': fixture('kubeasz/etcd.service.d/override.conf') });
    const config = configFromUnit('10.20.0.21', first, new Map(), 'etcd');
    expect(config.problems).to.deep.equal([]);
    expect(config.settings).to.deep.include({ name: 'etcd-10.20.0.21', dataDir: '/data/etcd', walDir: '/wal/etcd' });
    expect(config.origins?.walDir).to.equal('/etc/systemd/system/etcd.service.d/override.conf');
    expect(config.argv?.filter((w) => w.startsWith('--data-dir'))).to.deep.equal(['--data-dir=/data/etcd']);
  });
});

describe('kubeadm: etcd.yaml static pod manifests', () => {
  it('1.28, a joined second control plane: two listen client URLs, experimental flags skipped', () => {
    const config = manifestHost(fixture('kubeadm/etcd-v1.28-joined.yaml'));
    expect(config.problems).to.deep.equal([]);
    expect(config.topology).to.equal('kubeadm');
    expect(config.staticPods).to.deep.equal(['etcd', 'kube-apiserver']);
    expect(config.settings).to.deep.equal({
      name: 'master-02',
      dataDir: '/var/lib/etcd',
      peerUrls: ['https://10.20.0.12:2380'],
      clientUrls: ['https://10.20.0.12:2379'],
      initialClusterState: 'existing',
      certFile: '/etc/kubernetes/pki/etcd/server.crt',
      keyFile: '/etc/kubernetes/pki/etcd/server.key',
      trustedCaFile: '/etc/kubernetes/pki/etcd/ca.crt',
      peerCertFile: '/etc/kubernetes/pki/etcd/peer.crt',
      peerTrustedCaFile: '/etc/kubernetes/pki/etcd/ca.crt',
    });
    expect(config.argv?.[0]).to.equal('etcd');
  });

  it('1.31 on IPv6 with etcd.local.dataDir, extraArgs and extraEnvs: bracketed URLs, the data dir through its hostPath', () => {
    const config = manifestHost(fixture('kubeadm/etcd-v1.31-ipv6-datadir.yaml'));
    expect(config.problems).to.deep.equal([]);
    expect(config.settings).to.deep.include({
      name: 'cp-a.example.internal',
      dataDir: '/data/etcd',
      peerUrls: ['https://[fd00:10:20::11]:2380'],
      clientUrls: ['https://[fd00:10:20::11]:2379'],
      certFile: '/etc/kubernetes/pki/etcd/server.crt',
    });
    expect(config.origins?.dataDir).to.equal('/etc/kubernetes/manifests/etcd.yaml');
  });

  it('a patched data dir on another host path, an ETCD_* env that clashes with a flag, a --config-file: each named', () => {
    const patched = fixture('kubeadm/etcd-v1.28-joined.yaml')
      .replace('path: /var/lib/etcd\n', 'path: /mnt/etcd-disk\n')
      .replace(
        '    image:',
        [
          '    env:',
          '    - name: ETCD_SNAPSHOT_COUNT',
          '      value: "5000"',
          '    - name: ETCD_NAME',
          '      valueFrom: { fieldRef: { fieldPath: spec.nodeName } }',
          '    - name: ETCD_WAL_DIR',
          '      valueFrom: { configMapKeyRef: { name: etcd, key: wal } }',
          '    image:',
        ].join('\n'),
      );
    const config = manifestHost(patched);
    expect(config.settings.dataDir).to.equal('/mnt/etcd-disk');
    const clash = (flag: string, name: string) =>
      `/etc/kubernetes/manifests/etcd.yaml: the etcd container gives ${flag} and its env sets ${name}: etcd 3.4/3.5 refuses to start with both ("conflicting environment variable is shadowed by corresponding command-line flag"); fix: keep one of them`;
    expect(config.problems).to.deep.equal([
      clash('--name', 'ETCD_NAME'),
      clash('--snapshot-count', 'ETCD_SNAPSHOT_COUNT'),
      "/etc/kubernetes/manifests/etcd.yaml: the etcd container's ETCD_WAL_DIR comes from valueFrom, which cannot be read here",
    ]);
    const withFile = manifestHost(
      fixture('kubeadm/etcd-v1.28-joined.yaml').replace('    - --name=master-02\n', '    - --config-file=/etc/kubernetes/etcd.yaml\n'),
    );
    expect(withFile.problems.join('\n')).to.contain('etcd runs with --config-file /etc/kubernetes/etcd.yaml, which it reads instead of its flags');
  });
});
