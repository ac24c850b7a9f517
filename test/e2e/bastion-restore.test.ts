// End-to-end: backup, status and restore of a cluster the deploy host reaches only through a jump host.
// `lab up --bastion` puts every member in a network namespace of the lab's own: neither sshd nor etcd's
// client port is reachable from here, so a passing test proves that every SSH session went through the
// bastion (its sshd log counts the forwards) and that every question to etcd was asked on a member
// (`etcd_access: ssh`). Needs root.
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { portInUse } from '../../src/lab/host-start.js';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { damage, keyValues, memberStatuses, putKey } from '../helpers/lab-data.js';
import { pickFreeLabNet, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

let sshConfig = '';

function orchestrate(args: string[]): Promise<CliResult> {
  return runCliFromSource([...args, '--ssh-config', sshConfig], { timeoutMs: 240_000 });
}

function tail(result: CliResult): string {
  return `exit ${result.code}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`;
}

async function forwardsTo(lab: LabInfo, address: string): Promise<number> {
  const log = await readFile(lab.bastion?.sshdLog ?? '', 'utf8');
  return log.split('\n').filter((line) => line.includes('server_request_direct_tcpip') && line.includes(`target ${address} port 22`)).length;
}

describe('backup and restore through a jump host (lab --bastion, etcd_access: ssh)', function () {
  this.timeout(300_000);
  let lab: LabInfo;
  let inventory: string;
  const dir = tempLabDir();

  before(async function () {
    this.timeout(180_000);
    const net = await pickFreeLabNet(['127.0.154', '127.0.155']);
    lab = await startLab({ dir, net, members: 3, bastion: true });
    // The members jump through the host "bastion" of the lab's ssh_config (its address, key and known hosts, as an
    // operator's ~/.ssh/config names a bastion); etcd is asked on the members.
    const doc = parse(await readFile(lab.inventoryFile, 'utf8')) as { all: { vars?: Record<string, unknown> } };
    doc.all.vars = { ...(doc.all.vars ?? {}), ssh_jump_hosts: 'bastion', etcd_access: 'ssh', backup_dir: join(dir, 'bastion-backups') };
    inventory = join(dir, 'inventory-bastion.yml');
    await writeFile(inventory, stringify(doc));
    // The lab's ssh_config, and a jump host nothing listens behind.
    sshConfig = join(dir, 'ssh_config-test');
    const deadJump = [
      'Host deadjump',
      `  HostName ${lab.bastion?.address ?? ''}`,
      '  Port 2',
      '  User root',
      `  IdentityFile ${lab.keyFile}`,
      '',
    ].join('\n');
    await writeFile(sshConfig, `${deadJump}\n${await readFile(lab.sshConfigFile, 'utf8')}`, { mode: 0o644 });
  });

  after(async function () {
    this.timeout(60_000);
    await stopLab(dir);
  });

  it('neither sshd nor etcd of a member answers from the deploy host', async () => {
    for (const host of lab.hosts) {
      expect(await portInUse(host.address, 22, 1_000), `${host.address}:22`).to.equal(false);
      expect(await portInUse(host.address, 2379, 1_000), `${host.address}:2379`).to.equal(false);
    }
  });

  it('backs up, reports status and restores every member with its identity, each session through the bastion', async () => {
    const before = await Promise.all(lab.hosts.map((h) => forwardsTo(lab, h.address)));
    const backup = await orchestrate(['backup', inventory]);
    expect(backup.code, tail(backup)).to.equal(0);
    const snapshotKeys = await keyValues(lab);

    const status = await orchestrate(['status', inventory, '--max-age', '1h']);
    expect(status.code, tail(status)).to.equal(0);
    expect(status.stdout).to.match(/3 of 3|quorum/i);

    await damage(lab, '/registry/rogue/through-the-bastion');
    await putKey(lab, '/registry/after-backup', 'lost by the restore, as the preview says');
    const restored = await orchestrate(['restore', inventory, '--snapshot', 'latest', '--yes']);
    expect(restored.code, tail(restored)).to.equal(0);

    expect(await keyValues(lab)).to.deep.equal(snapshotKeys);
    const statuses = await memberStatuses(lab);
    expect(
      statuses.filter((s) => s.leader === s.memberId),
      'one leader',
    ).to.have.length(1);
    expect(new Set(statuses.map((s) => s.clusterId)).size, 'one cluster id').to.equal(1);
    const after = await Promise.all(lab.hosts.map((h) => forwardsTo(lab, h.address)));
    lab.hosts.forEach((h, i) => expect(after[i]! - before[i]!, `forwards to ${h.address}`).to.be.greaterThan(0));
  });

  it('a dead bastion fails every member at once, naming the bastion, and changes nothing', async () => {
    const doc = parse(await readFile(inventory, 'utf8')) as { all: { vars: Record<string, unknown> } };
    doc.all.vars.ssh_jump_hosts = 'deadjump';
    const dead = join(dir, 'inventory-dead-bastion.yml');
    await writeFile(dead, stringify(doc));
    const keys = await keyValues(lab);
    const result = await orchestrate(['restore', dead, '--snapshot', 'latest', '--yes', '--connect-timeout', '3']);
    expect(result.code, tail(result)).to.not.equal(0);
    expect(result.stderr + result.stdout).to.match(/jump host (deadjump|\S+:2)\b/);
    expect(await keyValues(lab)).to.deep.equal(keys);
  });
});
