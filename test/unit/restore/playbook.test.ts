import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { loadPlaybook } from '../../../src/config/playbook.js';
import { moduleCatalog } from '../../../src/modules/registry.js';
import { RESTORE_PHASES } from '../../../src/restore/journal.js';

const file = fileURLToPath(new URL('../../../playbooks/restore.yml', import.meta.url));

// playbooks/restore.yml is the runbook a person reviews; the restore command runs the same phases from code.
// This keeps the two from drifting apart.
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
    expect(order).to.deep.equal(['preflight', ...RESTORE_PHASES]);
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
