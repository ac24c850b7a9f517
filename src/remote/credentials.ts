// S3 credentials, from the standard places only, in this order:
//   1. the file named by backup_remote.credentials_file (AWS credentials-file format), section `profile`;
//   2. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) in the environment;
//   3. AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, then AWS_CONFIG_FILE or ~/.aws/config.
// The profile is backup_remote.profile, else AWS_PROFILE, else `default`. No instance-metadata or SSO
// lookups: a deploy host must not send requests anywhere the operator did not name. Secrets are only
// ever returned to the caller and registered with a SecretMasker, never put in a message.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FileReadError, SMALL_FILE_LIMIT, readBoundedFile } from '../config/bounded-read.js';
import { UsageError } from '../errors.js';
import { shortKeyId } from './secret-mask.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Where they came from, for messages: `environment`, `/root/.aws/credentials [backup]`. */
  source: string;
  /** E.g. a credentials file readable by other users. */
  warnings: string[];
}

export interface CredentialOptions {
  credentialsFile?: string;
  profile?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

export class RemoteCredentialsError extends UsageError {}

/** Sections of an AWS credentials/config file: `[name]` or `[profile name]` to key = value. */
export function parseAwsIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    const name = header?.[1];
    if (name !== undefined) {
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      continue;
    }
    const pair = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line);
    const [, key, value] = pair ?? [];
    if (key !== undefined && value !== undefined && current) current.set(key.toLowerCase(), value.trim());
  }
  return sections;
}

type FromFile = { found: S3Credentials } | { missing: string };

async function fromFile(file: string, profile: string, required: boolean): Promise<FromFile> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedFile(file, SMALL_FILE_LIMIT);
  } catch (error) {
    const reason = error instanceof FileReadError ? error.reason : String(error);
    if (!required && error instanceof FileReadError && error.errno === 'ENOENT') return { missing: `${file} (absent)` };
    if (!required) return { missing: `${file} (${reason})` };
    throw new RemoteCredentialsError(
      `the S3 credentials file ${file} cannot be read: ${reason}`,
      'check backup_remote.credentials_file and the file permissions',
    );
  }
  const section = parseAwsIni(bytes.toString('utf8')).get(profile);
  const id = section?.get('aws_access_key_id');
  const secret = section?.get('aws_secret_access_key');
  if (!id || !secret) {
    if (required)
      throw new RemoteCredentialsError(
        `the S3 credentials file ${file} has no aws_access_key_id and aws_secret_access_key in profile [${profile}]`,
        `add them under [${profile}], or choose another section with backup_remote.profile or AWS_PROFILE`,
      );
    return { missing: `${file} [${profile}] (no keys)` };
  }
  const token = section?.get('aws_session_token');
  return {
    found: {
      accessKeyId: id,
      secretAccessKey: secret,
      ...(token ? { sessionToken: token } : {}),
      source: `${file} [${profile}]`,
      warnings: await modeWarnings(file),
    },
  };
}

async function modeWarnings(file: string): Promise<string[]> {
  const { stat } = await import('node:fs/promises');
  const info = await stat(file).catch(() => undefined);
  if (!info || (info.mode & 0o077) === 0) return [];
  return [`the credentials file ${file} is readable by other users (mode ${(info.mode & 0o777).toString(8)}): chmod 600 ${file}`];
}

function fromEnvironment(env: NodeJS.ProcessEnv): S3Credentials | undefined {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    throw new RemoteCredentialsError(
      `only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set in the environment`,
      'set both, or unset both to use a credentials file',
    );
  }
  return {
    accessKeyId: id,
    secretAccessKey: secret,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    source: 'environment (AWS_ACCESS_KEY_ID)',
    warnings: [],
  };
}

/** The credentials to sign requests with; a clear error naming every place looked at when there are none. */
export async function resolveCredentials(options: CredentialOptions = {}): Promise<S3Credentials> {
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const profile = options.profile ?? env.AWS_PROFILE ?? 'default';
  if (options.credentialsFile) {
    const result = await fromFile(options.credentialsFile, profile, true);
    if ('found' in result) return result.found;
  }
  const fromEnv = fromEnvironment(env);
  if (fromEnv) return fromEnv;
  const looked = ['AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (not set)'];
  for (const file of [env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), env.AWS_CONFIG_FILE || join(home, '.aws', 'config')]) {
    const result = await fromFile(file, profile, false);
    if ('found' in result) return result.found;
    looked.push(result.missing);
  }
  throw new RemoteCredentialsError(
    `no S3 credentials found for profile [${profile}]; looked at: ${looked.join('; ')}`,
    'export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write them to ~/.aws/credentials (chmod 600), or name a file with backup_remote.credentials_file',
  );
}

/** `AKIA…WXYZ from environment`: for logs and `--dry-run`, never the secret. */
export function describeCredentials(credentials: S3Credentials): string {
  return `${shortKeyId(credentials.accessKeyId)} from ${credentials.source}`;
}
