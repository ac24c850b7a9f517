// End-to-end: `lab up --members 3 --nodes 10` adds kube_node-only hosts (sshd, kubelet and kube-proxy, no
// etcd), listed in the inventory's kube_node group only, and `lab down` stops them all. The 200-node run
// is `npm run test:scale` (test/scale). Needs root.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { expectCleanDown, expectNodesServing, memorySummary } from '../helpers/lab-nodes.js';
import { pickFreeLabNet, sshToLabHost, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';

describe('lab --nodes (e2e, root)', function () {
  let lab: LabInfo;
  const dir = tempLabDir();

  before(async function () {
    this.timeout(120_000);
    const net = await pickFreeLabNet(['127.0.131', '127.0.132']);
    lab = await startLab({ dir, net, members: 3, nodes: 10 });
  });

  after(async function () {
    this.timeout(60_000);
    await stopLab(dir);
  });

  it('lists the nodes in kube_node only, after the members, each on its own address', function () {
    const inventory = parse(readFileSync(lab.inventoryFile, 'utf8')) as { all: { children: Record<string, { hosts: Record<string, unknown> }> } };
    const members = lab.hosts.map((host) => host.address);
    const nodes = lab.nodes.map((host) => host.address);
    expect(nodes).to.have.length(10);
    expect(nodes[0]).to.equal(`${lab.net}.4`);
    expect(Object.keys(inventory.all.children.etcd?.hosts ?? {})).to.deep.equal(members);
    expect(Object.keys(inventory.all.children.kube_master?.hosts ?? {})).to.deep.equal(members);
    expect(Object.keys(inventory.all.children.kube_node?.hosts ?? {})).to.deep.equal([...members, ...nodes]);
  });

  it('runs sshd, kubelet and kube-proxy on every node, and no etcd', async function () {
    this.timeout(60_000);
    const nodes = await expectNodesServing(lab);
    console.log(`      ${memorySummary(nodes)}`);
    const node = lab.nodes[9]?.address ?? '';
    const result = await sshToLabHost(
      lab,
      node,
      'cat /etc/lab-host; systemctl is-active kubelet kube-proxy; systemctl status etcd >/dev/null 2>&1; echo etcd=$?; command -v etcd',
    );
    expect(result.stdout.trim().split('\n')).to.deep.equal([node, 'active', 'active', 'etcd=4', '/usr/bin/etcd']);
  });

  it('lab down stops every process of members and nodes', async function () {
    this.timeout(60_000);
    const { stopped } = await expectCleanDown(lab);
    expect(stopped).to.be.at.least(3 * 12 + 10 * 5);
  });
});
