// Runs work over many items with at most `limit` at a time: bringing 200 hosts up must not start 400
// ssh-keygen or nsenter processes at once on a 2-core machine.

/** Like Promise.all over `items.map(work)`, but with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error instanceof Error ? failure.error : new Error(String(failure.error));
  return results;
}

/** How many host-preparing or process-starting jobs run at once: a few per core. */
export const hostConcurrency = 8;
