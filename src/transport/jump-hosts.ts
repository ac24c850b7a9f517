// Jump hosts (bastions): one SSH connection per jump host, shared by every host behind it, each host
// reached through a channel the jump host forwards (`direct-tcpip`, what `ssh -J` uses). A chain reaches
// each hop through the one before. A jump host's connection closes when the last host using it closes.
import type { Duplex } from 'node:stream';
import type { Client as SshClient } from 'ssh2';
import { UnreachableError } from '../errors.js';
import type { SshEndpoint } from './ssh-target.js';

/** Opens one hop's connection (over `sock`, a channel of the hop before, when there is one). */
export type HopConnector = (hop: SshEndpoint, sock: Duplex | undefined, onClosed: () => void) => Promise<SshClient>;

/** A share in a jump host's connection; `release` when the host behind it is done. */
export interface JumpLease {
  client: SshClient;
  hop: SshEndpoint;
  release(): void;
}

interface HopEntry {
  key: string;
  hop: SshEndpoint;
  client: Promise<SshClient>;
  refs: number;
  /** The lease on the hop before, held while this hop's connection lives. */
  links: { previous?: JumpLease };
}

/** Hops with the same settings after the same hops are the same connection. */
function keyOf(chain: readonly SshEndpoint[]): string {
  return JSON.stringify(chain.map((hop) => [hop.user, hop.address, hop.port, hop.identityFiles, hop.knownHostsFiles, hop.hostKeyPolicy.policy]));
}

/** The connection a channel is forwarded through, and how messages name it. */
export interface ForwardVia {
  client: SshClient;
  hop: Pick<SshEndpoint, 'host' | 'alias' | 'address' | 'port'>;
  /** What should listen at the far end, for the hint. Default `sshd`. */
  service?: string;
}

/** Why `hop` could not open a channel to `address:port`, in words for the operator. */
function forwardFailure(host: string, via: ForwardVia, address: string, port: number, error: Error): UnreachableError {
  const { hop } = via;
  const reason = error.message.replace(/^\(SSH\) Channel open failure: /, '');
  const prohibited = /prohibited/i.test(reason);
  return new UnreachableError(
    host,
    `${hop.host} (${hop.address}:${hop.port}) cannot connect to ${address}:${port}: ${reason}`,
    prohibited
      ? `the sshd of ${hop.alias} does not allow forwarding (AllowTcpForwarding / PermitOpen / DisableForwarding in its sshd_config)`
      : `is ${via.service ?? 'sshd'} listening on ${address}:${port}, and is that address right as ${hop.alias} sees it?`,
  );
}

/**
 * A channel from `lease`'s jump host to `address:port`, within `timeoutMs` (a jump host waits for the TCP
 * connection to the host before it answers, and that can take minutes when packets are dropped).
 */
export function forwardThrough(via: ForwardVia, host: string, address: string, port: number, timeoutMs: number): Promise<Duplex> {
  const { client, hop } = via;
  return new Promise<Duplex>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(
        new UnreachableError(
          host,
          `${hop.host} did not reach ${address}:${port} within ${timeoutMs / 1000} s`,
          'the host may be down, or a firewall between the jump host and the host drops the packets',
        ),
      );
    }, timeoutMs);
    try {
      client.forwardOut('127.0.0.1', 0, address, port, (error, stream) => {
        if (late) {
          stream.destroy();
          return;
        }
        clearTimeout(timer);
        if (error) reject(forwardFailure(host, via, address, port, error));
        else resolve(stream);
      });
    } catch (error) {
      clearTimeout(timer);
      reject(new UnreachableError(host, `lost the connection to ${hop.host}: ${(error as Error).message}`));
    }
  });
}

export class JumpHostPool {
  private readonly entries = new Map<string, HopEntry>();

  /** Connections open now (for tests and diagnostics). */
  get openCount(): number {
    return this.entries.size;
  }

  /** A share in the connection to the last hop of `chain`, opened (through the hops before it) if need be. */
  async acquire(chain: readonly SshEndpoint[], connect: HopConnector): Promise<JumpLease> {
    const hop = chain.at(-1);
    if (!hop) throw new Error('a jump chain needs at least one hop');
    const key = keyOf(chain);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = this.open(chain, hop, key, connect);
      this.entries.set(key, entry);
    }
    const held = entry;
    held.refs += 1;
    try {
      return { client: await held.client, hop, release: once(() => this.release(held)) };
    } catch (error) {
      this.release(held);
      throw error;
    }
  }

  private open(chain: readonly SshEndpoint[], hop: SshEndpoint, key: string, connect: HopConnector): HopEntry {
    const links: HopEntry['links'] = {};
    const forget = (): void => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    const client = (async () => {
      const before = chain.slice(0, -1);
      if (before.length > 0) links.previous = await this.acquire(before, connect);
      try {
        const sock = links.previous ? await forwardThrough(links.previous, hop.host, hop.address, hop.port, hop.connectTimeoutMs) : undefined;
        return await connect(hop, sock, forget);
      } catch (error) {
        links.previous?.release();
        throw error;
      }
    })();
    const entry: HopEntry = { key, hop, refs: 0, client, links };
    // A failed jump host is tried again by the next host that needs it, not remembered as failed.
    client.catch(forget);
    return entry;
  }

  private release(entry: HopEntry): void {
    entry.refs -= 1;
    if (entry.refs > 0) return;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    void entry.client.then(
      (client) => {
        client.end();
        entry.links.previous?.release();
      },
      () => undefined,
    );
  }
}

function once(work: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    work();
  };
}

/** Shared by every connection of this process unless a caller brings its own. */
export const sharedJumpHosts = new JumpHostPool();
