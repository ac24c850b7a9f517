import { expect } from 'chai';
import { RequestFailedError, withRetries } from '../../../src/remote/retrying-request.js';
import { DEFAULT_POLICY, type TransferPolicy } from '../../../src/remote/transfer-policy.js';
import { httpError } from './memory-store.js';

const policy: TransferPolicy = { ...DEFAULT_POLICY, maxAttempts: 4, backoffBaseMs: 1, backoffMaxMs: 2, stallTimeoutMs: 100, minPartTimeoutMs: 50 };

async function failure(promise: Promise<unknown>): Promise<RequestFailedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(RequestFailedError);
    return error as RequestFailedError;
  }
  throw new Error('expected a failure');
}

describe('remote requests: retries and timeouts', () => {
  it('retries 5xx, throttling and dropped connections, then succeeds', async () => {
    const errors = [httpError(500, 'InternalError'), httpError(503, 'SlowDown'), Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })];
    const retried: string[] = [];
    const { value, attempts } = await withRetries(
      () => {
        const next = errors.shift();
        return next ? Promise.reject(next) : Promise.resolve('done');
      },
      { policy, onRetry: (f) => retried.push(f.kind) },
    );
    expect([value, attempts]).to.deep.equal(['done', 4]);
    expect(retried).to.deep.equal(['server', 'throttled', 'network']);
  });

  const permanent: [string, Error, string][] = [
    ['refused credentials', httpError(403, 'InvalidAccessKeyId'), 'credentials'],
    ['a missing bucket', httpError(404, 'NoSuchBucket'), 'no-bucket'],
    ['a bad request', httpError(400, 'InvalidArgument'), 'refused'],
  ];
  for (const [what, error, kind] of permanent) {
    it(`does not retry ${what}`, async () => {
      let calls = 0;
      const failed = await failure(
        withRetries(
          () => {
            calls++;
            return Promise.reject(error);
          },
          { policy },
        ),
      );
      expect([calls, failed.failure.kind, failed.attempts]).to.deep.equal([1, kind, 1]);
    });
  }

  it('stops after maxAttempts and says how many', async () => {
    let calls = 0;
    const failed = await failure(
      withRetries(
        () => {
          calls++;
          return Promise.reject(httpError(502, 'BadGateway'));
        },
        { policy },
      ),
    );
    expect([calls, failed.attempts, failed.failure.kind]).to.deep.equal([4, 4, 'server']);
  });

  it('abandons an attempt that makes no progress, and retries it', async () => {
    let calls = 0;
    const { attempts } = await withRetries(
      ({ signal }) => {
        calls++;
        if (calls === 1)
          return new Promise((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
          );
        return Promise.resolve('ok');
      },
      { policy },
    );
    expect(attempts).to.equal(2);
  });

  it('progress keeps a slow attempt alive past the stall timeout', async () => {
    const { value } = await withRetries(
      async ({ progress }) => {
        for (let i = 0; i < 6; i++) {
          await new Promise((resolve) => setTimeout(resolve, 40));
          progress(i);
        }
        return 'slow but steady';
      },
      { policy: { ...policy, maxAttempts: 1 } },
    );
    expect(value).to.equal('slow but steady');
  });

  it('the deadline cuts an attempt that keeps trickling', async () => {
    const failed = await failure(
      withRetries(
        ({ signal, progress }) =>
          new Promise((_resolve, reject) => {
            const timer = setInterval(() => progress(1), 20);
            signal.addEventListener('abort', () => {
              clearInterval(timer);
              reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
            });
          }),
        { policy: { ...policy, maxAttempts: 2 }, timeoutMs: 150 },
      ),
    );
    expect(failed.failure.kind).to.equal('timeout');
    expect(failed.failure.detail).to.match(/not done within/);
    expect(failed.attempts).to.equal(2);
  });

  it("the caller's signal stops at once, without retrying", async () => {
    const controller = new AbortController();
    let calls = 0;
    setTimeout(() => controller.abort(), 20);
    const failed = await failure(
      withRetries(
        ({ signal }) => {
          calls++;
          return new Promise((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
          );
        },
        { policy, signal: controller.signal },
      ),
    );
    expect([calls, failed.failure.kind]).to.deep.equal([1, 'aborted']);
  });
});
