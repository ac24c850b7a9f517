// Reads and checks `backup_remote` and `backup_encryption` from an inventory. Every problem is collected
// (not just the first) with the variable, what was expected and the fix. A secret written into the
// inventory is refused, and its value never appears in a message.
import { didYouMean } from '../config/suggest.js';
import type { Inventory } from '../config/types.js';
import { readEncryptionSettings } from './encryption-settings.js';
import { inventoryValue } from './inventory-value.js';
import { readRemoteRetention } from './retention-settings.js';
import { REMOTE_VAR, type RemoteProblem, type RemoteSettings, type VerifyMode } from './settings-types.js';
import { secretKeyProblem, secretValueProblems } from './secret-refusal.js';
import { problemSink, readBoolean, readFile, readString, type ProblemSink } from './setting-readers.js';

const KNOWN_KEYS = [
  'endpoint',
  'region',
  'bucket',
  'prefix',
  'path_style',
  'ca_file',
  'storage_class',
  'credentials_file',
  'profile',
  'catalog_prefix',
  'verify',
  'allow_unencrypted',
  'keep_last',
  'ttl_seconds',
  'keep_hourly',
  'keep_daily',
  'keep_weekly',
];

/** Storage classes whose objects cannot be read at once: a restore at 3 a.m. would wait hours. */
const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,40}$/;

export interface RemoteSettingsResult {
  /** Undefined when `backup_remote` is not set, or when it has errors. */
  settings?: RemoteSettings;
  problems: RemoteProblem[];
}

/** `backup_remote` and `backup_encryption` of an inventory, checked. */
export function readRemoteSettings(inventory: Inventory): RemoteSettingsResult {
  const problems: RemoteProblem[] = [];
  const raw = inventoryValue(inventory, REMOTE_VAR)?.value;
  const encryption = readEncryptionSettings(inventory, problems);
  if (raw === undefined || raw === null) return { problems };
  const problem = problemSink(REMOTE_VAR, problems);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problem([], {
      code: 'remote.not-a-mapping',
      message: `${REMOTE_VAR} must be a mapping`,
      expected: 'keys such as endpoint, region, bucket, prefix',
      fix: `write ${REMOTE_VAR}: { bucket: NAME, ... } (see the README, "Remote copies")`,
    });
    return { problems };
  }
  const map = raw as Record<string, unknown>;
  checkKeys(map, problem);
  secretValueProblems(map, [], problem);
  const settings = buildSettings(inventory, map, problem);
  const allowUnencrypted = readBoolean(map, 'allow_unencrypted', false, problem);
  if (!encryption && !allowUnencrypted) {
    problem([], {
      code: 'remote.unencrypted',
      message: `${REMOTE_VAR} is set but backup_encryption.recipients is not: a snapshot holds every Secret of the cluster in clear`,
      expected: 'backup_encryption: { recipients: [age1...] }',
      fix: 'add your age public key(s) under backup_encryption.recipients (age-keygen prints one), or set backup_remote.allow_unencrypted: true to accept uploading in clear',
    });
  }
  if (problems.some((p) => p.severity === 'error')) return { problems };
  return { settings: { ...settings, ...(encryption ? { encryption } : {}) }, problems };
}

function checkKeys(map: Record<string, unknown>, problem: ProblemSink): void {
  for (const key of Object.keys(map)) {
    if (KNOWN_KEYS.includes(key)) continue;
    const secret = secretKeyProblem(REMOTE_VAR, key);
    if (secret) {
      problem([key], { ...secret, atKey: true });
      continue;
    }
    const suggestion = didYouMean(key, KNOWN_KEYS);
    problem([key], {
      code: 'remote.unknown-key',
      message: `${REMOTE_VAR}.${key} is not a known setting${suggestion ? `: ${suggestion}` : ''}`,
      expected: KNOWN_KEYS.join(', '),
      fix: suggestion ? `rename it (${suggestion})` : `remove ${key} from ${REMOTE_VAR}`,
      atKey: true,
    });
  }
}

