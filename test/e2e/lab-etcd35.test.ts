// End-to-end: `lab up --etcd 3.5` runs Debian 13's etcd 3.5 (unpacked by scripts/lab-etcd35.sh) on every
// member: what SSH sessions and the etcd unit find is 3.5, etcdutl included, and `lab status` says so.
// The deploy host keeps Debian 12's etcdctl 3.4. Needs root.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { labStatus } from '../../src/lab/index.js';
import { etcd35Dir } from '../../src/lab/etcd-versions.js';
import { etcdctlInLab, pickFreeLabNet, sshToLabHost, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

describe('lab --etcd 3.5 (e2e, root)', function () {
  let lab: LabInfo;
  /** Set before the lab starts, so after() cleans up even when before() failed half-way. */
  let labDir: string | undefined;

  before(async function () {
    this.timeout(90_000);
    const net = await pickFreeLabNet(['127.0.121', '127.0.122']);
    labDir = tempLabDir();
    lab = await startLab({ dir: labDir, net, members: 3, etcd: '3.5' });
  });

  after(async function () {
    this.timeout(60_000);
    if (labDir) await stopLab(labDir);
  });

  it('runs a healthy 3.5.16 cluster whose members all answer with that version', async function () {
    this.timeout(30_000);
    expect(lab.etcdVersion).to.equal('3.5');
    const health = await etcdctlInLab(lab, ['endpoint', 'health']);
    expect(`${health.stdout}${health.stderr}`.match(/is healthy/g)).to.have.length(3);
    const status = await etcdctlInLab(lab, ['endpoint', 'status', '-w', 'json']);
    const versions = (JSON.parse(status.stdout) as { Status: { version: string } }[]).map((row) => row.Status.version);
    expect(versions).to.deep.equal(['3.5.16', '3.5.16', '3.5.16']);
  });

  it('gives SSH sessions (root and sudo) etcd, etcdctl and etcdutl 3.5 first in PATH and at /usr/bin', async function () {
    this.timeout(30_000);
    const host = lab.hosts[1]?.address ?? '';
    const script = [
      'for p in etcd etcdctl etcdutl; do command -v $p; done',
      'etcd --version | head -n 1',
      'etcdctl version | head -n 1',
      'etcdutl version | head -n 1',
      '/usr/bin/etcdctl version | head -n 1',
    ].join('; ');
    const root = await sshToLabHost(lab, host, script);
    expect(root.code, root.stderr).to.equal(0);
    expect(root.stdout.trim().split('\n')).to.deep.equal([
      '/usr/local/bin/etcd',
      '/usr/local/bin/etcdctl',
      '/usr/local/bin/etcdutl',
      'etcd Version: 3.5.16',
      'etcdctl version: 3.5.16',
      'etcdutl version: 3.5.16',
      'etcdctl version: 3.5.16',
    ]);
    const viaSudo = await sshToLabHost(lab, host, 'sudo -n etcdutl version | head -n 1', { user: lab.deployUser });
    expect(viaSudo.stdout.trim(), viaSudo.stderr).to.equal('etcdutl version: 3.5.16');
  });

  it('runs the etcd unit from /usr/local/bin: the process is the 3.5 binary', async function () {
    this.timeout(30_000);
    const host = lab.hosts[0]?.address ?? '';
    const result = await sshToLabHost(
      lab,
      host,
      'grep -m1 ExecStart /etc/systemd/system/etcd.service; readlink /proc/$(systemctl show -p MainPID --value etcd)/exe',
    );
    expect(result.stdout.trim().split('\n')).to.deep.equal(['ExecStart=/usr/local/bin/etcd \\', `${etcd35Dir()}/usr/bin/etcd`]);
  });

  it('restores a snapshot with 3.5 etcdutl, --bump-revision included (which 3.4 lacks)', async function () {
    this.timeout(30_000);
    const host = lab.hosts[0]?.address ?? '';
    const script = [
      'set -e',
      'd=$(mktemp -d)',
      `ETCDCTL_API=3 etcdctl --endpoints=https://${host}:2379 --cacert=${lab.pki.caFile} --cert=${lab.pki.certFile} --key=${lab.pki.keyFile} snapshot save $d/s.db >/dev/null`,
      'etcdutl snapshot restore $d/s.db --data-dir $d/restored --bump-revision 1000000000 --mark-compacted >/dev/null 2>&1',
      'test -d $d/restored/member/snap && echo restored',
      'rm -rf $d',
    ].join('\n');
    const result = await sshToLabHost(lab, host, script);
    expect(result.stdout.trim(), result.stderr).to.equal('restored');
  });

  it('lab status reports etcd 3.5 for the lab and each member', async function () {
    this.timeout(30_000);
    const report = await labStatus({ dir: lab.dir });
    expect(report.etcdVersion).to.equal('3.5');
    expect(report.hosts.map((host) => host.etcd.status?.version)).to.deep.equal(['3.5.16', '3.5.16', '3.5.16']);
    expect(JSON.parse(readFileSync(lab.stateFile, 'utf8')) as { etcdVersion: string }).to.include({ etcdVersion: '3.5' });
  });

  it("leaves the deploy host with Debian 12's etcdctl 3.4 and no etcdutl", function () {
    const env = { ...process.env, ETCDCTL_API: '3', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
    expect(execFileSync('etcdctl', ['version'], { encoding: 'utf8', env })).to.match(/^etcdctl version: 3\.4\./);
    expect(spawnSync('sh', ['-c', 'command -v etcdutl'], { env }).status).to.not.equal(0);
  });
});
