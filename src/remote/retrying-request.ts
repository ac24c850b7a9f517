// One request with the transfer policy around it: a stall timer reset by progress, a deadline, bounded
// tries with back-off for what can get better (5xx, throttling, a dropped connection, a timeout), none
// for what cannot (refused credentials, a missing bucket). The caller's signal stops everything at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyFailure, RemoteTimeoutError, type ClassifiedFailure } from './remote-errors.js';
import { backoffMs, type TransferPolicy } from './transfer-policy.js';

export interface AttemptContext {
  signal: AbortSignal;
  /** Call with the bytes moved so far in this attempt (resets the stall timer); `bodyDone` once all are handed over. */
  progress: (bytes: number, bodyDone?: boolean) => void;
  attempt: number;
}

export interface RetryOptions {
  policy: TransferPolicy;
  /** Deadline of one attempt, ms (undefined: only the stall timer). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told about each failed try that will be retried. */
  onRetry?: (failure: ClassifiedFailure, attempt: number, waitMs: number) => void;
}

export class RequestFailedError extends Error {
  constructor(
    readonly failure: ClassifiedFailure,
    readonly attempts: number,
  ) {
    super(failure.detail);
    this.name = 'RequestFailedError';
  }
}

async function oneAttempt<T>(run: (context: AttemptContext) => Promise<T>, attempt: number, options: RetryOptions): Promise<T> {
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  let timeoutError: RemoteTimeoutError | undefined;
  const expire = (message: string) => {
    timeoutError ??= new RemoteTimeoutError(message);
    controller.abort(timeoutError);
  };
  const stallMs = options.policy.stallTimeoutMs;
  let stall = setTimeout(() => expire(`no progress for ${stallMs / 1000}s`), stallMs);
  const timeoutMs = options.timeoutMs;
  const deadline =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => expire(`not done within ${Math.round(timeoutMs / 1000)}s (scaled to the rate measured so far)`), timeoutMs);
  // Progress resets the stall timer while the request body is still being taken. Once all of it is handed
  // over, socket buffers hide how fast the server reads, so only the deadline bounds the wait for the answer.
  const progress = (_bytes: number, bodyDone = false) => {
    clearTimeout(stall);
    if (!bodyDone) stall = setTimeout(() => expire(`no progress for ${stallMs / 1000}s`), stallMs);
  };
  try {
    return await run({ signal: controller.signal, progress, attempt });
  } catch (error) {
    // An abort we caused is a timeout, whatever the SDK calls it.
    throw timeoutError && !outer?.aborted ? timeoutError : error;
  } finally {
    clearTimeout(stall);
    if (deadline) clearTimeout(deadline);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

/** Run `run` until it succeeds, the failure is not worth retrying, or the tries are used up. */
export async function withRetries<T>(run: (context: AttemptContext) => Promise<T>, options: RetryOptions): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await oneAttempt(run, attempt, options), attempts: attempt };
    } catch (error) {
      if (options.signal?.aborted) throw new RequestFailedError({ kind: 'aborted', retryable: false, detail: 'interrupted' }, attempt);
      const failure = classifyFailure(error);
      if (!failure.retryable || attempt >= options.policy.maxAttempts) throw new RequestFailedError(failure, attempt);
      const wait = backoffMs(attempt, options.policy);
      options.onRetry?.(failure, attempt, wait);
      await sleep(wait, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    }
  }
}
