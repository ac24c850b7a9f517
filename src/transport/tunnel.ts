// A local port that leads, through a host's SSH connection, to a port as that host sees it: how the
// deploy host reaches an etcd member's client port (2379) when only SSH gets through (a member behind a
// jump host, a firewall that lets only port 22 in). Listens on 127.0.0.1 only.
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { UnreachableError } from '../errors.js';

/** What a tunnel needs from a connection: SshTransport.openChannelTo. */
export interface ChannelOpener {
  readonly host: string;
  openChannelTo(address: string, port: number, options?: { timeoutMs?: number; service?: string }): Promise<Duplex>;
}

export interface Tunnel {
  localAddress: '127.0.0.1';
  localPort: number;
  /** Stops listening and ends the connections through it. */
  close(): Promise<void>;
}

function pipeBoth(local: Socket, remote: Duplex): void {
  local.pipe(remote);
  remote.pipe(local);
  const end = (): void => {
    local.destroy();
    remote.destroy();
  };
  local.once('error', end);
  local.once('close', end);
  remote.once('error', end);
  remote.once('close', end);
}

/**
 * Opens 127.0.0.1:<free port>; every connection to it becomes a channel from `transport`'s host to
 * `remoteAddress:remotePort` (e.g. `127.0.0.1`, 2379 for the member's own client port). A connection the
 * host cannot make is closed at once, and the reason goes to `onError`.
 */
export async function openTunnel(
  transport: ChannelOpener,
  remoteAddress: string,
  remotePort: number,
  options: { onError?: (error: UnreachableError) => void } = {},
): Promise<Tunnel> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.pause();
    transport.openChannelTo(remoteAddress, remotePort, { service: 'the service' }).then(
      (channel) => {
        pipeBoth(socket, channel);
        socket.resume();
      },
      (error: unknown) => {
        socket.destroy();
        options.onError?.(error instanceof UnreachableError ? error : new UnreachableError(transport.host, String(error)));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the tunnel has no TCP port');
  return {
    localAddress: '127.0.0.1',
    localPort: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
