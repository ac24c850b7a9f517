// What went wrong talking to the store, in the operator's words, and whether trying again can help.
import { ExitCode, OrchestrateError } from '../errors.js';

export type FailureKind =
  'credentials' | 'no-bucket' | 'not-found' | 'throttled' | 'server' | 'network' | 'timeout' | 'aborted' | 'refused' | 'verification';

export interface ClassifiedFailure {
  kind: FailureKind;
  retryable: boolean;
  /** One line: `HTTP 503 SlowDown: Please reduce your request rate`. */
  detail: string;
  status?: number;
  code?: string;
}

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'AuthorizationHeaderMalformed',
  'InvalidSecurity',
]);

/** Classify an error thrown by the SDK, the network or our own timeouts. */
export function classifyFailure(error: unknown): ClassifiedFailure {
  if (error instanceof RemoteTimeoutError) return { kind: 'timeout', retryable: true, detail: error.message };
  // Ours: already explained, and a mismatch does not get better by asking again.
  if (error instanceof RemoteCopyError) return { kind: error.kind, retryable: false, detail: error.message };
  const e = (error ?? {}) as SdkLikeError;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const code = e.Code ?? (e.name !== 'Error' ? e.name : undefined) ?? e.code;
  const message = (e.message ?? String(error)).split('\n')[0] ?? '';
  const detail = `${status !== undefined ? `HTTP ${status} ` : ''}${code && code !== 'UnknownError' ? `${code}: ` : ''}${message}`;
  const base = { detail, ...(status !== undefined ? { status } : {}), ...(code !== undefined ? { code } : {}) };
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') return { ...base, kind: 'aborted', retryable: false };
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return { ...base, kind: 'network', retryable: true };
  if (code === 'NoSuchBucket') return { ...base, kind: 'no-bucket', retryable: false };
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return { ...base, kind: 'not-found', retryable: false };
  if ((code !== undefined && CREDENTIAL_CODES.has(code)) || status === 401 || status === 403)
    return { ...base, kind: 'credentials', retryable: false };
  if (status === 429 || code === 'SlowDown' || code === 'Throttling' || code === 'RequestTimeout')
    return { ...base, kind: 'throttled', retryable: true };
  if (status !== undefined && status >= 500) return { ...base, kind: 'server', retryable: true };
  if (status !== undefined && status >= 400) return { ...base, kind: 'refused', retryable: false };
  // No HTTP status: the connection failed or the response could not be read.
  return { ...base, kind: 'network', retryable: true };
}

/** A request that made no progress for too long, or outlived its deadline. */
export class RemoteTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteTimeoutError';
  }
}

/** What each kind means for the operator. */
export function adviceFor(kind: FailureKind, store: string): string {
  switch (kind) {
    case 'credentials':
      return `the credentials were refused by ${store}: check the key pair (AWS_ACCESS_KEY_ID or the credentials file) and that it may write to the bucket`;
    case 'no-bucket':
      return `create the bucket on ${store} or correct backup_remote.bucket`;
    case 'network':
      return `check that ${store} is reachable from the deploy host (endpoint, port, firewall, ca_file)`;
    case 'timeout':
      return `${store} stopped making progress; check the network path and the server's health`;
    case 'server':
    case 'throttled':
      return `${store} kept failing; check the server's health and try again`;
    case 'verification':
      return 'the remote copy does not match the local snapshot; it was not recorded as a good copy. Check the server, then run the backup again';
    default:
      return `check backup_remote in the inventory and the state of ${store}`;
  }
}

/** A remote operation that failed; the message names the object, the cause and what to do (exit 3). */
export class RemoteCopyError extends OrchestrateError {
  constructor(
    message: string,
    readonly kind: FailureKind,
    hint?: string,
  ) {
    super(message, `remote.${kind}`, ExitCode.failed, hint);
  }
}
