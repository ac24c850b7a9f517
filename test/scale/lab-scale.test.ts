// `npm run test:scale`: a lab of 3 members and 200 kube_node hosts comes up, every node serves, memory per
// host is reported, and `lab down` leaves nothing. Not part of `npm test` (about two minutes here). Needs root.
import { expect } from 'chai';
import { expectCleanDown, expectNodesServing, memorySummary } from '../helpers/lab-nodes.js';
import { pickFreeLabNet, startLab, stopLab, tempLabDir, type LabInfo } from '../helpers/lab.js';
import { sshBanner } from '../../src/lab/host-start.js';

const nodeCount = Number(process.env.LAB_SCALE_NODES ?? 200);

describe(`lab --nodes ${nodeCount} (scale, root)`, function () {
  let lab: LabInfo;
  const dir = tempLabDir();

  before(async function () {
    this.timeout(600_000);
    const net = await pickFreeLabNet(['127.0.140', '127.0.141']);
    lab = await startLab({ dir, net, members: 3, nodes: nodeCount });
    console.log(`      bring-up of 3 members + ${nodeCount} nodes: ${(lab.startupMs / 1000).toFixed(1)} s`);
  });

  after(async function () {
    this.timeout(120_000);
    await stopLab(dir);
  });

  it('every node answers SSH and runs kubelet and kube-proxy; memory per host is reported', async function () {
    this.timeout(300_000);
    const banners = await Promise.all(lab.nodes.map((node) => sshBanner(node.address, 22, 10_000)));
    expect(banners.filter((ok) => !ok)).to.have.length(0);
    const nodes = await expectNodesServing(lab);
    console.log(`      ${memorySummary(nodes)}`);
  });

  it('lab down stops every process and leaves nothing', async function () {
    this.timeout(300_000);
    const { stopped, ms } = await expectCleanDown(lab);
    console.log(`      lab down: ${stopped} processes in ${(ms / 1000).toFixed(1)} s`);
  });
});
