import { expect } from 'chai';
import { parseInventory } from '../../../src/config/inventory.js';
import { backupLocations, isInside } from '../../../src/etcd/backup/locations.js';
import { RefusedError } from '../../../src/errors.js';

function inventory(vars: string): ReturnType<typeof parseInventory>['inventory'] {
  const text = `all:\n  vars:\n${vars}\n  children:\n    etcd:\n      hosts:\n        10.0.0.1: {}\n        10.0.0.2: {}\n`;
  return parseInventory('/srv/cluster/hosts.yml', text).inventory;
}

describe('backup locations', () => {
  it('defaults: backups/ beside the inventory, the catalog and metrics under .orchestrate/', () => {
    const loc = backupLocations(inventory('    etcd_cluster_token: prod-1'));
    expect(loc).to.deep.equal({
      cluster: 'prod-1',
      backupDir: '/srv/cluster/backups',
      catalogFile: '/srv/cluster/.orchestrate/catalog/prod-1.jsonl',
      metricsFile: '/srv/cluster/.orchestrate/metrics/orchestrate_backup.prom',
    });
  });

  it('follows backup_dir, backup_catalog_dir and backup_metrics_file; --metrics-file wins', () => {
    const inv = inventory(
      '    backup_dir: /var/backups/etcd\n    backup_catalog_dir: /var/lib/orchestrate\n    backup_metrics_file: /var/lib/node_exporter/textfile/etcd.prom',
    );
    expect(backupLocations(inv)).to.include({
      cluster: 'etcd-cluster-0',
      backupDir: '/var/backups/etcd',
      catalogFile: '/var/lib/orchestrate/etcd-cluster-0.jsonl',
      metricsFile: '/var/lib/node_exporter/textfile/etcd.prom',
    });
    expect(backupLocations(inv, { metricsFile: '/tmp/m.prom' }).metricsFile).to.equal('/tmp/m.prom');
  });

  it('a token with odd characters still makes one safe file name', () => {
    expect(backupLocations(inventory('    etcd_cluster_token: "a/b c"')).catalogFile).to.equal('/srv/cluster/.orchestrate/catalog/a_b_c.jsonl');
  });

  it('refuses a catalog inside the backup folder, naming both and the fix', () => {
    const inv = inventory('    backup_dir: /var/backups/etcd\n    backup_catalog_dir: /var/backups/etcd/catalog');
    expect(() => backupLocations(inv)).to.throw(RefusedError, /catalog .* would be inside the backup folder \/var\/backups\/etcd/);
    expect(isInside('/a/b', '/a')).to.equal(true);
    expect(isInside('/a', '/a')).to.equal(true);
    expect(isInside('/ab', '/a')).to.equal(false);
    expect(isInside('/a/..b', '/a')).to.equal(true);
  });
});
