// A RemoteBackups over the in-memory store, for unit tests of what calls it (modules, commands): an
// inventory file in a temp folder with backup_remote and age recipients made in-process, the product's
// settings reader, and a real snapshot to copy. The e2e tests use a real S3 server.
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../../src/config/inventory.js';
import type { Inventory } from '../../../src/config/types.js';
import { backupLocations } from '../../../src/etcd/backup/locations.js';
import { RemoteBackups, remoteSettingsFor } from '../../../src/remote/remote-backups.js';
import { DEFAULT_POLICY } from '../../../src/remote/transfer-policy.js';
import { MemoryStore } from './memory-store.js';

/** A real 20 KiB etcd 3.4 snapshot (revision 2, 5 keys). */
export const SNAPSHOT = join(process.cwd(), 'test', 'fixtures', 'hostile', 'snapshot.db');

export interface MemoryRemote {
  dir: string;
  inventory: Inventory;
  store: MemoryStore;
  remote: RemoteBackups;
  identity: string;
  backupDir: string;
}

/** `remoteVars`: more lines under backup_remote (indented 6); `vars`: more lines under all.vars (indented 4). */
export async function memoryRemote(
  options: { remoteVars?: string; vars?: string; encrypted?: boolean; localEncryption?: boolean } = {},
): Promise<MemoryRemote> {
  const dir = await mkdtemp(join(tmpdir(), 'orchestrate-memory-remote-'));
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const encrypted = options.encrypted ?? true;
  await writeFile(
    join(dir, 'inventory.yml'),
    `all:
  vars:
    etcd_cluster_token: unit
${options.vars ?? ''}    backup_remote:
      endpoint: https://s3.example.test
      bucket: backups
      prefix: prod/
${encrypted ? '' : '      allow_unencrypted: true\n'}${options.remoteVars ?? ''}${encrypted ? `    backup_encryption:\n      recipients: [${recipient}]\n${options.localEncryption ? '      local: true\n' : ''}` : ''}  children:
    etcd:
      hosts:
        127.0.0.1: {}
`,
  );
  const { inventory } = await loadInventory(join(dir, 'inventory.yml'), { requireEtcd: true });
  const settings = remoteSettingsFor(inventory).settings;
  if (!settings) throw new Error('no backup_remote in the test inventory');
  const store = new MemoryStore();
  store.etagStyle = 'whole-md5';
  const credentials = { accessKeyId: 'AKIAUNITTESTKEY1', secretAccessKey: 'unit-test-secret-value-0123456789', source: 'unit test', warnings: [] };
  const remote = new RemoteBackups(settings, store, credentials, backupLocations(inventory), {
    ...DEFAULT_POLICY,
    backoffBaseMs: 1,
    backoffMaxMs: 2,
  });
  const backupDir = backupLocations(inventory).backupDir;
  await mkdir(backupDir, { recursive: true, mode: 0o700 });
  return { dir, inventory, store, remote, identity, backupDir };
}

/** The fixture snapshot in backup_dir under an orchestrate name, with its sha256. */
export async function placeSnapshot(backupDir: string, name: string): Promise<{ path: string; sha256: string; size: number }> {
  const path = join(backupDir, name);
  await copyFile(SNAPSHOT, path);
  const bytes = await readFile(path);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}
