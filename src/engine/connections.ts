// One connection per host, opened in parallel before the first task for the hosts known to need one,
// opened on first use for delegates known only at run time, all closed at the end.
import { connectionFor, currentUser } from '../config/connection.js';
import type { ConnectionSpec, Inventory } from '../config/types.js';
import { UnreachableError } from '../errors.js';
import type { HostKeyPolicy } from '../transport/host-key-policy.js';
import type { Transport } from '../transport/types.js';
import type { OpenTransportsFn } from './types.js';

/** `delegate_to: localhost` (when no inventory host has that name) runs on the deploy host. */
export const localhostName = 'localhost';

export interface ConnectionOptions {
  knownHostsFile?: string;
  acceptNewHostKeys?: boolean;
  connectTimeoutMs?: number;
  sshConfigFile?: string;
  hostKeyPolicy?: HostKeyPolicy;
  hostKeyPolicyReason?: string;
  openTransports?: OpenTransportsFn;
}

export class ConnectionPool {
  private readonly entries = new Map<string, Promise<Transport | UnreachableError>>();
  private readonly specs = new Map<string, ConnectionSpec>();

  constructor(
    private readonly inventory: Inventory,
    private readonly options: ConnectionOptions,
  ) {}

  /** How a host is reached; the deploy host for `localhost`. */
  specFor(name: string): ConnectionSpec {
    let spec = this.specs.get(name);
    if (!spec) {
      const host = this.inventory.hosts.get(name);
      spec = host ? connectionFor(host) : { host: name, address: '127.0.0.1', port: 22, user: currentUser(), local: true, become: false };
      this.specs.set(name, spec);
    }
    return spec;
  }

  isKnown(name: string): boolean {
    return this.inventory.hosts.has(name) || name === localhostName;
  }

  /** Open these connections at once (already open ones are kept). */
  async openAll(names: Iterable<string>): Promise<void> {
    const wanted = [...new Set(names)].filter((name) => !this.entries.has(name));
    if (wanted.length === 0) return;
    const opening = this.open(wanted.map((name) => this.specFor(name)));
    for (const name of wanted) {
      this.entries.set(
        name,
        opening.then((map) => map.get(name) ?? new UnreachableError(name, 'no connection was opened')),
      );
    }
    await opening;
  }

  async get(name: string): Promise<Transport | UnreachableError> {
    if (!this.entries.has(name)) await this.openAll([name]);
    return this.entries.get(name) ?? new UnreachableError(name, 'no connection was opened');
  }

  /**
   * Connections lost since they opened are opened again (a transport reconnects on connect(); an
   * unreachable host is tried anew). A rollback after a dropped connection must not reuse the dead one.
   */
  async reconnect(): Promise<void> {
    const names = [...this.entries.keys()];
    await Promise.all(
      names.map(async (name) => {
        const entry = await this.entries.get(name)?.catch(() => undefined);
        if (entry instanceof UnreachableError || entry === undefined) {
          this.entries.delete(name);
          return;
        }
        // A live connection returns at once; a failed reconnect shows as that host's error in its next step.
        await entry.connect().catch(() => undefined);
      }),
    );
    const dropped = names.filter((name) => !this.entries.has(name));
    if (dropped.length > 0) await this.openAll(dropped);
  }

  async closeAll(): Promise<void> {
    const settled = await Promise.all([...this.entries.values()].map((entry) => entry.catch(() => undefined)));
    this.entries.clear();
    await Promise.all(
      settled.map(async (entry) => {
        if (!entry || entry instanceof UnreachableError) return;
        try {
          await entry.close();
        } catch {
          // already gone; nothing to report at the end of a run
        }
      }),
    );
  }

  private async open(specs: ConnectionSpec[]): Promise<Map<string, Transport | UnreachableError>> {
    const options = {
      acceptNewHostKeys: this.options.acceptNewHostKeys ?? false,
      ...(this.options.knownHostsFile !== undefined ? { knownHostsFile: this.options.knownHostsFile } : {}),
      ...(this.options.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.options.connectTimeoutMs } : {}),
      ...(this.options.sshConfigFile !== undefined ? { sshConfigFile: this.options.sshConfigFile } : {}),
      ...(this.options.hostKeyPolicy !== undefined ? { hostKeyPolicy: this.options.hostKeyPolicy } : {}),
      ...(this.options.hostKeyPolicyReason !== undefined ? { hostKeyPolicyReason: this.options.hostKeyPolicyReason } : {}),
    };
    if (this.options.openTransports) return this.options.openTransports(specs, options);
    const { openTransports } = await import('../transport/open-transports.js');
    return openTransports(specs, options);
  }
}
