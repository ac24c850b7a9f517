// `orchestrate recover` and `orchestrate member replace` on a kubeadm-shaped lab: etcd 3.5 as static pods
// run by a kubelet, members named after their nodes. The lab's own inventory, as kubeadm's clusters are:
// no client certificate on the deploy host, so recover and member replace ask etcd with etcdctl on the
// members over SSH, each with its own health-check certificate (etcd_access: ssh). A power cut here is
// kubelet down and every etcd container killed with SIGKILL: nothing restarts them until recover starts
// kubelet. Needs root. Lab on 127.0.145.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadInventory } from '../../src/config/inventory.js';
import { etcdAccess } from '../../src/config/etcd-vars.js';
import { memberStatuses } from '../helpers/lab-data.js';
import { sshToLabHost, tempLabDir, type LabInfo } from '../helpers/lab.js';
import {
  expectRecoveryReport,
  expectWhole,
  killKubeadmEtcd,
  labForCases,
  missingKeys,
  orchestrate,
  putKeys,
  recover,
  reportOf,
  tail,
} from '../helpers/recover.js';

async function manifestsOf(lab: LabInfo, address: string): Promise<string> {
  const listed = await sshToLabHost(lab, address, 'ls -a /etc/kubernetes; ls -a /etc/kubernetes/manifests; cat /etc/kubernetes/manifests/etcd.yaml');
  expect(listed.code, listed.stderr).to.equal(0);
  return listed.stdout;
}

/** kubelet's decisions and etcd's own log on one host, for a failed case's message. */
async function podLogs(lab: LabInfo, address: string): Promise<string> {
  const logs = await sshToLabHost(
    lab,
    address,
    'tail -n 40 /var/log/lab-kubelet.log; for f in /var/log/pods/*etcd*/etcd/*.log; do echo "--- $f"; tail -n 15 "$f"; done',
  );
  return logs.stdout;
}

/** The steps that failed, from a --json run's events. */
function failedSteps(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => l.includes('"ok":false') || l.includes('"type":"warning"'))
    .join('\n');
}

/** The report's status section lists every member by the name its cluster gives it (the node name, not the inventory's default), answering, with one leader. */
function expectStatusOfEveryMember(html: string, lab: LabInfo): void {
  const status = html.slice(html.indexOf('<section id="status">'));
  expect(html, 'a status section').to.contain('<section id="status">');
  expect(status).not.to.contain('did not answer');
  for (const h of lab.hosts) expect(status, h.address).to.contain(`>https://${h.address}:2379<`).and.to.contain(`>${h.name}<`);
  expect(status.match(/status-text ok">leader</g) ?? [], 'one leader').to.have.length(1);
  expect(status.match(/status-text ok">follower</g) ?? [], 'the followers').to.have.length(lab.hosts.length - 1);
}

describe('recover and member replace on kubeadm static pods, etcd 3.5 (127.0.145.x)', function () {
  this.timeout(300_000);
  const theLab = labForCases({ dir: tempLabDir(), net: '127.0.145', members: 3, etcd: '3.5', topology: 'kubeadm' });
  const host = (i: number) => theLab().hosts[i]!;

  it('power cut (kubelet down, every etcd killed -9, data intact): recover starts kubelet and the static pods, no key lost, manifests as they were', async () => {
    const lab = theLab();
    expect(etcdAccess((await loadInventory(lab.inventoryFile)).inventory), 'the lab inventory reaches etcd only through the members').to.equal('ssh');
    const manifestsBefore = await Promise.all(lab.hosts.map((h) => manifestsOf(lab, h.address)));
    const keys = await putKeys(lab, '/after-cut/kubeadm/', 5);
    await killKubeadmEtcd(lab);
    const result = await recover(lab);
    expect(result.code, tail(result)).to.equal(0);
    const report = reportOf(result);
    expect(report.diagnosis?.members.map((m) => m.state)).to.deep.equal(['intact', 'intact', 'intact']);
    expect(report.choice?.kind).to.equal('start');
    expect(report.choice?.start).to.have.length(3);
    expect(report.start?.verdict?.ok).to.equal(true);
    expect(await missingKeys(lab, keys)).to.deep.equal([]);
    await expectRecoveryReport(report, 'start as is, completed');
    // The status in the report is asked on the members over SSH, as the recovery asked them.
    expectStatusOfEveryMember(await readFile(report.htmlReport ?? '', 'utf8'), lab);
    const out = join(lab.dir, 'report-after-recover.html');
    const written = await orchestrate(['report', lab.inventoryFile, '--out', out, '--known-hosts', lab.knownHostsFile]);
    expect(written.code, tail(written)).to.equal(0);
    expectStatusOfEveryMember(await readFile(out, 'utf8'), lab);
    for (const [i, h] of lab.hosts.entries()) {
      expect((await sshToLabHost(lab, h.address, 'systemctl is-active kubelet')).stdout.trim(), h.address).to.equal('active');
      expect(await manifestsOf(lab, h.address), h.address).to.equal(manifestsBefore[i]);
    }
    await expectWhole(lab);
  });

  it('member replace on a down member: a joining copy of its manifest, then the original back; a new member id, keys kept', async () => {
    const lab = theLab();
    const before = await memberStatuses(lab);
    const manifestBefore = await manifestsOf(lab, host(1).address);
    const keys = await putKeys(lab, '/after-cut/kubeadm-replace/', 3);
    await killKubeadmEtcd(lab, [host(1)]);
    const result = await orchestrate(['member', 'replace', lab.inventoryFile, host(1).inventoryName, '--yes', '--json']);
    if (result.code !== 0) console.log(await podLogs(lab, host(1).address), failedSteps(result.stdout));
    expect(result.code, `${reportOf(result).failure ?? ''}\n${tail(result)}`).to.equal(0);
    expect(reportOf(result)).to.deep.include({ status: 'completed' });
    const after = await memberStatuses(lab);
    expect(after[1]!.memberId).not.to.equal(before[1]!.memberId);
    expect(after[0]!.memberId).to.equal(before[0]!.memberId);
    // The original manifest is back as it was, no folder of the run left beside it; the old data is kept.
    expect(await manifestsOf(lab, host(1).address)).to.equal(manifestBefore);
    const kept = await sshToLabHost(lab, host(1).address, 'ls -d /var/lib/etcd.before-replace-*');
    expect(kept.stdout.trim()).to.match(/^\/var\/lib\/etcd\.before-replace-\d{8}T\d{6}Z$/);
    expect(await missingKeys(lab, keys)).to.deep.equal([]);
    await expectWhole(lab);
  });
});
