// Shared set-up of the remote-copy end-to-end tests: an inventory pointing at a real S3 server on
// loopback, a credentials file, an age key pair made by Debian's age-keygen, and a real etcd snapshot.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { backupLocations } from '../../src/etcd/backup/locations.js';
import { loadInventory } from '../../src/config/inventory.js';
import { openRemoteBackups, type RemoteBackups } from '../../src/remote/remote-backups.js';
import type { TransferPolicy } from '../../src/remote/transfer-policy.js';
import { repoRoot } from '../helpers/cli.js';
import { S3RVER_KEY_ID, S3RVER_SECRET } from '../helpers/s3-server.js';

const execFileAsync = promisify(execFile);

/** A real 20 KiB etcd 3.4 snapshot (revision 2, 5 keys). */
export const SNAPSHOT_FIXTURE = join(repoRoot, 'test', 'fixtures', 'hostile', 'snapshot.db');

/** Quick retries so fault tests stay short; the shape of the policy is the product's. */
export const FAST_POLICY: Partial<TransferPolicy> = {
  maxAttempts: 3,
  backoffBaseMs: 50,
  backoffMaxMs: 200,
  stallTimeoutMs: 3_000,
  minPartTimeoutMs: 2_000,
};

export interface AgeKeys {
  identityFile: string;
  recipient: string;
}

export async function ageKeygen(dir: string, name = 'identity.txt'): Promise<AgeKeys> {
  const identityFile = join(dir, name);
  await execFileAsync('age-keygen', ['-o', identityFile]);
  const { stdout } = await execFileAsync('age-keygen', ['-y', identityFile]);
  return { identityFile, recipient: stdout.trim() };
}

export interface RemoteFixture {
  dir: string;
  inventoryFile: string;
  backupDir: string;
  keys: AgeKeys;
  credentialsFile: string;
}

export interface InventoryOptions {
  endpoint: string;
  bucket?: string;
  encrypted?: boolean;
  secret?: string;
  keyId?: string;
  extraRemote?: string;
}

/** An AWS shared-credentials file (0600) for s3rver: its key pair unless told otherwise. */
export async function writeS3Credentials(dir: string, name: string, secret = S3RVER_SECRET, keyId = S3RVER_KEY_ID): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `[default]\naws_access_key_id = ${keyId}\naws_secret_access_key = ${secret}\n`, { mode: 0o600 });
  return file;
}

/** A temp folder with an inventory (one etcd member on loopback, never contacted), keys and credentials. */
export async function remoteFixture(options: InventoryOptions): Promise<RemoteFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'orchestrate-remote-'));
  const keys = await ageKeygen(dir);
  const credentialsFile = await writeS3Credentials(dir, 's3-credentials', options.secret, options.keyId);
  const encryption = options.encrypted === false ? '      allow_unencrypted: true\n' : '';
  const inventoryFile = join(dir, 'inventory.yml');
  await writeFile(
    inventoryFile,
    `all:
  vars:
    etcd_cluster_token: remote-test
    backup_remote:
      endpoint: ${options.endpoint}
      bucket: ${options.bucket ?? 'backups'}
      prefix: prod/etcd
      credentials_file: s3-credentials
${encryption}${options.extraRemote ?? ''}${options.encrypted === false ? '' : `    backup_encryption:\n      recipients: [${keys.recipient}]\n`}  children:
    etcd:
      hosts:
        127.0.0.1: {}
`,
  );
  const backupDir = join(dir, 'backups');
  await mkdir(backupDir, { mode: 0o700 });
  return { dir, inventoryFile, backupDir, keys, credentialsFile };
}

export async function openRemote(fixture: RemoteFixture, policy: Partial<TransferPolicy> = FAST_POLICY): Promise<RemoteBackups> {
  const { inventory } = await loadInventory(fixture.inventoryFile);
  const remote = await openRemoteBackups(inventory, backupLocations(inventory), { policy, env: {} });
  if (!remote) throw new Error('no backup_remote in the fixture inventory');
  return remote;
}

/** The snapshot fixture copied into the backup folder under an orchestrate name, with its sha256. */
export async function placeSnapshot(fixture: RemoteFixture, name = 'snapshot_20261201T101500Z_rev2.db', source = SNAPSHOT_FIXTURE) {
  const path = join(fixture.backupDir, name);
  await copyFile(source, path);
  const bytes = await readFile(path);
  const { createHash } = await import('node:crypto');
  return {
    path,
    name,
    takenAt: new Date('2026-12-01T10:15:00Z'),
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    revision: 2,
  };
}