function buildSettings(inventory: Inventory, map: Record<string, unknown>, problem: ProblemSink): RemoteSettings {
  const endpoint = readEndpoint(map, problem);
  const region = readString(map, 'region', problem) ?? 'us-east-1';
  if (!REGION.test(region))
    problem(['region'], {
      code: 'remote.bad-region',
      message: `region ${JSON.stringify(region)} is not a region name`,
      expected: 'a region such as us-east-1',
      fix: 'write the region of the bucket (any value such as us-east-1 for most S3-compatible servers)',
    });
  const bucket = readString(map, 'bucket', problem);
  if (bucket === undefined) {
    problem([], {
      code: 'remote.missing-bucket',
      message: `${REMOTE_VAR}.bucket is missing`,
      expected: 'a bucket name',
      fix: `add bucket: NAME under ${REMOTE_VAR}`,
    });
  } else if (!BUCKET.test(bucket) || bucket.includes('..')) {
    problem(['bucket'], {
      code: 'remote.bad-bucket',
      message: `bucket ${JSON.stringify(bucket)} is not a valid bucket name`,
      expected: '3 to 63 characters: lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit',
      fix: 'write the bucket name as the storage provider shows it',
    });
  }
  const prefix = readPrefix(map, 'prefix', problem) ?? '';
  const catalogPrefix = readPrefix(map, 'catalog_prefix', problem) ?? `${prefix}catalog/`;
  const snapshotPrefix = `${prefix}snapshots/`;
  if (catalogPrefix.startsWith(snapshotPrefix) || snapshotPrefix.startsWith(catalogPrefix)) {
    problem(['catalog_prefix'], {
      code: 'remote.catalog-inside-snapshots',
      message: `the remote catalog prefix ${catalogPrefix} overlaps the snapshot prefix ${snapshotPrefix}`,
      expected: 'a prefix apart from the snapshots',
      fix: 'keep the catalog apart from the snapshots (a lifecycle rule on the snapshot prefix must not delete it): leave catalog_prefix unset or point it elsewhere',
    });
  }
  const storageClass = readStorageClass(map, problem);
  const caFile = readFile(inventory, map, 'ca_file', problem);
  if (caFile !== undefined && endpoint !== undefined && !endpoint.startsWith('https:')) {
    problem(['ca_file'], {
      code: 'remote.ca-without-https',
      message: 'ca_file is set but the endpoint is not https',
      expected: 'an https:// endpoint',
      fix: 'use an https:// endpoint, or remove ca_file',
    });
  }
  const credentialsFile = readFile(inventory, map, 'credentials_file', problem);
  const profile = readString(map, 'profile', problem);
  const verify = readVerify(map, problem);
  const retention = readRemoteRetention(map, problem);
  return {
    ...(endpoint !== undefined ? { endpoint } : {}),
    region,
    bucket: bucket ?? '',
    prefix,
    pathStyle: readBoolean(map, 'path_style', endpoint !== undefined, problem),
    ...(caFile !== undefined ? { caFile } : {}),
    ...(storageClass !== undefined ? { storageClass } : {}),
    ...(credentialsFile !== undefined ? { credentialsFile } : {}),
    ...(profile !== undefined ? { profile } : {}),
    snapshotPrefix,
    catalogPrefix,
    verify,
    ...(retention ? { retention } : {}),
  };
}

function readEndpoint(map: Record<string, unknown>, problem: ProblemSink): string | undefined {
  const text = readString(map, 'endpoint', problem);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problem(['endpoint'], {
      code: 'remote.bad-endpoint',
      message: 'endpoint is not a URL',
      expected: 'https://host[:port]',
      fix: 'write the endpoint as a URL such as https://s3.example.net',
    });
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    problem(['endpoint'], {
      code: 'remote.secret-in-inventory',
      message: 'endpoint carries a user name or password: secrets do not belong in the inventory',
      expected: 'https://host[:port] without credentials',
      fix: 'remove the user:password@ part; put the keys in a credentials file (backup_remote.credentials_file) or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
    });
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problem(['endpoint'], {
      code: 'remote.bad-endpoint',
      message: `endpoint scheme ${url.protocol} is not http or https`,
      expected: 'https://host[:port]',
      fix: 'use an https:// URL',
    });
    return undefined;
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    problem(['endpoint'], {
      code: 'remote.bad-endpoint',
      message: 'endpoint has a path, query or fragment',
      expected: 'https://host[:port]',
      fix: 'keep only scheme, host and port in endpoint; use prefix for a folder in the bucket',
    });
    return undefined;
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    problem(['endpoint'], {
      severity: 'warning',
      code: 'remote.plain-http',
      message: 'endpoint uses plain http: requests are signed and snapshots encrypted, but metadata travels in clear',
      expected: 'https://',
      fix: 'use https (with ca_file for a private CA)',
    });
  }
  return `${url.protocol}//${url.host}`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

function readPrefix(map: Record<string, unknown>, key: string, problem: ProblemSink): string | undefined {
  const text = readString(map, key, problem);
  if (text === undefined) return undefined;
  const segments = text.split('/').filter((s) => s !== '');
  if (text.startsWith('/') || segments.some((s) => s === '.' || s === '..') || text.includes('\\')) {
    problem([key], {
      code: 'remote.bad-prefix',
      message: `${key} ${JSON.stringify(text)} is not a plain key prefix`,
      expected: 'folders separated by /, such as prod/etcd/',
      fix: `remove leading /, . and .. segments from ${key}`,
    });
    return undefined;
  }
  return segments.length === 0 ? '' : `${segments.join('/')}/`;
}

function readStorageClass(map: Record<string, unknown>, problem: ProblemSink): string | undefined {
  const value = readString(map, 'storage_class', problem);
  if (value === undefined) return undefined;
  if (!/^[A-Z][A-Z0-9_]*$/.test(value)) {
    problem(['storage_class'], {
      code: 'remote.bad-storage-class',
      message: `storage_class ${JSON.stringify(value)} is not a storage class name`,
      expected: "STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, or your provider's class",
      fix: 'write the class in capitals as the provider names it',
    });
    return undefined;
  }
  if (ARCHIVE_CLASSES.has(value)) {
    problem(['storage_class'], {
      code: 'remote.archive-storage-class',
      message: `storage_class ${value} cannot be read without a restore request that takes hours: verification and restore would fail`,
      expected: 'a class readable at once: STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR',
      fix: 'use GLACIER_IR for cheap storage that is still readable at once, or a lifecycle rule for older copies',
    });
    return undefined;
  }
  return value;
}

function readVerify(map: Record<string, unknown>, problem: ProblemSink): VerifyMode {
  const value = map.verify;
  if (value === undefined || value === null) return 'auto';
  if (value === 'auto' || value === 'read-back') return value;
  problem(['verify'], {
    code: 'remote.bad-verify',
    message: `verify must be auto or read-back`,
    expected: 'auto (a checksum the server keeps, else a read-back) or read-back (always download and hash)',
    fix: 'write verify: auto or verify: read-back',
  });
  return 'auto';
}
