// End-to-end: `lab up --bastion` puts every host in a network namespace the lab creates, reachable from the
// deploy host only through the bastion: a direct connection fails, ssh with the lab's ssh_config or with the
// inventory's ProxyJump succeeds, and the bastion's sshd log records each forward. Here on the kubeadm
// topology with one member and two kube_node hosts. Needs root.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { labStatus } from '../../src/lab/index.js';
import { portInUse } from '../../src/lab/host-start.js';
import { netnsExists } from '../../src/lab/netns.js';
import { runProgram } from '../../src/lab/run-program.js';
import { etcdctlInLab, pickFreeLabNet, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

function forwardsTo(lab: LabInfo, address: string): number {
  const log = readFileSync(lab.bastion?.sshdLog ?? '', 'utf8');
  return log.split('\n').filter((line) => line.includes('server_request_direct_tcpip') && line.includes(`target ${address} port 22`)).length;
}

function ssh(args: string[], timeoutMs = 20_000) {
  return runProgram('ssh', ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', ...args], { timeoutMs });
}

describe('lab --bastion (e2e, root)', function () {
  let lab: LabInfo;
  const dir = tempLabDir();

  before(async function () {
    this.timeout(120_000);
    const net = await pickFreeLabNet(['127.0.128', '127.0.129']);
    lab = await startLab({ dir, net, members: 1, nodes: 2, topology: 'kubeadm', bastion: true });
  });

  after(async function () {
    this.timeout(60_000);
    await stopLab(dir);
  });

  it("keeps sshd and etcd of the hosts out of the deploy host's reach: direct connections fail", async function () {
    this.timeout(30_000);
    expect(lab.netns?.name).to.match(/^orchestrate-lab-[0-9a-f]{10}$/);
    for (const host of [...lab.hosts, ...lab.nodes]) {
      expect(await portInUse(host.address, 22, 1_000), `${host.address}:22`).to.equal(false);
    }
    expect(await portInUse(lab.hosts[0]?.address ?? '', 2379, 1_000)).to.equal(false);
    const direct = await ssh(['-i', lab.keyFile, '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, `root@${lab.hosts[0]?.address ?? ''}`, 'true']);
    expect(direct.code).to.equal(255);
    expect(direct.stderr).to.match(/Connection refused/);
  });

  it("reaches every host through the bastion with the lab's ssh_config, and the bastion logs each forward", async function () {
    this.timeout(60_000);
    for (const host of [...lab.hosts, ...lab.nodes]) {
      const before = forwardsTo(lab, host.address);
      const result = await ssh(['-F', lab.sshConfigFile, host.inventoryName, 'hostname']);
      expect(result.stdout.trim(), result.stderr).to.equal(host.inventoryName);
      expect(forwardsTo(lab, host.address), `forwards to ${host.address}`).to.equal(before + 1);
    }
    const config = readFileSync(lab.sshConfigFile, 'utf8');
    expect(config).to.include(`Host bastion\n  HostName ${lab.bastion?.address ?? ''}\n  User root`);
    expect(config).to.include(`Host master-01\n  HostName ${lab.hosts[0]?.address ?? ''}\n  User root\n  IdentityFile ${lab.keyFile}`);
    expect(config).to.include('  ProxyJump bastion\n');
  });

  it('writes an inventory whose ansible_ssh_common_args jump through the bastion, with the bastion key known', async function () {
    this.timeout(30_000);
    const inventory = parse(readFileSync(lab.inventoryFile, 'utf8')) as { all: { vars: Record<string, string> } };
    const jump = inventory.all.vars.ansible_ssh_common_args ?? '';
    expect(jump).to.equal(`-o ProxyJump=root@${lab.bastion?.address ?? ''}`);
    // As Ansible would run OpenSSH: its args, the inventory's key, the deploy host's own known_hosts (strict).
    // The jump hop does not inherit -i: as an operator would, the key is offered by an ssh-agent.
    const socket = `${lab.dir}/agent.sock`;
    const agent = await runProgram('ssh-agent', ['-a', socket, '-s'], { timeoutMs: 10_000 });
    const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
    try {
      const env = { ...process.env, SSH_AUTH_SOCK: socket };
      await runProgram('ssh-add', ['-q', lab.keyFile], { timeoutMs: 10_000, env });
      const args = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR', '-i', lab.keyFile, ...jump.split(' ')];
      const result = await runProgram('ssh', [...args, `root@${lab.hosts[0]?.address ?? ''}`, 'cat /etc/hostname'], { timeoutMs: 20_000, env });
      expect(result.stdout.trim(), result.stderr).to.equal('master-01');
    } finally {
      if (agentPid > 1) process.kill(agentPid, 'SIGTERM');
    }
    const knownHosts = readFileSync(lab.knownHostsFile, 'utf8');
    expect(knownHosts.split('\n').filter((line) => line.startsWith(`${lab.bastion?.address ?? ''} `))).to.have.length(2);
  });

  it('runs etcd inside the namespace (reached with nsenter) and lab status reports every host', async function () {
    this.timeout(30_000);
    const health = await etcdctlInLab(lab, ['endpoint', 'health']);
    expect(health.code, health.stderr).to.equal(0);
    const report = await labStatus({ dir: lab.dir });
    expect(report.hosts.map((host) => `${host.role}:${host.running}:${host.sshd}`)).to.deep.equal([
      'member:true:true',
      'node:true:true',
      'node:true:true',
      'bastion:true:true',
    ]);
  });

  it('lab down stops the bastion and the hosts and removes the network namespace', async function () {
    this.timeout(60_000);
    const name = lab.netns?.name ?? '';
    const report = await stopLab(dir);
    expect(report.found).to.equal(true);
    expect(await netnsExists(name)).to.equal(false);
    expect(await portInUse(lab.bastion?.address ?? '', 22, 1_000)).to.equal(false);
    expect(existsSync(lab.dir)).to.equal(false);
  });
});
