import { expect } from 'chai';
import { isValid, validateFile } from '../../../src/config/validate-files.js';
import { fakeCatalog } from './fake-catalog.js';

describe('validateFile', () => {
  const table: [string, string, string | undefined][] = [
    ['test/fixtures/config/good/inventory.yml', 'inventory', 'inventory, 4 hosts, 3 etcd members'],
    ['inventories/example.yml', 'inventory', 'inventory, 5 hosts, 3 etcd members'],
    ['test/fixtures/config/good/backup.yml', 'playbook', 'playbook, 1 play, 7 tasks'],
    ['test/fixtures/config/good/restore.yml', 'playbook', 'playbook, 4 plays, 9 tasks'],
    ['test/fixtures/config/bad/inventory-ini.yml', 'inventory', undefined],
    ['test/fixtures/ini/kubeasz-multi-node', 'inventory', 'inventory, 5 hosts, 3 etcd members'],
    ['test/fixtures/ini/children', 'inventory', 'inventory, 7 hosts, 3 etcd members'],
    ['test/fixtures/config/good/roles/cluster-restore/defaults/main.yml', 'inventory', undefined],
    ['test/fixtures/config/missing.yml', 'unknown', undefined],
  ];
  for (const [file, kind, summary] of table) {
    it(`${file}: ${kind}${summary ? `, ${summary}` : ', invalid'}`, async () => {
      const report = await validateFile(file, fakeCatalog);
      expect(report.kind).to.equal(kind);
      expect(report.summary).to.equal(summary);
      expect(isValid(report)).to.equal(summary !== undefined);
      if (summary) expect(report.problems).to.deep.equal([]);
    });
  }
});
