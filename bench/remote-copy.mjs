// The orchestrate side of bench/backup-remote-vs-etcdctl.ts until `backup` calls it itself: the newest
// snapshot of an inventory's backup_dir copied to its backup_remote with src/remote (compiled, dist/),
// exactly as backup will call it after its verification. usage: node bench/remote-copy.mjs INVENTORY
import { readCatalog } from '../dist/backup/catalog.js';
import { backupLocations } from '../dist/backup/locations.js';
import { listSnapshotFiles } from '../dist/backup/snapshot-store.js';
import { loadInventory } from '../dist/config/inventory.js';
import { openRemoteBackups } from '../dist/remote/remote-backups.js';

const started = performance.now();
const { inventory } = await loadInventory(process.argv[2]);
const locations = backupLocations(inventory);
const [newest] = await listSnapshotFiles(locations.backupDir);
if (!newest) throw new Error(`no snapshot in ${locations.backupDir}`);
const { records } = await readCatalog(locations.catalogFile);
const record = [...records].reverse().find((r) => r.result === 'ok' && r.file === newest.path);
if (!record?.sha256) throw new Error(`no verified catalog record for ${newest.path}`);
const remote = await openRemoteBackups(inventory, locations);
try {
  const copied = await remote.copy({
    path: newest.path,
    name: newest.name,
    takenAt: new Date(newest.takenAt),
    size: record.size,
    sha256: record.sha256,
    revision: record.revision,
  });
  process.stdout.write(
    `${JSON.stringify({ ms: performance.now() - started, copyMs: copied.durationMs, ...copied.timings, key: copied.record.key, size: copied.record.size, verifiedBy: copied.record.verifiedBy })}\n`,
  );
} finally {
  remote.close();
}
