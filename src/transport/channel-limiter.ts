// Bounds the channels open at once on one SSH connection. OpenSSH refuses sessions beyond
// MaxSessions (10 by default), so callers queue here instead of failing.

export class ChannelLimiter {
  private running = 0;
  private readonly waitingGrants: Array<() => void> = [];

  /** `onQueued` is told whenever a caller has to wait, so an idle holder of a slot can give it up. */
  constructor(
    private limit: number,
    private readonly onQueued: () => void = () => undefined,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`channel limit must be a positive integer, got ${limit}`);
  }

  get active(): number {
    return this.running;
  }

  get capacity(): number {
    return this.limit;
  }

  get waiting(): number {
    return this.waitingGrants.length;
  }

  /** A release function if a slot is free now, else undefined (never waits). */
  tryAcquire(): (() => void) | undefined {
    if (this.running >= this.limit) return undefined;
    this.running += 1;
    return this.releaser();
  }

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts while queued. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.running < this.limit) {
      this.running += 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waitingGrants.indexOf(grant);
        if (index >= 0) this.waitingGrants.splice(index, 1);
        if (signal) reject(abortReason(signal));
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.running += 1;
        resolve(this.releaser());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waitingGrants.push(grant);
      this.onQueued();
    });
  }

  /** The server refused a channel while `active` were open: it allows fewer than we assumed. */
  lowerLimit(limit: number): void {
    this.limit = Math.max(1, Math.min(this.limit, limit));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      while (this.running < this.limit) {
        const grant = this.waitingGrants.shift();
        if (!grant) break;
        grant();
      }
    };
  }
}

/** Why `signal` aborted, as an Error (any other reason becomes an AbortError, keeping a string reason as its message). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(typeof reason === 'string' ? reason : 'This operation was aborted', 'AbortError');
}
