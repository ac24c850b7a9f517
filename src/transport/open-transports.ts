// Connect to every host before the first task: all at once (bounded), each failure kept per host.
import type { ConnectionSpec } from '../config/types.js';
import { UnreachableError } from '../errors.js';
import { LocalTransport, type LocalTransportOptions } from './local-transport.js';
import { SshTransport, type SshTransportOptions } from './ssh-transport.js';
import type { Transport } from './types.js';

export interface OpenTransportsOptions extends SshTransportOptions {
  /** Connections being set up at once. Default 50. */
  concurrency?: number;
  local?: LocalTransportOptions;
}

/**
 * One transport per distinct `spec.host`, keyed by it: a connected Transport or the UnreachableError
 * saying why not. Never throws for a host's failure.
 */
export async function openTransports(
  specs: readonly ConnectionSpec[],
  options: OpenTransportsOptions = {},
): Promise<Map<string, Transport | UnreachableError>> {
  const unique = [...new Map(specs.map((spec) => [spec.host, spec])).values()];
  const results = new Map<string, Transport | UnreachableError>();
  const { concurrency = 50, local, ...sshOptions } = options;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      const spec = unique[next++]!;
      const transport: Transport = spec.local ? new LocalTransport(spec, local) : new SshTransport(spec, sshOptions);
      try {
        await transport.connect();
        results.set(spec.host, transport);
      } catch (error) {
        results.set(
          spec.host,
          error instanceof UnreachableError ? error : new UnreachableError(spec.host, `cannot connect: ${(error as Error).message ?? String(error)}`),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, unique.length)) }, worker));
  // Keep the caller's order, which the recap and progress output follow.
  return new Map(unique.map((spec) => [spec.host, results.get(spec.host)!]));
}

/** Close every transport that opened; errors while closing are not worth failing a run for. */
export async function closeTransports(transports: Map<string, Transport | UnreachableError>): Promise<void> {
  await Promise.all(
    [...transports.values()].map(async (entry) => {
      if (entry instanceof UnreachableError) return;
      try {
        await entry.close();
      } catch {
        // already gone
      }
    }),
  );
}
