import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { loadPlaybook } from '../../../../src/config/playbook.js';
import { moduleCatalog } from '../../../../src/modules/registry.js';
import { proceduresPhases } from '../../../../src/engine/phases.js';

const file = fileURLToPath(new URL('../../../../playbooks/restore.yml', import.meta.url));
const rollbackFile = fileURLToPath(new URL('../../../../playbooks/restore-rollback.yml', import.meta.url));

// playbooks/restore.yml is what `orchestrate restore` runs; the command gives some phases a meaning (resume,
// rollback, the RTO marks), so their order is part of the contract.
describe('playbooks/restore.yml', () => {
  it('loads with the module catalog (every module exists, every task is well-formed)', async () => {
    const playbook = await loadPlaybook(file, moduleCatalog);
    expect(playbook.plays.length).to.be.greaterThan(5);
  });

  it('lists the phases in the order the restore command runs them', async () => {
    const playbook = await loadPlaybook(file, moduleCatalog);
    const order: string[] = [];
    for (const play of playbook.plays) {
      for (const task of play.tasks) {
        const phase = task.tags?.[0];
        expect(phase, `task "${task.name}" names its phase in its first tag`).to.be.a('string');
        if (order[order.length - 1] !== phase) order.push(phase!);
      }
    }
    expect(order).to.deep.equal([
      'preflight',
      'identities',
      'copy-snapshot',
      'restore-data',
      'stop-kube-node',
      'stop-kube-master',
      'stop-etcd',
      'swap-data',
      'start-etcd',
      'verify-cluster',
      'start-kube-master',
      'start-kube-node',
      'cleanup',
    ]);
    expect(proceduresPhases(playbook, {}, moduleCatalog).map((p) => p.id)).to.deep.equal(order);
  });

  it('the rollback: stop, put the old data back, start, verify a quorum, start the services', async () => {
    const playbook = await loadPlaybook(rollbackFile, moduleCatalog);
    expect(proceduresPhases(playbook, {}, moduleCatalog).map((p) => p.id)).to.deep.equal([
      'preflight',
      'stop-kube-node',
      'stop-kube-master',
      'stop-etcd',
      'revert-data',
      'start-etcd',
      'verify-cluster',
      'start-kube-master',
      'start-kube-node',
    ]);
    const verify = playbook.plays.flatMap((p) => p.tasks).find((t) => t.module === 'etcd.verify-cluster');
    expect(String((verify?.args as Record<string, unknown>).quorum_only)).to.equal('true');
  });

  it('uses the restore modules for every step that touches data or services', async () => {
    const playbook = await loadPlaybook(file, moduleCatalog);
    const modules = new Set(playbook.plays.flatMap((play) => play.tasks.map((task) => task.module)));
    for (const id of [
      'etcd.preflight',
      'etcd.snapshot-copy',
      'etcd.restore',
      'kube.services',
      'etcd.service',
      'data.move-aside',
      'etcd.verify-cluster',
    ]) {
      expect(modules.has(id), id).to.equal(true);
    }
  });
});
