// End-to-end: `lab up|status|down` with real hosts (overlay + mount namespace + sshd), a real etcd
// cluster under TLS and the stand-in systemctl. Needs root.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LabError, labProcesses, labSeedKeys, labStatus, labUp, readLabState, type LabState } from '../../src/lab/index.js';
import { portInUse } from '../../src/lab/host-start.js';
import { isAlive, processesInMountNamespaces } from '../../src/lab/processes.js';
import { etcdctl, clientUrl } from '../../src/lab/etcdctl.js';
import { etcdctlInLab, pickFreeLabNet, readSystemctlLog, sshToLabHost, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

// 127.0.100 unless another run holds it (several people share this machine).
const candidateNets = ['127.0.100', '127.0.110', '127.0.111'];

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 100));
  }
  return check();
}

function taggedLines(file: string, dir: string): string[] {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return text.split('\n').filter((line) => line.split(/\s+/).includes(`orchestrate-lab:${dir}`));
}

describe('lab (e2e, root)', function () {
  describe('three members', function () {
    let lab: LabInfo;
    /** Set before the lab starts, so after() cleans up even when before() failed half-way. */
    let labDir: string | undefined;
    let net: string;
    let stateBeforeDown: LabState | undefined;

    before(async function () {
      this.timeout(90_000);
      net = await pickFreeLabNet(candidateNets);
      labDir = tempLabDir();
      lab = await startLab({ dir: labDir, net, members: 3 });
    });

    after(async function () {
      this.timeout(60_000);
      if (labDir) await stopLab(labDir);
    });

    it('comes up well under 30 s with one address, name and namespace per host', function () {
      expect(lab.startupMs).to.be.greaterThan(0).and.lessThan(30_000);
      expect(lab.hosts.map((host) => host.address)).to.deep.equal([`${net}.1`, `${net}.2`, `${net}.3`]);
      expect(lab.hosts.map((host) => host.name)).to.deep.equal(lab.hosts.map((host) => `etcd-${host.address}`));
      expect(new Set(lab.hosts.map((host) => host.mountNamespace)).size).to.equal(3);
      const ours = readFileSync('/proc/self/mountinfo', 'utf8');
      for (const host of lab.hosts) {
        // The overlay is mounted only inside the host's namespace, never in ours.
        expect(ours).not.to.include(host.upperDir);
      }
    });

    it('writes a kubeasz-style inventory whose files exist, keys owner-only', function () {
      const inventory = parse(readFileSync(lab.inventoryFile, 'utf8')) as {
        all: { vars: Record<string, string>; children: Record<string, { hosts: Record<string, unknown> }> };
      };
      const addresses = lab.hosts.map((host) => host.address);
      for (const group of ['etcd', 'kube_master', 'kube_node']) {
        expect(Object.keys(inventory.all.children[group]?.hosts ?? {})).to.deep.equal(addresses);
      }
      const vars = inventory.all.vars;
      expect(vars.ansible_user).to.equal('root');
      expect(vars.backup_dir).to.equal('backups');
      for (const key of ['ansible_ssh_private_key_file', 'etcd_ca_file', 'etcd_cert_file', 'etcd_key_file']) {
        expect(existsSync(vars[key] ?? ''), key).to.equal(true);
      }
      for (const secret of [lab.keyFile, lab.pki.keyFile, lab.pki.clientKeyFile]) {
        const mode = spawnSync('stat', ['-c', '%a', secret], { encoding: 'utf8' }).stdout.trim();
        expect(mode, secret).to.equal('600');
      }
    });

    it('runs a healthy three-member etcd cluster under TLS with distinct member names', async function () {
      this.timeout(30_000);
      const health = await etcdctlInLab(lab, ['endpoint', 'health']);
      expect(health.code, health.stderr).to.equal(0);
      expect(`${health.stdout}${health.stderr}`.match(/is healthy/g)).to.have.length(3);
      // The inventory's certificate (the members' own, kubeasz style) works as a client certificate too.
      const viaInventoryCert = await etcdctl(
        { caFile: lab.pki.caFile, certFile: lab.pki.certFile, keyFile: lab.pki.keyFile },
        [clientUrl(lab.hosts[1]?.address ?? '')],
        ['member', 'list', '--write-out=json'],
      );
      expect(viaInventoryCert.code, viaInventoryCert.stderr).to.equal(0);
      const members = (JSON.parse(viaInventoryCert.stdout) as { members: { name: string; clientURLs: string[] }[] }).members;
      expect(members.map((member) => member.name).sort()).to.deep.equal(lab.hosts.map((host) => host.name).sort());
      expect(members.flatMap((member) => member.clientURLs).sort()).to.deep.equal(lab.hosts.map((host) => host.clientUrl).sort());
    });

    it('refuses etcd clients without a certificate (client-cert-auth)', async function () {
      this.timeout(15_000);
      const address = lab.hosts[0]?.address ?? '';
      const result = spawnSync(
        'etcdctl',
        [
          `--endpoints=${clientUrl(address)}`,
          `--cacert=${lab.pki.caFile}`,
          '--dial-timeout=1s',
          '--command-timeout=1s',
          'get',
          '/registry/namespaces/default',
        ],
        { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 10_000 },
      );
      expect(result.status).not.to.equal(0);
    });

    it('reaches every host over SSH, each with its own filesystem view', async function () {
      this.timeout(30_000);
      for (const host of lab.hosts) {
        const identity = await sshToLabHost(lab, host.address, 'cat /etc/lab-host');
        expect(identity.code, identity.stderr).to.equal(0);
        expect(identity.stdout.trim()).to.equal(host.address);
      }
      const [first, second] = lab.hosts;
      if (!first || !second) throw new Error('expected three hosts');
      const marker = `/tmp/lab-e2e-${process.pid}`;
      const write = await sshToLabHost(lab, first.address, `echo written-on-${first.address} > ${marker} && cat ${marker}`);
      expect(write.stdout.trim()).to.equal(`written-on-${first.address}`);
      const elsewhere = await sshToLabHost(lab, second.address, `test -e ${marker} && echo present || echo absent`);
      expect(elsewhere.stdout.trim()).to.equal('absent');
      expect(existsSync(marker), 'the deploy host must not see it either').to.equal(false);
      // The write landed in the first host's upper layer.
      expect(readFileSync(join(first.upperDir, marker), 'utf8').trim()).to.equal(`written-on-${first.address}`);
    });

    it('trusts the lab host keys in the deploy host known_hosts and lets deploy use sudo', async function () {
      this.timeout(20_000);
      expect(taggedLines(lab.userKnownHostsFile, lab.dir)).to.have.length(lab.hosts.length * 2);
      const host = lab.hosts[2];
      if (!host) throw new Error('expected three hosts');
      const viaUserFile = await sshToLabHost(lab, host.address, 'cat /etc/lab-host', { knownHostsFile: lab.userKnownHostsFile });
      expect(viaUserFile.code, viaUserFile.stderr).to.equal(0);
      const become = await sshToLabHost(lab, host.address, 'id -un && sudo -n id -un && sudo -n cat /etc/lab-host', { user: lab.deployUser });
      expect(become.code, become.stderr).to.equal(0);
      expect(become.stdout.trim().split('\n')).to.deep.equal([lab.deployUser, 'root', host.address]);
    });

    it('stops and starts services through the stand-in systemctl and logs them in order', async function () {
      this.timeout(60_000);
      const host = lab.hosts[1];
      if (!host) throw new Error('expected three hosts');
      const before = await readSystemctlLog(lab, host.address);
      const script = [
        'systemctl stop kube-apiserver',
        'systemctl is-active kube-apiserver; echo "rc=$?"',
        'systemctl stop etcd',
        'systemctl is-active etcd; echo "rc=$?"',
        'systemctl start etcd.service',
        'systemctl start kube-apiserver',
        'systemctl is-active etcd kube-apiserver',
        'systemctl show -p MainPID --value etcd',
        'systemctl start no-such-unit; echo "rc=$?"',
        'systemctl is-active --quiet etcd; echo "quiet-rc=$?"',
      ].join('\n');
      const result = await sshToLabHost(lab, host.address, script);
      expect(result.code, result.stderr).to.equal(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines.slice(0, 6)).to.deep.equal(['inactive', 'rc=3', 'inactive', 'rc=3', 'active', 'active']);
      const etcdPid = Number(lines[6]);
      expect(etcdPid).to.be.greaterThan(1);
      expect(await isAlive(etcdPid)).to.equal(true);
      expect(lines.slice(7)).to.deep.equal(['rc=5', 'quiet-rc=0']);

      const events = (await readSystemctlLog(lab, host.address)).slice(before.length);
      expect(events.map((event) => `${event.action} ${event.unit}`)).to.deep.equal([
        'stop kube-apiserver',
        'stop etcd',
        'start etcd',
        'start kube-apiserver',
      ]);
      const times = events.map((event) => Date.parse(event.time));
      expect(times.every((time) => Number.isFinite(time))).to.equal(true);
      expect([...times].sort((a, b) => a - b)).to.deep.equal(times);

      // The restarted member rejoins the cluster.
      const healthy = await waitFor(async () => (await etcdctlInLab(lab, ['endpoint', 'health'], [host.address])).code === 0, 20_000);
      expect(healthy, 'restarted member healthy again').to.equal(true);
    });

    it('seeded the Kubernetes-like keys', async function () {
      this.timeout(15_000);
      const result = await etcdctlInLab(lab, ['get', '--prefix', '/registry/', '--keys-only']);
      expect(result.code, result.stderr).to.equal(0);
      const keys = result.stdout.split('\n').filter((line) => line.trim() !== '');
      const expected = [...labSeedKeys(lab.hosts.map((host) => host.address)).keys()];
      expect(expected.length).to.be.within(45, 60);
      expect(keys.sort()).to.deep.equal([...expected].sort());
      const pod = await etcdctlInLab(lab, ['get', '/registry/pods/default/web-1', '--print-value-only']);
      expect(JSON.parse(pod.stdout) as { kind: string }).to.include({ kind: 'Pod' });
    });

    it('reports status per host: running, sshd up, services active, one leader', async function () {
      this.timeout(30_000);
      const report = await labStatus({ dir: lab.dir });
      expect(report.found).to.equal(true);
      expect(report.hosts).to.have.length(3);
      for (const host of report.hosts) {
        expect(host.running, host.address).to.equal(true);
        expect(host.sshd, host.address).to.equal(true);
        expect(host.etcd.healthy, `${host.address}: ${host.etcd.error ?? ''}`).to.equal(true);
        expect(Object.values(host.services)).to.deep.equal(['active', 'active', 'active', 'active', 'active', 'active']);
      }
      expect(report.hosts.filter((host) => host.etcd.status?.isLeader)).to.have.length(1);
    });

    it('treats lab up on a running lab as a no-op', async function () {
      this.timeout(20_000);
      const again = await labUp({ dir: lab.dir });
      expect(again.alreadyRunning).to.equal(true);
      expect(again.hosts.map((host) => host.pid)).to.deep.equal(lab.hosts.map((host) => host.pid));
    });

    it('lab down stops every process it started and removes its known_hosts lines and files', async function () {
      this.timeout(60_000);
      stateBeforeDown = await readLabState(lab.stateFile);
      if (!stateBeforeDown) throw new Error('lab.json missing');
      const pids = await labProcesses(stateBeforeDown);
      // sshd + etcd + 5 stand-ins (each a shell and its sleep) per host, at least.
      expect(pids.length).to.be.at.least(3 * 12);
      const report = await stopLab(lab.dir);
      expect(report.found).to.equal(true);
      expect(report.stoppedPids).to.include.members(lab.hosts.map((host) => host.pid));
      for (const pid of pids) expect(await isAlive(pid), `pid ${pid}`).to.equal(false);
      const namespaces = new Set(stateBeforeDown.hosts.map((host) => host.mountNamespace ?? ''));
      expect((await processesInMountNamespaces(namespaces)).size).to.equal(0);
      expect(taggedLines(lab.userKnownHostsFile, lab.dir)).to.have.length(0);
      expect(existsSync(lab.dir)).to.equal(false);
      for (const host of lab.hosts) {
        expect(await portInUse(host.address, 22), `${host.address}:22`).to.equal(false);
        expect(await portInUse(host.address, 2379), `${host.address}:2379`).to.equal(false);
      }
      const again = await stopLab(lab.dir);
      expect(again.found).to.equal(false);
    });
  });

  describe('one member', function () {
    let lab: LabInfo | undefined;
    let dir: string;

    before(function () {
      dir = tempLabDir();
    });

    after(async function () {
      this.timeout(60_000);
      await stopLab(dir);
    });

    it('comes up, is healthy and reachable, and goes down', async function () {
      this.timeout(60_000);
      const net = await pickFreeLabNet(candidateNets);
      lab = await startLab({ dir, net, members: 1 });
      const [host] = lab.hosts;
      if (!host) throw new Error('expected one host');
      const health = await etcdctlInLab(lab, ['endpoint', 'health']);
      expect(health.code, health.stderr).to.equal(0);
      const identity = await sshToLabHost(lab, host.address, 'cat /etc/lab-host; systemctl is-active etcd');
      expect(identity.stdout.trim().split('\n')).to.deep.equal([host.address, 'active']);
      const report = await stopLab(dir);
      expect(await isAlive(host.pid)).to.equal(false);
      expect(report.stoppedPids.length).to.be.at.least(12);
    });

    it('refuses to start when a lab address is taken, leaving nothing behind', async function () {
      this.timeout(30_000);
      const net = await pickFreeLabNet(candidateNets);
      const squatter: Server = createServer();
      await new Promise<void>((resolveListen) => squatter.listen(2379, `${net}.1`, resolveListen));
      try {
        const error = await labUp({ dir, net, members: 1 }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        if (!(error instanceof LabError)) expect.fail(`expected a LabError, got ${String(error)}`);
        expect(error.code).to.equal('lab.address-in-use');
        expect(error.message).to.include(`${net}.1:2379`);
        expect(existsSync(join(dir, 'lab.json'))).to.equal(false);
        expect(existsSync(join(dir, 'hosts'))).to.equal(false);
      } finally {
        await new Promise((resolveClose) => squatter.close(resolveClose));
      }
    });

    it('tells a non-root user that the lab needs root, without a stack trace', function () {
      this.timeout(30_000);
      const script = "import { main } from './src/cli/main.ts'; process.exitCode = await main(['lab', 'up', '--dir', '/tmp/never-created-lab']);";
      const result = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: process.cwd(), encoding: 'utf8', timeout: 25_000 },
      );
      expect(result.status, result.stderr).to.equal(2);
      expect(result.stderr).to.match(/^error: lab needs root: /);
      expect(result.stderr).not.to.match(/\n\s+at /);
      expect(existsSync('/tmp/never-created-lab')).to.equal(false);
    });
  });
});
