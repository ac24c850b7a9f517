// The remote-copy settings read from an inventory (`backup_remote`, `backup_encryption`), and the
// problems found in them. Problems carry the variable and a path inside it; placeRemoteProblems puts them
// at file:line:col.
import type { RetentionPolicy } from '../etcd/backup/retention.js';

/** How the remote copy is checked after an upload. */
export type VerifyMode = 'auto' | 'read-back';

export interface EncryptionSettings {
  /** age X25519 recipients (`age1...`), public keys: safe in an inventory. */
  recipients: string[];
  /** Where the private key lives, for restore, verify and pull (`backup_encryption.identity_file`). */
  identityFile?: string;
  /** Encrypt the local copies in backup_dir too. */
  local: boolean;
}

export interface RemoteSettings {
  /** `https://host[:port]`; undefined: AWS S3 in `region`. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** '' or ending in `/`. */
  prefix: string;
  pathStyle: boolean;
  /** Absolute path of a PEM bundle trusted for a private endpoint. */
  caFile?: string;
  storageClass?: string;
  /** Absolute path of an AWS-format credentials file named by the inventory. */
  credentialsFile?: string;
  /** Profile in the credentials file (else AWS_PROFILE, else `default`). */
  profile?: string;
  /** Where snapshot objects go: `<prefix>snapshots/`. */
  snapshotPrefix: string;
  /** Where the catalog goes, apart from the snapshots: `<prefix>catalog/` unless `catalog_prefix` says. */
  catalogPrefix: string;
  verify: VerifyMode;
  /** Undefined only when `allow_unencrypted: true`. */
  encryption?: EncryptionSettings;
  /** Retention for the remote place; undefined: the same policy as the local one. */
  retention?: RetentionPolicy;
}

export interface RemoteProblem {
  severity: 'error' | 'warning';
  /** Stable code such as `remote.secret-in-inventory`. */
  code: string;
  /** The variable as an operator writes it: `backup_remote.bucket`. */
  variable: string;
  /** Top-level inventory variable and the keys inside it (`['backup_remote', 'bucket']`). */
  path: string[];
  message: string;
  expected?: string;
  fix: string;
  /** Point at the key rather than the value (unknown or forbidden keys). */
  atKey?: boolean;
}

export const REMOTE_VAR = 'backup_remote';
export const ENCRYPTION_VAR = 'backup_encryption';
