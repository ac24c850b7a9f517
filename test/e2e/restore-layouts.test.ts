// End-to-end: `orchestrate restore` on kubeasz-style systemd units running etcd 3.5, where the members are
// not laid out the same: one data dir is its own mount point (a dedicated disk: a tmpfs mounted in that
// host's mount namespace), one member keeps its WAL apart (`--wal-dir`, itself a mount point), one is
// plain. Every rename must stay on one filesystem, nothing may be deleted, and a rollback must put the
// old data back. Inventories that disagree with the members are refused before anything stops. Needs root.
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { runCliFromSource, type CliResult } from '../helpers/cli.js';
import { keyValues, putKey, waitHealthy } from '../helpers/lab-data.js';
import { pickFreeLabNet, readSystemctlLog, sshToLabHost, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

function orchestrate(args: string[]): Promise<CliResult> {
  return runCliFromSource(args, { timeoutMs: 240_000 });
}

const unit = '/etc/systemd/system/etcd.service';
const walDir = '/var/lib/etcd-wal';

/** The data dir of one member becomes a tmpfs mount with the same contents (etcd stopped meanwhile). */
const mountDataDir = [
  'set -e',
  'systemctl stop etcd',
  'mkdir /root/etcd-copy && cp -a /var/lib/etcd/. /root/etcd-copy/',
  'mount -t tmpfs -o size=256m,mode=700 tmpfs /var/lib/etcd',
  'cp -a /root/etcd-copy/. /var/lib/etcd/ && rm -rf /root/etcd-copy',
  'systemctl start etcd',
].join('\n');

/** One member's WAL moves to its own mount point, named by --wal-dir in its unit. */
const separateWal = [
  'set -e',
  'systemctl stop etcd',
  `mkdir -p ${walDir} && mount -t tmpfs -o size=256m,mode=700 tmpfs ${walDir}`,
  `mv /var/lib/etcd/member/wal/* ${walDir}/ && rmdir /var/lib/etcd/member/wal`,
  `sed -i 's|^  --data-dir=/var/lib/etcd \\\\$|&\\n  --wal-dir=${walDir} \\\\|' ${unit}`,
  `grep -q -- --wal-dir=${walDir} ${unit}`,
  'systemctl start etcd',
].join('\n');

async function listing(lab: LabInfo, address: string, dirs: string): Promise<string[]> {
  const result = await sshToLabHost(lab, address, `ls -1A ${dirs}`);
  return result.stdout.trim().split('\n');
}

async function filesystemOf(lab: LabInfo, address: string, path: string): Promise<string> {
  return (await sshToLabHost(lab, address, `findmnt -n -o FSTYPE --target ${path}`)).stdout.trim();
}

describe('restore with a mount-point data dir and a separate WAL dir, etcd 3.5 systemd (e2e, root)', function () {
  let lab: LabInfo;
  const dir = tempLabDir();
  let mounted = '';
  let walMember = '';

  before(async function () {
    this.timeout(180_000);
    const net = await pickFreeLabNet(['127.0.152', '127.0.153']);
    lab = await startLab({ dir, net, members: 3, etcd: '3.5' });
    mounted = lab.hosts[0]!.address;
    walMember = lab.hosts[1]!.address;
    for (const [address, script] of [
      [mounted, mountDataDir],
      [walMember, separateWal],
    ] as const) {
      const result = await sshToLabHost(lab, address, script, { timeoutMs: 60_000 });
      expect(result.code, `${address}: ${result.stderr}`).to.equal(0);
      await waitHealthy(lab);
    }
    expect(await filesystemOf(lab, mounted, '/var/lib/etcd')).to.equal('tmpfs');
    expect(await listing(lab, walMember, '/var/lib/etcd/member')).to.deep.equal(['snap']);
    await putKey(lab, '/orchestrate-test/in-snapshot', 'kept');
    const backup = await orchestrate(['backup', lab.inventoryFile]);
    expect(backup.code, backup.stdout + backup.stderr).to.equal(0);
    await putKey(lab, '/orchestrate-test/after-snapshot', 'back after the rollback');
  });

  after(async function () {
    this.timeout(60_000);
    await stopLab(dir);
  });

  it('refuses two members claiming one name, and a data dir the unit does not use: exit 5, etcd never stopped', async function () {
    this.timeout(120_000);
    const text = await readFile(lab.inventoryFile, 'utf8');
    const edit = async (file: string, change: (hosts: Record<string, Record<string, string>>) => void): Promise<string> => {
      const inventory = parse(text) as { all: { children: { etcd: { hosts: Record<string, Record<string, string>> } } } };
      change(inventory.all.children.etcd.hosts);
      await writeFile(`${lab.dir}/${file}`, stringify(inventory));
      return `${lab.dir}/${file}`;
    };
    const names = Object.keys((parse(text) as { all: { children: { etcd: { hosts: Record<string, unknown> } } } }).all.children.etcd.hosts);
    const sameName = await edit('same-name.yml', (hosts) => {
      hosts[names[0]!] = { ...hosts[names[0]!], etcd_name: 'twin' };
      hosts[names[1]!] = { ...hosts[names[1]!], etcd_name: 'twin' };
    });
    const wrongDir = await edit('wrong-dir.yml', (hosts) => {
      hosts[names[2]!] = { ...hosts[names[2]!], etcd_data_dir: '/srv/etcd' };
    });
    const stopsBefore = await Promise.all(lab.hosts.map(async (h) => (await readSystemctlLog(lab, h.address)).length));
    const twin = await orchestrate(['restore', sameName, '--yes']);
    expect(twin.code, twin.stdout + twin.stderr).to.be.oneOf([2, 5]);
    expect(twin.stderr).to.contain('twin');
    const elsewhere = await orchestrate(['restore', wrongDir, '--yes']);
    expect(elsewhere.code, elsewhere.stdout + elsewhere.stderr).to.equal(5);
    expect(elsewhere.stderr).to.contain('etcd_data_dir').and.to.contain('/srv/etcd').and.to.contain('/var/lib/etcd').and.to.contain(unit);
    for (const output of [twin, elsewhere]) expect(output.stderr).not.to.match(/\n\s+at /);
    const stopsAfter = await Promise.all(lab.hosts.map(async (h) => (await readSystemctlLog(lab, h.address)).length));
    expect(stopsAfter, 'no unit stopped or started').to.deep.equal(stopsBefore);
  });

  it('restores inside the mount point and swaps the separate WAL, keeping the old data on the same filesystems', async function () {
    this.timeout(240_000);
    const dry = await orchestrate(['restore', lab.inventoryFile, '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).to.equal(0);
    expect(dry.stdout).to.contain('--wal-dir').and.to.contain('/var/lib/etcd/.orchestrate-restore-');

    const result = await orchestrate(['restore', lab.inventoryFile, '--yes']);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    const data = await keyValues(lab);
    expect(data.get('/orchestrate-test/in-snapshot')).to.equal('kept');
    expect(data.has('/orchestrate-test/after-snapshot')).to.equal(false);

    // The mount is still the data dir; the old member/ was moved aside inside it, not across filesystems.
    expect(await filesystemOf(lab, mounted, '/var/lib/etcd')).to.equal('tmpfs');
    const inside = await listing(lab, mounted, '/var/lib/etcd');
    expect(inside).to.include('member');
    expect(inside.filter((name) => /^member\.before-restore-\d{8}T\d{6}Z$/.test(name))).to.have.length(1);
    expect(
      inside.filter((name) => name.includes('orchestrate-restore')),
      'no restore dir left',
    ).to.deep.equal([]);

    // The WAL member: the restored WAL in the WAL mount, the old WAL kept inside it, no wal/ in the data dir.
    expect(await filesystemOf(lab, walMember, walDir)).to.equal('tmpfs');
    const wal = await listing(lab, walMember, walDir);
    expect(wal.some((name) => name.endsWith('.wal'))).to.equal(true);
    expect(wal.filter((name) => name.startsWith('.before-restore-'))).to.have.length(1);
    expect(await listing(lab, walMember, '/var/lib/etcd/member')).to.deep.equal(['snap']);
    const plain = await listing(lab, lab.hosts[2]!.address, '/var/lib');
    expect(plain.filter((name) => /^etcd\.before-restore-/.test(name))).to.have.length(1);
  });

  it('rolls back: the keys written after the snapshot are back, on the same mounts', async function () {
    this.timeout(240_000);
    const result = await orchestrate(['restore', lab.inventoryFile, '--rollback', '--yes']);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    await waitHealthy(lab);
    expect((await keyValues(lab)).get('/orchestrate-test/after-snapshot')).to.equal('back after the rollback');
    expect(await filesystemOf(lab, mounted, '/var/lib/etcd')).to.equal('tmpfs');
    expect(await filesystemOf(lab, walMember, walDir)).to.equal('tmpfs');
    expect(await listing(lab, walMember, '/var/lib/etcd/member')).to.deep.equal(['snap']);
  });
});
