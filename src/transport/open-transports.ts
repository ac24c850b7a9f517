// Connect to every host before the first task: all at once (bounded), each failure kept per host.
// ssh_config is read once, and every host's settings are resolved before any connection opens, so a
// configuration orchestrate refuses (ProxyCommand, Match exec, a bad file) stops the run with nothing done.
import type { SshConfig } from '../config/ssh-config.js';
import type { ConnectionSpec } from '../config/types.js';
import { ConfigError, type ConfigProblem, UnreachableError } from '../errors.js';
import { LocalTransport, type LocalTransportOptions } from './local-transport.js';
import { sshConfigFor } from './ssh-connect.js';
import { resolveTarget } from './ssh-target.js';
import { SshTransport, type SshTransportOptions } from './ssh-transport.js';
import type { Transport } from './types.js';

export interface OpenTransportsOptions extends SshTransportOptions {
  /** Connections being set up at once. Default 50. */
  concurrency?: number;
  local?: LocalTransportOptions;
}

/** Reads ssh_config (when a host needs SSH) and checks every host's settings against it; throws one ConfigError for all. */
async function checkedSshConfig(specs: readonly ConnectionSpec[], options: SshTransportOptions): Promise<SshConfig | undefined> {
  const overSsh = specs.filter((spec) => !spec.local);
  if (overSsh.length === 0) return undefined;
  const config = await sshConfigFor(options);
  const problems: ConfigProblem[] = [];
  for (const spec of overSsh) {
    try {
      resolveTarget(spec, config, options);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) if (!problems.some((seen) => seen.message === problem.message)) problems.push(problem);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * One transport per distinct `spec.host`, keyed by it: a connected Transport or the UnreachableError
 * saying why not. Never throws for a host's failure; throws a ConfigError when ssh_config or a host's
 * SSH settings cannot be used.
 */
export async function openTransports(
  specs: readonly ConnectionSpec[],
  options: OpenTransportsOptions = {},
): Promise<Map<string, Transport | UnreachableError>> {
  const unique = [...new Map(specs.map((spec) => [spec.host, spec])).values()];
  const results = new Map<string, Transport | UnreachableError>();
  const { concurrency = 50, local, ...sshOptions } = options;
  const sshConfig = await checkedSshConfig(unique, sshOptions);
  const shared: SshTransportOptions = sshConfig ? { ...sshOptions, sshConfig } : sshOptions;
  const queue = [...unique];
  const worker = async (): Promise<void> => {
    for (let spec = queue.shift(); spec; spec = queue.shift()) {
      const transport: Transport = spec.local ? new LocalTransport(spec, local) : new SshTransport(spec, shared);
      try {
        await transport.connect();
        results.set(spec.host, transport);
      } catch (error) {
        results.set(
          spec.host,
          error instanceof UnreachableError
            ? error
            : new UnreachableError(spec.host, `cannot connect: ${error instanceof Error ? error.message : String(error)}`),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, unique.length)) }, worker));
  // Keep the caller's order, which the recap and progress output follow.
  return new Map(unique.map((spec) => [spec.host, results.get(spec.host) ?? new UnreachableError(spec.host, 'no connection was opened')]));
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
